// Package discovery finds, for a name, the zone it lives in and every
// address of every authoritative server of that zone, by walking the
// delegation from the root servers as a resolver does, without asking any
// recursive resolver. Results are cached per zone and per name and shared
// across all the names of a run, so a provider's servers are resolved once.
package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/caaprobe/caaprobe/probes/lru"
	"github.com/miekg/dns"
)

// Zone is a zone cut and its servers as discovery found them.
type Zone struct {
	Name     string   // apex, lowercase FQDN
	Parent   string   // the zone that delegated it; "" for the root
	ParentNS []string // NS names in the parent's referral, sorted
	NS       []NS     // servers with their addresses, sorted by name
	DS       []*dns.DS
	// DSSigs are the RRSIGs over the DS RRset in the parent's referral; the
	// engine validates the DS set with the parent's keys (RFC 4035 §5.2).
	DSSigs []*dns.RRSIG
	// FromReferral says the zone was found through a referral, whose
	// authority section then holds DS or the proof that there is none.
	FromReferral bool
	// NoDS holds the NSEC/NSEC3 records and their RRSIGs from the
	// referral: a signed parent's proof that an unsigned child has no DS
	// (RFC 4035 §3.1.4), without which validators treat the child as bogus.
	NoDS   []dns.RR
	Pinned bool // servers given with --ns, not discovered
	// Limit says which limit cut the NS set short, when one did; the
	// engine reports it as limit-reached.
	Limit string
}

// NS is one authoritative server name and its addresses.
type NS struct {
	Name  string
	Addrs []netip.Addr
	Glue  bool   // addresses came from the parent's glue
	Err   string // why it has no address, when it has none
	// CNAME is set when the NS name is an alias (RFC 2181 §10.3 forbids
	// it); its addresses are the target's.
	CNAME string
	// GlueMismatch says how the parent's glue differs from the A/AAAA
	// records the zone itself publishes for an in-zone NS name.
	GlueMismatch string
}

// Name is what discovery knows of one name.
type Name struct {
	Name   string // lowercase FQDN
	Zone   *Zone
	Exists bool   // NOERROR seen for the name (it is the apex, has data, or is an empty non-terminal)
	CNAME  string // the alias target when the name is a CNAME
}

// Limits bound the walk; each is reported when reached.
type Limits struct {
	MaxReferrals int // referrals followed for one name
	MaxNS        int // NS names used per zone
	MaxDepth     int // nested NS-address lookups
}

// DefaultLimits are generous for real delegations and stop loops quickly.
var DefaultLimits = Limits{MaxReferrals: 16, MaxNS: 20, MaxDepth: 4}

// DefaultCacheSize holds the zones of the most recent 4,096 names: far
// more than the domains in flight, so names under one parent listed near
// each other share their discovery.
const DefaultCacheSize = 4096

// ErrLimit marks an error caused by reaching one of the Limits.
var ErrLimit = errors.New("limit reached")

// Walker walks delegations. It is safe for concurrent use.
type Walker struct {
	X      *probes.Exchanger
	Roots  []netip.Addr
	Port   int
	IPv4   bool
	IPv6   bool
	Limits Limits
	// CacheSize bounds each run-wide cache (zones, names, NS addresses);
	// 0 means DefaultCacheSize. Entries every domain needs stay in
	// because they keep being used; a run of 100,000 domains does not
	// keep 100,000 zones.
	CacheSize int
	// NoGlueCheck skips asking a zone's own servers for the addresses of
	// its in-zone NS names (the glue-mismatch check): a CA's CAA path
	// needs only the referral and the CAA answers, so the bulk CAA-only
	// plan leaves it to the full plan.
	NoGlueCheck bool

	mu    sync.Mutex
	fixed map[string]*Zone                // the root and pinned zones, for the whole run
	zones *lru.Cache[string, *Zone]       // discovered zones by apex
	names *lru.Cache[string, *nameFuture] // by name
	addrs *lru.Cache[string, *addrFuture] // by NS name
	// building holds zones under construction from a referral.
	building map[string]*zoneFuture
}

type zoneFuture struct {
	done chan struct{}
	zone *Zone
}

type nameFuture struct {
	done chan struct{}
	name *Name
	err  error
	cut  bool // the asker's context ended: no fact, waiters with time walk again
}

type addrFuture struct {
	done  chan struct{}
	addrs []netip.Addr
	err   error
	cut   bool // as nameFuture.cut
}

// Pin registers servers for a zone without discovering them (--ns).
func (w *Walker) Pin(zone string, servers []NS) {
	w.init()
	zone = dns.CanonicalName(zone)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fixed[zone] = &Zone{Name: zone, Parent: "", NS: servers, Pinned: true}
}

func (w *Walker) init() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.zones == nil {
		size := w.CacheSize
		if size <= 0 {
			size = DefaultCacheSize
		}
		w.fixed = map[string]*Zone{}
		w.zones = lru.New[string, *Zone](size)
		w.names = lru.New[string, *nameFuture](size)
		w.addrs = lru.New[string, *addrFuture](size)
		w.building = map[string]*zoneFuture{}
		var roots []netip.Addr
		for _, a := range w.Roots {
			if w.family(a) {
				roots = append(roots, a)
			}
		}
		w.fixed["."] = &Zone{Name: ".", NS: []NS{{Name: "root-hints", Addrs: roots}}}
		if w.Limits == (Limits{}) {
			w.Limits = DefaultLimits
		}
	}
}

func (w *Walker) family(a netip.Addr) bool {
	if !w.IPv4 && !w.IPv6 {
		return true
	}
	if a.Unmap().Is4() {
		return w.IPv4
	}
	return w.IPv6
}

// Zone returns the zone with apex name as discovery knows it, or nil: the
// engine climbs Parent links with it to validate the DNSSEC chain.
func (w *Walker) Zone(name string) *Zone {
	w.init()
	w.mu.Lock()
	defer w.mu.Unlock()
	z, _ := w.zone(dns.CanonicalName(name))
	return z
}

// zone finds a known zone by apex: the root and pinned zones are kept for
// the whole run, discovered ones while they are recently used. Callers
// hold w.mu.
func (w *Walker) zone(apex string) (*Zone, bool) {
	if z, ok := w.fixed[apex]; ok {
		return z, true
	}
	return w.zones.Get(apex)
}

// Lookup returns what is known of name, walking the delegation when needed.
func (w *Walker) Lookup(ctx context.Context, name string) (*Name, error) {
	return w.lookup(ctx, dns.CanonicalName(name), 0)
}

func (w *Walker) lookup(ctx context.Context, name string, depth int) (*Name, error) {
	w.init()
	w.mu.Lock()
	f, ok := w.names.Get(name)
	if !ok {
		f = &nameFuture{done: make(chan struct{})}
		w.names.Add(name, f)
	}
	w.mu.Unlock()
	if ok {
		if nested(ctx) && !isDone(f.done) {
			// See resolveAddrs: a nested lookup never waits on another's.
			return w.walk(ctx, name, depth)
		}
		select {
		case <-f.done:
			if f.cut && ctx.Err() == nil {
				// The first asker's deadline cut the walk short, not
				// the servers: walk again on this caller's time.
				return w.lookup(ctx, name, depth)
			}
			return f.name, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.name, f.err = w.walk(ctx, name, depth)
	if f.cut = ctx.Err() != nil; f.cut {
		// Cut short by the asking domain's deadline or an interrupt: not
		// a fact about the name, so later lookups walk again.
		w.mu.Lock()
		if cur, ok := w.names.Get(name); ok && cur == f {
			w.names.Remove(name)
		}
		w.mu.Unlock()
	}
	close(f.done)
	return f.name, f.err
}

// closest returns the deepest known zone that contains name.
func (w *Walker) closest(name string) *Zone {
	w.mu.Lock()
	defer w.mu.Unlock()
	for n := name; ; n = parentName(n) {
		if z, ok := w.zone(n); ok {
			return z
		}
		if n == "." {
			return w.fixed["."]
		}
	}
}

func (w *Walker) walk(ctx context.Context, name string, depth int) (*Name, error) {
	zone := w.closest(name)
	for hops := 0; ; hops++ {
		if hops > w.Limits.MaxReferrals {
			return nil, fmt.Errorf("%w: more than %d referrals for %s", ErrLimit, w.Limits.MaxReferrals, name)
		}
		if zone.Name == name && zone.Parent != "" || zone.Pinned && zone.Name == name {
			// A referral to the name itself: it is the apex of its zone.
			return &Name{Name: name, Zone: zone, Exists: true}, nil
		}
		m, err := w.ask(ctx, zone, name, dns.TypeNS, depth)
		if err != nil {
			return nil, err
		}
		if cut, ok := referral(m, zone.Name, name); ok {
			if cut == zone.Name || !dns.IsSubDomain(zone.Name, cut) {
				return nil, fmt.Errorf("%w: %s referred %s to %s, not below itself (referral loop)", ErrLimit, zone.Name, name, cut)
			}
			child, err := w.zoneFromReferral(ctx, zone.Name, cut, m, depth)
			if err != nil {
				return nil, err
			}
			zone = child
			continue
		}
		n := &Name{Name: name, Zone: zone, Exists: m.Rcode == dns.RcodeSuccess}
		for _, rr := range m.Answer {
			if !strings.EqualFold(rr.Header().Name, name) {
				continue
			}
			switch rr := rr.(type) {
			case *dns.CNAME:
				n.CNAME = dns.CanonicalName(rr.Target)
			case *dns.NS:
				if m.Authoritative && name != zone.Name {
					// The parent's server also serves the child: the
					// answer is the child's apex NS set.
					child, err := w.zoneFromAnswer(ctx, zone.Name, name, m, depth)
					if err != nil {
						return nil, err
					}
					n.Zone = child
				}
			}
		}
		if m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
			return nil, fmt.Errorf("servers of %s answer %s for %s NS", zone.Name, dns.RcodeToString[m.Rcode], name)
		}
		return n, nil
	}
}

// referral reports whether m hands name down to a child zone of zone.
func referral(m *dns.Msg, zone, name string) (string, bool) {
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) > 0 {
		return "", false
	}
	for _, rr := range m.Ns {
		if rr.Header().Rrtype == dns.TypeNS {
			owner := dns.CanonicalName(rr.Header().Name)
			if owner != zone && dns.IsSubDomain(owner, name) {
				return owner, true
			}
			if owner == zone && !m.Authoritative {
				// An upward or sideways referral: the server is lame.
				return owner, true
			}
		}
	}
	return "", false
}

func (w *Walker) zoneFromReferral(ctx context.Context, parent, cut string, m *dns.Msg, depth int) (*Zone, error) {
	w.mu.Lock()
	if z, ok := w.zone(cut); ok {
		w.mu.Unlock()
		return z, nil
	}
	// Many domains reach the same cut at once; one builds it, the others
	// wait, so its glue checks go out once. A nested lookup (resolving an
	// NS address) may be inside that very build, so it builds its own.
	if f, ok := w.building[cut]; ok && !nested(ctx) {
		w.mu.Unlock()
		select {
		case <-f.done:
			if f.zone != nil {
				return f.zone, nil
			}
			// The builder ran out of time and kept nothing: build it here.
			return w.zoneFromReferral(ctx, parent, cut, m, depth)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if _, ok := w.building[cut]; !ok {
		f := &zoneFuture{done: make(chan struct{})}
		w.building[cut] = f
		defer func() {
			w.mu.Lock()
			f.zone, _ = w.zone(cut)
			delete(w.building, cut)
			w.mu.Unlock()
			close(f.done)
		}()
	}
	w.mu.Unlock()
	z := &Zone{Name: cut, Parent: parent, FromReferral: true}
	var nsNames []string
	for _, rr := range m.Ns {
		switch rr := rr.(type) {
		case *dns.NS:
			if dns.CanonicalName(rr.Hdr.Name) == cut {
				nsNames = appendUnique(nsNames, dns.CanonicalName(rr.Ns))
			}
		case *dns.DS:
			if dns.CanonicalName(rr.Hdr.Name) == cut {
				z.DS = append(z.DS, rr)
			}
		case *dns.RRSIG:
			switch {
			case dns.CanonicalName(rr.Hdr.Name) == cut && rr.TypeCovered == dns.TypeDS:
				z.DSSigs = append(z.DSSigs, rr)
			case rr.TypeCovered == dns.TypeNSEC || rr.TypeCovered == dns.TypeNSEC3:
				z.NoDS = append(z.NoDS, rr)
			}
		case *dns.NSEC, *dns.NSEC3:
			z.NoDS = append(z.NoDS, rr)
		}
	}
	sort.Strings(nsNames)
	z.ParentNS = nsNames
	z.Limit = w.nsLimit(nsNames)
	z.NS = w.resolveNS(ctx, cut, nsNames, m.Extra, depth)
	w.checkGlue(ctx, z, depth)
	if ctx.Err() != nil {
		// Addresses left unresolved by a deadline are no fact about the
		// zone: use it for this domain, keep it for no other.
		return z, nil
	}
	return w.store(z), nil
}

// checkGlue asks the zone's own servers for the addresses of its in-zone NS
// names and notes where the parent's glue says otherwise: resolvers use
// the glue first, so a stale glue record sends them to the wrong place.
func (w *Walker) checkGlue(ctx context.Context, z *Zone, depth int) {
	if w.NoGlueCheck {
		return
	}
	for i := range z.NS {
		ns := &z.NS[i]
		if !ns.Glue || !dns.IsSubDomain(z.Name, ns.Name) {
			continue
		}
		var auth []netip.Addr
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			m, err := w.ask(ctx, z, ns.Name, t, depth)
			if err != nil {
				return // the zone's servers are judged by the probes
			}
			auth = append(auth, w.addrsIn(m, ns.Name)...)
		}
		if !sameAddrs(auth, ns.Addrs) {
			ns.GlueMismatch = fmt.Sprintf("glue for %s is %s; the zone says %s", strings.TrimSuffix(ns.Name, "."),
				addrList(ns.Addrs), addrList(auth))
		}
	}
}

// addrsIn collects the A and AAAA records of host in m's answer, in the
// families the walker uses.
func (w *Walker) addrsIn(m *dns.Msg, host string) []netip.Addr {
	var out []netip.Addr
	for _, rr := range m.Answer {
		if a, ok := addrOf(rr); ok && w.family(a) && strings.EqualFold(rr.Header().Name, host) {
			out = appendAddr(out, a)
		}
	}
	return out
}

// addrOf returns the address of an A or AAAA record.
func addrOf(rr dns.RR) (netip.Addr, bool) {
	var a netip.Addr
	switch rr := rr.(type) {
	case *dns.A:
		a, _ = netip.AddrFromSlice(rr.A.To4())
	case *dns.AAAA:
		a, _ = netip.AddrFromSlice(rr.AAAA)
	}
	return a, a.IsValid()
}

func sameAddrs(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func addrList(as []netip.Addr) string {
	if len(as) == 0 {
		return "no address"
	}
	var s []string
	for _, a := range as {
		s = append(s, a.String())
	}
	return strings.Join(s, ", ")
}

func (w *Walker) zoneFromAnswer(ctx context.Context, parent, apex string, m *dns.Msg, depth int) (*Zone, error) {
	var nsNames []string
	for _, rr := range m.Answer {
		if ns, ok := rr.(*dns.NS); ok && dns.CanonicalName(ns.Hdr.Name) == apex {
			nsNames = appendUnique(nsNames, dns.CanonicalName(ns.Ns))
		}
	}
	sort.Strings(nsNames)
	z := &Zone{Name: apex, Parent: parent, ParentNS: nsNames, Limit: w.nsLimit(nsNames)}
	z.NS = w.resolveNS(ctx, apex, nsNames, m.Extra, depth)
	if ctx.Err() != nil {
		return z, nil
	}
	return w.store(z), nil
}

func (w *Walker) store(z *Zone) *Zone {
	w.mu.Lock()
	defer w.mu.Unlock()
	if old, ok := w.zone(z.Name); ok && unresolved(old) <= unresolved(z) {
		// A nested lookup may have built the zone while its NS
		// addresses were still being resolved higher up (an NS name
		// that is an alias into the zone itself); keep the more
		// complete one.
		return old
	}
	w.zones.Add(z.Name, z)
	return z
}

// unresolved counts NS names without an address.
func unresolved(z *Zone) int {
	n := 0
	for _, ns := range z.NS {
		if len(ns.Addrs) == 0 {
			n++
		}
	}
	return n
}

// nsLimit describes the cut resolveNS makes to an NS set over MaxNS.
func (w *Walker) nsLimit(names []string) string {
	if len(names) <= w.Limits.MaxNS {
		return ""
	}
	return fmt.Sprintf("%d NS names, only the first %d (--max-ns) are used", len(names), w.Limits.MaxNS)
}

// resolveNS finds every address of every NS name: glue first, then an
// iterative lookup of A and AAAA for names without glue.
func (w *Walker) resolveNS(ctx context.Context, zone string, names []string, extra []dns.RR, depth int) []NS {
	if len(names) > w.Limits.MaxNS {
		names = names[:w.Limits.MaxNS]
	}
	out := make([]NS, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		out[i].Name = n
		for _, rr := range extra {
			if a, ok := addrOf(rr); ok && strings.EqualFold(rr.Header().Name, n) {
				out[i].Glue = true
				if w.family(a) {
					out[i].Addrs = appendAddr(out[i].Addrs, a)
				}
			}
		}
		if out[i].Glue {
			continue
		}
		wg.Add(1)
		go func(ns *NS) {
			defer wg.Done()
			addrs, err := w.resolveAddrs(ctx, ns.Name, zone, depth+1)
			ns.Addrs = addrs
			ns.CNAME = w.aliasOf(ns.Name)
			if err != nil {
				ns.Err = err.Error()
			} else if len(addrs) == 0 {
				ns.Err = "no A or AAAA records"
			}
		}(&out[i])
	}
	wg.Wait()
	return out
}

// resolveAddrs looks up A and AAAA of an NS name by the same iterative walk.
func (w *Walker) resolveAddrs(ctx context.Context, host, forZone string, depth int) ([]netip.Addr, error) {
	if depth > w.Limits.MaxDepth {
		return nil, fmt.Errorf("%w: NS address lookups nested more than %d deep (delegation cycle?)", ErrLimit, w.Limits.MaxDepth)
	}
	if dns.IsSubDomain(forZone, host) {
		// In-bailiwick without glue: only the zone's own servers could
		// answer, and those are the ones we are looking for.
		return nil, fmt.Errorf("%s is inside %s and the parent gives no glue", host, forZone)
	}
	chain, _ := ctx.Value(chainKey{}).([]string)
	for i, h := range chain {
		if h == host {
			var cycle []string
			for _, c := range append(chain[i:len(chain):len(chain)], host) {
				cycle = append(cycle, strings.TrimSuffix(c, "."))
			}
			return nil, fmt.Errorf("%w: delegation cycle %s (each NS name's address needs the next; no glue)",
				ErrLimit, strings.Join(cycle, " → "))
		}
	}
	ctx = context.WithValue(ctx, chainKey{}, append(chain[:len(chain):len(chain)], host))
	w.mu.Lock()
	f, ok := w.addrs.Get(host)
	if !ok {
		f = &addrFuture{done: make(chan struct{})}
		w.addrs.Add(host, f)
	}
	w.mu.Unlock()
	if ok {
		if len(chain) > 0 && !isDone(f.done) {
			// A nested lookup holds futures of its own; waiting on one
			// that another lookup holds could close a cycle of waits
			// (zone A's NS in B, B's in A, checked at once). Top-level
			// waiters hold no address future, so they may wait.
			tmp := &addrFuture{}
			w.fillAddrs(ctx, tmp, host, depth)
			return tmp.addrs, tmp.err
		}
		select {
		case <-f.done:
			if f.cut && ctx.Err() == nil {
				return w.resolveAddrs(context.WithValue(ctx, chainKey{}, chain), host, forZone, depth)
			}
			return f.addrs, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	defer close(f.done)
	w.fillAddrs(ctx, f, host, depth)
	if f.cut = ctx.Err() != nil; f.cut {
		w.mu.Lock()
		if cur, ok := w.addrs.Get(host); ok && cur == f {
			w.addrs.Remove(host)
		}
		w.mu.Unlock()
	}
	return f.addrs, f.err
}

// chainKey carries, in a context, the NS names whose addresses are being
// looked up on this path, outermost first, to detect delegation cycles.
type chainKey struct{}

func nested(ctx context.Context) bool {
	chain, _ := ctx.Value(chainKey{}).([]string)
	return len(chain) > 0
}

func isDone(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// aliasOf returns the CNAME target of a name already looked up, or "".
func (w *Walker) aliasOf(name string) string {
	w.mu.Lock()
	f, ok := w.names.Get(name)
	w.mu.Unlock()
	if !ok || !isDone(f.done) || f.name == nil {
		return ""
	}
	return f.name.CNAME
}

// fillAddrs looks host up and asks its zone's servers for A and AAAA.
func (w *Walker) fillAddrs(ctx context.Context, f *addrFuture, host string, depth int) {
	n, err := w.lookup(ctx, host, depth)
	if err != nil {
		f.err = fmt.Errorf("looking up %s: %w", host, err)
		return
	}
	var errs []string
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m, err := w.ask(ctx, n.Zone, host, t, depth)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		// Any owner: an in-zone CNAME comes with its target's records.
		for _, rr := range m.Answer {
			if a, ok := addrOf(rr); ok && w.family(a) {
				f.addrs = appendAddr(f.addrs, a)
			}
		}
	}
	if len(f.addrs) == 0 && n.CNAME != "" && n.CNAME != host {
		// An NS name that is an alias: resolvers that follow it reach
		// the target's addresses (one step; longer chains are refused).
		if t, err := w.lookup(ctx, n.CNAME, depth+1); err == nil {
			for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
				if m, err := w.ask(ctx, t.Zone, n.CNAME, qt, depth); err == nil {
					for _, a := range w.addrsIn(m, n.CNAME) {
						f.addrs = appendAddr(f.addrs, a)
					}
				}
			}
		}
	}
	if len(f.addrs) == 0 && len(errs) > 0 {
		f.err = errors.New(strings.Join(errs, "; "))
	}
}

// ask sends name/qtype to the servers of zone, one address after another,
// until one gives a usable reply.
func (w *Walker) ask(ctx context.Context, zone *Zone, name string, qtype uint16, depth int) (*dns.Msg, error) {
	var tried []string
	for _, ns := range zone.NS {
		for _, a := range ns.Addrs {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			for _, edns := range []bool{true, false} {
				q, err := probes.BuildQuery(name, qtype, edns, edns)
				if err != nil {
					return nil, fmt.Errorf("query for %s: %w", name, err)
				}
				ex := probes.Final(w.X.ExchangeTC(ctx, netip.AddrPortFrom(a, uint16(w.Port)), q))
				if ex.Reply == nil {
					tried = append(tried, fmt.Sprintf("%s: %v", a, ex.Err))
					break
				}
				m := new(dns.Msg)
				if err := m.Unpack(ex.Reply); err != nil {
					tried = append(tried, fmt.Sprintf("%s: %v", a, err))
					break
				}
				if edns && (m.Rcode == dns.RcodeFormatError || m.Rcode == dns.RcodeNotImplemented) {
					continue // an EDNS-intolerant server: ask again without OPT
				}
				if m.Rcode == dns.RcodeSuccess || m.Rcode == dns.RcodeNameError {
					return m, nil
				}
				tried = append(tried, fmt.Sprintf("%s: %s", a, dns.RcodeToString[m.Rcode]))
				break
			}
		}
	}
	if len(tried) == 0 {
		return nil, fmt.Errorf("zone %s has no server address to ask", zone.Name)
	}
	return nil, fmt.Errorf("no server of %s answered %s %s (%s)", zone.Name, name, probes.TypeString(qtype), strings.Join(tried, "; "))
}

func parentName(n string) string {
	i, end := dns.NextLabel(n, 0)
	if end {
		return "."
	}
	return n[i:]
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func appendAddr(s []netip.Addr, a netip.Addr) []netip.Addr {
	a = a.Unmap()
	for _, x := range s {
		if x == a {
			return s
		}
	}
	return append(s, a)
}
