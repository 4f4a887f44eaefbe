// Package discovery finds, for a name, the zone it lives in and every
// address of every authoritative server of that zone, by walking the
// delegation from the root servers as a resolver does, without asking any
// recursive resolver.
//
// The walk is a loop over classified replies (see classify): a referral
// down or a negative answer whose SOA names a deeper apex is a zone cut; a
// lame reply (an upward or sideways referral, REFUSED, an empty reply
// without AA) is noted on that server and the next address is asked. For
// every cut the DS RRset, or the parent's proof that there is none, is
// kept in the Zone, asked of the parent's servers when the referral did not
// carry it. Queries go through an injected Querier, so the walk is tested
// on canned replies. Names, NS addresses and zones are shared work
// (lru.Work) across all the names of a run, so a provider's servers are
// resolved once.
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
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/lru"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/transport"
	"github.com/miekg/dns"
)

// Zone is a zone cut and its servers as discovery found them.
type Zone struct {
	Name     model.DomainName // apex
	Parent   model.DomainName // the zone that delegated it; none for the root and a pinned zone
	ParentNS []string         // NS names in the parent's referral (or the apex's, when co-hosted), sorted
	NS       []NS             // servers with their addresses, sorted by name
	DS       []*dns.DS
	// DSSigs are the RRSIGs over the DS RRset from the parent; the engine
	// validates the DS set with the parent's keys (RFC 4035 §5.2).
	DSSigs []*dns.RRSIG
	// FromReferral says the zone was found through a referral. A zone
	// found otherwise is CoHosted: its parent's servers serve it too and
	// answered with its apex data instead of referring.
	FromReferral bool
	CoHosted     bool
	// NoDS holds the NSEC/NSEC3 records and their RRSIGs by which the
	// parent proves that the zone has no DS (RFC 4035 §3.1.4), from the
	// referral or from the parent's answer to "zone DS"; without the
	// proof a validator under a signed parent treats the zone as bogus.
	NoDS   []dns.RR
	Pinned bool // servers given with --ns, not discovered
	// Limit says which limit cut the NS set short, when one did; the
	// engine reports it as limit-reached.
	Limit string

	mu   sync.Mutex
	lame []Lame
}

// Lame is a server address of a zone that answered the walk as if it did
// not serve the zone: the engine reports it as lame-server.
type Lame struct {
	NS     string
	Addr   netip.Addr
	Detail string
}

// Lame returns the server addresses found lame so far, in the order seen.
func (z *Zone) Lame() []Lame {
	z.mu.Lock()
	defer z.mu.Unlock()
	return slices.Clone(z.lame)
}

func (z *Zone) noteLame(ns string, a netip.Addr, why string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	for _, l := range z.lame {
		if l.Addr == a && l.NS == ns {
			return
		}
	}
	z.lame = append(z.lame, Lame{NS: ns, Addr: a, Detail: why})
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
	Name   model.DomainName
	Zone   *Zone
	Exists bool             // NOERROR seen for the name (it is the apex, has data, or is an empty non-terminal)
	CNAME  model.DomainName // the alias target when the name is a CNAME (or a DNAME above it redirects it)
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

// defaultBudget bounds one shared computation (a name's walk, a zone's
// servers) of a walker given no Budget: it runs for every domain that
// needs it, under no one domain's deadline.
const defaultBudget = 2 * time.Minute

// ErrLimit marks an error caused by reaching one of the Limits.
var ErrLimit = errors.New("limit reached")

// Walker walks delegations. It is safe for concurrent use.
type Walker struct {
	// X is the exchanger (retries, rate limit, transport) the production
	// Querier sends through.
	X transport.Exchanger
	// Q, when set, replaces X (and Port): tests give canned replies.
	Q      Querier
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
	// Budget bounds each shared computation; the engine passes its step
	// budget (--deadline, see check.Budget); 0 means defaultBudget.
	Budget time.Duration
	// NoGlueCheck skips asking a zone's own servers for the addresses of
	// its in-zone NS names (the glue-mismatch check): a CA's CAA path
	// needs only the referral and the CAA answers, so the bulk CAA-only
	// plan leaves it to the full plan.
	NoGlueCheck bool

	once  sync.Once
	q     Querier
	mu    sync.Mutex
	fixed map[model.DomainName]*Zone // the root and pinned zones, for the whole run
	names *lru.Work[model.DomainName, nameResult]
	addrs *lru.Work[string, addrResult]      // by NS name
	zones *lru.Work[model.DomainName, *Zone] // discovered zones by apex
}

type nameResult struct {
	name *Name
	err  error
}

type addrResult struct {
	addrs []netip.Addr
	cname string
	err   error
}

// chain is the NS names whose addresses are being looked up on one path of
// lookups, outermost first: a name met twice is a delegation cycle. Work
// done while the chain is not empty is nested inside other shared work
// and never waits on work in flight (lru.Work.DoNested).
type chain []string

func (c chain) with(host string) chain { return append(c[:len(c):len(c)], host) }

// Pin registers servers for a zone without discovering them (--ns).
func (w *Walker) Pin(zone model.DomainName, servers []NS) {
	w.init()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fixed[zone] = &Zone{Name: zone, NS: servers, Pinned: true}
}

func (w *Walker) init() {
	w.once.Do(func() {
		size := w.CacheSize
		if size <= 0 {
			size = DefaultCacheSize
		}
		budget := w.Budget
		if budget <= 0 {
			budget = defaultBudget
		}
		w.q = w.Q
		if w.q == nil {
			w.q = exchangeQuerier{x: w.X, port: w.Port}
		}
		w.fixed = map[model.DomainName]*Zone{}
		w.names = lru.NewWork[model.DomainName, nameResult](size, budget)
		w.addrs = lru.NewWork[string, addrResult](size, budget)
		w.zones = lru.NewWork[model.DomainName, *Zone](size, budget)
		// Nothing looked up while this host failed (out of file
		// descriptors) is kept: a lookup that failed locally is no fact
		// about the servers (model.ErrLocal).
		w.names.SetEpoch(transport.LocalErrors)
		w.addrs.SetEpoch(transport.LocalErrors)
		w.zones.SetEpoch(transport.LocalErrors)
		var roots []netip.Addr
		for _, a := range w.Roots {
			if w.family(a) {
				roots = append(roots, a)
			}
		}
		w.fixed[model.Root] = &Zone{Name: model.Root, NS: []NS{{Name: "root-hints", Addrs: roots}}}
		if w.Limits == (Limits{}) {
			w.Limits = DefaultLimits
		}
	})
}

// Close cancels the walker's shared computations in flight (see lru.Work):
// the end of a run, or an interrupt.
func (w *Walker) Close() {
	w.init()
	w.names.Close()
	w.addrs.Close()
	w.zones.Close()
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
func (w *Walker) Zone(name model.DomainName) *Zone {
	w.init()
	return w.known(name)
}

// known finds a zone by apex: the root and pinned zones are kept for the
// whole run, discovered ones while they are recently used.
func (w *Walker) known(apex model.DomainName) *Zone {
	w.mu.Lock()
	z, ok := w.fixed[apex]
	w.mu.Unlock()
	if ok {
		return z
	}
	z, _ = w.zones.Peek(apex)
	return z
}

// closest returns the deepest known zone that contains name, and marks it
// used, so that the zones every name starts from (a TLD, a provider's
// parent zone) stay cached while single-use ones are evicted.
func (w *Walker) closest(name model.DomainName) *Zone {
	for n := name; ; n = n.Parent() {
		if z := w.known(n); z != nil {
			if !z.Pinned && !n.IsRoot() {
				// Do on a finished key is a cache hit that counts as a
				// use (Peek does not); the compute only runs if the zone
				// was evicted in between, and then stores it again.
				w.zones.Do(context.Background(), n, func(context.Context) (*Zone, bool) { return z, true })
			}
			return z
		}
		if n.IsRoot() || n.IsZero() {
			return w.known(model.Root)
		}
	}
}

// Lookup returns what is known of name, walking the delegation when needed.
func (w *Walker) Lookup(ctx context.Context, name model.DomainName) (*Name, error) {
	w.init()
	return w.lookup(ctx, name, nil)
}

func (w *Walker) lookup(ctx context.Context, name model.DomainName, ch chain) (*Name, error) {
	r, err := do(ctx, w.names, name, ch, func(ctx context.Context) (nameResult, bool) {
		n, err := w.walk(ctx, name, ch)
		return nameResult{n, err}, ctx.Err() == nil
	})
	if err != nil {
		return nil, err
	}
	return r.name, r.err
}

// do runs shared work: waiting for a computation in flight at the top of
// a path, computing it anew inside other shared work.
func do[K comparable, V any](ctx context.Context, work *lru.Work[K, V], key K, ch chain, compute func(context.Context) (V, bool)) (V, error) {
	if len(ch) > 0 {
		v, _ := work.DoNested(ctx, key, compute)
		return v, ctx.Err()
	}
	v, _, err := work.Do(ctx, key, compute)
	return v, err
}

func (w *Walker) walk(ctx context.Context, name model.DomainName, ch chain) (*Name, error) {
	zone := w.closest(name)
	for hops := 0; ; hops++ {
		if hops > w.Limits.MaxReferrals {
			return nil, fmt.Errorf("%w: more than %d referrals for %s", ErrLimit, w.Limits.MaxReferrals, name)
		}
		if zone.Name == name && (!zone.Parent.IsZero() || zone.Pinned) {
			// A cut at the name itself: it is the apex of its zone.
			return &Name{Name: name, Zone: zone, Exists: true}, nil
		}
		r, err := w.ask(ctx, zone, name.String(), dns.TypeNS)
		if err != nil {
			return nil, err
		}
		switch r.kind {
		case kindReferral:
			if zone, err = w.referred(ctx, zone, r.cut, r.msg, ch); err != nil {
				return nil, err
			}
			continue
		case kindAnswer:
			if name != zone.Name {
				// An authoritative NS set at the name from the parent's
				// server: the server serves the child too (co-hosted).
				child, err := w.coHosted(ctx, zone, name, r.msg, ch)
				if err != nil {
					return nil, err
				}
				return &Name{Name: name, Zone: child, Exists: true}, nil
			}
			return &Name{Name: name, Zone: zone, Exists: true}, nil
		case kindNoData, kindNXDomain:
			if r.cut != zone.Name {
				// The SOA of a zone below: the same servers serve a child
				// on the name's path without referring to it.
				if zone, err = w.coHosted(ctx, zone, r.cut, nil, ch); err != nil {
					return nil, err
				}
				continue
			}
			return &Name{Name: name, Zone: zone, Exists: r.kind == kindNoData}, nil
		case kindAlias, kindDNAME:
			return &Name{Name: name, Zone: zone, Exists: true, CNAME: r.target}, nil
		}
		return nil, fmt.Errorf("servers of %s: unexpected %s reply for %s NS", zone.Name, r.kind, name)
	}
}

// ask sends name/qtype to the servers of zone, one address after another,
// until one gives a useful reply: an answer, a referral down, a negative
// answer or an alias. A lame server is noted on the zone and skipped; the
// name fails only when no server answers usefully.
func (w *Walker) ask(ctx context.Context, zone *Zone, name string, qtype uint16) (reply, error) {
	var tried []string
	for _, ns := range zone.NS {
		for _, a := range ns.Addrs {
			if err := ctx.Err(); err != nil {
				return reply{}, err
			}
			m, err := w.q.Query(ctx, a, name, qtype)
			if err != nil {
				tried = append(tried, fmt.Sprintf("%s: %v", a, err))
				continue
			}
			r := classify(m, zone.Name, name, qtype)
			switch r.kind {
			case kindLame:
				zone.noteLame(ns.Name, a, fmt.Sprintf("%s %s: %s", trim(name), catalog.TypeString(qtype), r.why))
				tried = append(tried, fmt.Sprintf("%s: lame (%s)", a, r.why))
				continue
			case kindError:
				tried = append(tried, fmt.Sprintf("%s: %s", a, r.why))
				continue
			}
			return r, nil
		}
	}
	if len(tried) == 0 {
		var why []string
		for _, ns := range zone.NS {
			if ns.Err != "" {
				why = append(why, trim(ns.Name)+": "+ns.Err)
			}
		}
		if len(why) > 0 {
			return reply{}, fmt.Errorf("zone %s has no server address to ask (%s)", zone.Name, strings.Join(why, "; "))
		}
		return reply{}, fmt.Errorf("zone %s has no server address to ask", zone.Name)
	}
	return reply{}, fmt.Errorf("no server of %s answered %s %s (%s)", zone.Name, name, catalog.TypeString(qtype), strings.Join(tried, "; "))
}

// referred returns the child zone a referral from parent hands down: the
// one known, or one built from the referral.
func (w *Walker) referred(ctx context.Context, parent *Zone, cut model.DomainName, m *dns.Msg, ch chain) (*Zone, error) {
	if z := w.known(cut); z != nil {
		return z, nil
	}
	return do(ctx, w.zones, cut, ch, func(ctx context.Context) (*Zone, bool) {
		z := &Zone{Name: cut, Parent: parent.Name, FromReferral: true}
		nsNames := nsNamesIn(m.Ns, cut)
		dsFrom(z, m.Ns)
		if len(z.DS) == 0 && len(z.NoDS) == 0 && parentSigned(parent) {
			// A signed parent's referral carries the DS or the proof
			// that there is none; this one did not: ask for it.
			w.fetchDS(ctx, parent, z)
		}
		z.ParentNS = nsNames
		z.Limit = w.nsLimit(nsNames)
		z.NS = w.resolveNS(ctx, cut, nsNames, m.Extra, true, ch)
		w.checkGlue(ctx, z)
		return z, ctx.Err() == nil
	})
}

// parentSigned guesses whether a zone is signed from what discovery saw:
// the root always is, and a zone whose parent published a DS for it.
func parentSigned(z *Zone) bool { return z.Name.IsRoot() || len(z.DS) > 0 }

// coHosted builds the zone at apex, a cut below parent that parent's
// servers answer for themselves: its NS set from the apex (nsMsg, or
// asked now), its DS asked of the parent's servers explicitly.
func (w *Walker) coHosted(ctx context.Context, parent *Zone, apex model.DomainName, nsMsg *dns.Msg, ch chain) (*Zone, error) {
	if z := w.known(apex); z != nil {
		return z, nil
	}
	z, err := do(ctx, w.zones, apex, ch, func(ctx context.Context) (*Zone, bool) {
		m := nsMsg
		if m == nil {
			r, err := w.ask(ctx, parent, apex.String(), dns.TypeNS)
			if err != nil || r.kind != kindAnswer {
				return nil, false
			}
			m = r.msg
		}
		z := &Zone{Name: apex, Parent: parent.Name, CoHosted: true}
		nsNames := nsNamesIn(m.Answer, apex)
		w.fetchDS(ctx, parent, z)
		z.ParentNS = nsNames
		z.Limit = w.nsLimit(nsNames)
		z.NS = w.resolveNS(ctx, apex, nsNames, m.Extra, false, ch)
		return z, ctx.Err() == nil
	})
	if err != nil {
		return nil, err
	}
	if z == nil {
		return nil, fmt.Errorf("servers of %s show a zone cut at %s but give no NS set for it", parent.Name, apex)
	}
	return z, nil
}

// fetchDS asks the parent's servers for the child's DS RRset with DO and
// keeps the DS and its RRSIGs, or the NSEC/NSEC3 proof that there is none.
// A parent that gives neither leaves both empty: the engine then finds the
// proof missing when the parent is signed.
func (w *Walker) fetchDS(ctx context.Context, parent *Zone, z *Zone) {
	r, err := w.ask(ctx, parent, z.Name.String(), dns.TypeDS)
	if err != nil {
		return
	}
	switch r.kind {
	case kindAnswer:
		dsFrom(z, r.msg.Answer)
	case kindNoData, kindNXDomain, kindReferral:
		dsFrom(z, r.msg.Ns)
	}
}

// dsFrom keeps the DS records of z and their RRSIGs, and the NSEC/NSEC3
// records and their RRSIGs, found in one section.
func dsFrom(z *Zone, section []dns.RR) {
	for _, rr := range section {
		switch rr := rr.(type) {
		case *dns.DS:
			if wireName(rr.Hdr.Name) == z.Name {
				z.DS = append(z.DS, rr)
			}
		case *dns.RRSIG:
			switch {
			case wireName(rr.Hdr.Name) == z.Name && rr.TypeCovered == dns.TypeDS:
				z.DSSigs = append(z.DSSigs, rr)
			case rr.TypeCovered == dns.TypeNSEC || rr.TypeCovered == dns.TypeNSEC3:
				z.NoDS = append(z.NoDS, rr)
			}
		case *dns.NSEC, *dns.NSEC3:
			z.NoDS = append(z.NoDS, rr)
		}
	}
	if len(z.DS) > 0 {
		z.NoDS = nil
	}
}

func nsNamesIn(section []dns.RR, owner model.DomainName) []string {
	var out []string
	for _, rr := range section {
		if ns, ok := rr.(*dns.NS); ok && wireName(ns.Hdr.Name) == owner {
			out = appendUnique(out, dns.CanonicalName(ns.Ns))
		}
	}
	sort.Strings(out)
	return out
}

// nsLimit describes the cut resolveNS makes to an NS set over MaxNS.
func (w *Walker) nsLimit(names []string) string {
	if len(names) <= w.Limits.MaxNS {
		return ""
	}
	return fmt.Sprintf("%d NS names, only the first %d (--max-ns) are used", len(names), w.Limits.MaxNS)
}

// wireName reads a name as miekg/dns wrote it from a message: always a
// name, so never an error; anything else would be no name, which matches
// no zone.
func wireName(s string) model.DomainName {
	n, _ := model.ParseName(s)
	return n
}

func appendUnique(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}
