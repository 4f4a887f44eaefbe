// Package check is the engine: for each input name it finds the relevant
// names (RFC 8659 climb), discovers their zones and servers, plans and sends
// the probes, judges and cross-checks the replies, and hands a finished
// model.Domain to the caller. The data flows one way:
// names → discovery → plan → exchange → judge → cross-checks → report.
package check

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/discovery"
	"github.com/caaprobe/caaprobe/probes/dnssec"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/lru"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/predict"
	"github.com/caaprobe/caaprobe/probes/predict/boulder"
	"github.com/caaprobe/caaprobe/probes/predict/models"
	"github.com/caaprobe/caaprobe/probes/resolver"
	"github.com/caaprobe/caaprobe/probes/transport"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// Config is what a run needs to know.
type Config struct {
	Roots   []netip.Addr
	Port    int
	Timeout time.Duration // per attempt (--timeout); see Budget
	Retries int           // further attempts after a timeout (--retries)
	// Backoff is the pause before the first retry, doubling each time; 0
	// means Timeout/10.
	Backoff    time.Duration
	Probes     []model.ProbeID // nil: every probe of the catalog
	CA         string          // for the policy line
	IPv4, IPv6 bool            // restrict address families; neither means both
	Pins       map[model.DomainName][]discovery.NS
	// Parallel bounds the exchanges in flight for one domain.
	Parallel int
	// DomainTimeout bounds the whole check of one domain.
	DomainTimeout time.Duration
	Limits        discovery.Limits
	// MaxBytes is the largest reply accepted from one exchange; a larger
	// one is reported as limit-reached. 0 means 65535, the DNS maximum.
	MaxBytes int
	// Rate is the most queries a second sent to any one server address
	// (root and TLD servers too), with bursts of Burst; 0 means no limit.
	// The command line's default is DefaultRate.
	Rate  float64
	Burst int
	// MaxCNAME bounds CNAME chains; 0 means 8.
	MaxCNAME int
	// Resolver, when valid, is a validating resolver asked for every
	// relevant name's CAA next to the probes, to compare its RCODE, AD bit
	// and Extended DNS Errors with the predicted outcome.
	Resolver netip.AddrPort
	// ResolverTimeout bounds each query to Resolver; 0 means
	// resolver.DefaultTimeout.
	ResolverTimeout time.Duration
	// TrustAnchor is the DS or DNSKEY records a validating resolver trusts
	// (--trust-anchor, the lab's Lab.TrustAnchor): the root's, and those of
	// any zone that is validated from its own anchor instead of its parent
	// (a zone whose DS is not published yet, or a private island of trust).
	// Without root records, IANA's root anchor (IANARootAnchors) is used.
	TrustAnchor []dns.RR
	// OnNoAnchor, when set, is called once per Checker with a warning
	// (what is wrong and the fix) when the root in use matches no trust
	// anchor, so that every name's DNSSEC is indeterminate.
	OnNoAnchor func(warning string)
	// Exchanger, when set, is the transport under the retries and the
	// rate limit instead of real sockets: tests give a fake
	// (probes/internal/transporttest). It serves the --resolver too.
	Exchanger transport.Exchanger
	// Source, when valid, is the local address every query leaves from
	// (transport.Socket.Source): a perspective agent's vantage.
	Source netip.Addr
	// Repeat, above 1, checks each domain that many times, each try with
	// cold caches, and reports the worst try with what all of them saw
	// (repeat.go); at most MaxRepeat.
	Repeat int
}

// Budget is every time limit of a run in one place: per attempt, the
// retries and their backoff, per piece of shared work (step) and per
// domain. Config's fields set it (Config.Budget fills the defaults); the
// Checker hands each part to the layer it bounds: Attempt to the socket,
// Retries and Backoff to transport.Retry, Step to the discovery walker
// and the shared work, Domain to each Check.
type Budget struct {
	Attempt  time.Duration // one query attempt to an authoritative server
	Retries  int           // further attempts after a timeout
	Backoff  time.Duration // pause before the first retry, doubling each time
	Resolver time.Duration // one query attempt to the --resolver
	// Step bounds one piece of work shared between domains (a name's
	// walk, a zone's servers, a unit, a DNSSEC chain, a --resolver
	// answer): --deadline when set, else defaultStepBudget.
	Step   time.Duration
	Domain time.Duration // the whole check of one domain (--deadline); 0 means none
}

// Budget returns the run's time limits with the defaults filled in.
func (cfg Config) Budget() Budget {
	b := Budget{Attempt: cfg.Timeout, Retries: cfg.Retries, Backoff: cfg.Backoff, Resolver: cfg.ResolverTimeout,
		Step: cfg.DomainTimeout, Domain: cfg.DomainTimeout}
	if b.Attempt <= 0 {
		b.Attempt = 2 * time.Second
	}
	if b.Backoff <= 0 {
		b.Backoff = b.Attempt / 10
	}
	if b.Resolver <= 0 {
		b.Resolver = resolver.DefaultTimeout
	}
	if b.Step <= 0 {
		b.Step = defaultStepBudget
	}
	if b.Domain < 0 {
		b.Domain = 0
	}
	return b
}

// Finished units kept (see lru.Work and lru.Segmented): the probation
// segment holds a domain's own name long enough for subdomains listed near
// it (the run's window holds 4×concurrency domains, and most names are
// used by one domain only); the protected segment holds the names asked
// for a second time, the shared ones (TLDs, parents) of a run. Measured
// with `caaprobe bench-lab`: a full-plan unit is about 20 KB, so probation
// costs under 3 MB, and protected only what a run really shares.
// Politeness defaults, the command line's (see transport.Limiter).
const (
	DefaultRate  = transport.DefaultRate
	DefaultBurst = transport.DefaultBurst
)

const (
	unitsProbation = 128
	unitsProtected = 4096
)

// defaultStepBudget bounds one piece of shared work (a unit, a DNSSEC
// chain, a --resolver answer) when Config.DomainTimeout is not set.
const defaultStepBudget = 2 * time.Minute

// Checker checks domains. One Checker serves a whole run, so discovery
// results and probe results for shared names are reused across domains.
type Checker struct {
	cfg    Config
	budget Budget
	// X is what every query to an authoritative server goes through:
	// retries over the per-address rate limit over the transport.
	X      *transport.Retry
	walker *discovery.Walker
	probes []catalog.Probe
	// closeSock releases the sockets the transport keeps for reuse.
	closeSock func()
	// Work shared between the domains of a run (see lru.Work): computed
	// once per key under the Checker's own context with a per-step budget,
	// so one domain's deadline limits only that domain's wait.
	units   *lru.Work[model.DomainName, *unit]      // probing of one name at its servers
	trusts  *lru.Work[model.DomainName, *zoneTrust] // DNSSEC chain status per zone
	anchors map[model.DomainName][]*dns.DS          // DS sets by zone, from Config.TrustAnchor; the root's always
	// noAnchorOnce makes Config.OnNoAnchor a once-per-run warning.
	noAnchorOnce sync.Once
	// resolved holds the --resolver answers per name.
	resolved *lru.Work[model.DomainName, model.Answer]
	// instances holds the instance probes' results (CH TXT hostname.bind,
	// id.server) per probe and address: one query per address and run,
	// however many zones the address serves.
	instances *lru.Work[string, *model.Result]
	// rx asks the --resolver: its own timeout, since a resolver
	// legitimately takes longer than an authoritative server, and the same
	// per-address rate limit as every server caaprobe asks.
	rx *transport.Retry
	// limit is the per-address rate limit under X and rx.
	limit *transport.Limiter
	// models are the resolver models registered when the Checker was
	// made, the default first (probes/predict/models).
	models []predict.Model
}

// New makes a Checker.
func New(cfg Config) *Checker { return newChecker(cfg, nil) }

// newChecker makes a Checker whose exchanges wait on limit, or on a new
// limiter from cfg when limit is nil: the tries of a repeated check share
// their run's, so the per-address rate holds across them.
func newChecker(cfg Config, limit *transport.Limiter) *Checker {
	if cfg.Parallel == 0 {
		cfg.Parallel = DefaultParallel
	}
	if cfg.CA == "" {
		cfg.CA = "letsencrypt.org"
	}
	if cfg.Port == 0 {
		cfg.Port = 53
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 65535
	}
	b := cfg.Budget()
	cfg.Timeout, cfg.ResolverTimeout = b.Attempt, b.Resolver
	base, rbase := cfg.Exchanger, cfg.Exchanger
	closeSock := func() {}
	if base == nil {
		sock := &transport.Socket{Timeout: b.Attempt, MaxBytes: cfg.MaxBytes, Source: cfg.Source, Reuse: transport.DefaultReuse}
		base, closeSock = sock, sock.Close
		rbase = &transport.Socket{Timeout: b.Resolver, MaxBytes: 65535, Source: cfg.Source}
	}
	// One limiter for both: the --resolver gets the same per-address
	// politeness as every server caaprobe asks.
	if limit == nil {
		limit = transport.NewLimiter(cfg.Rate, cfg.Burst)
	}
	x := transport.New(base, limit, b.Retries, b.Backoff)
	w := &discovery.Walker{X: x, Roots: cfg.Roots, Port: cfg.Port, IPv4: cfg.IPv4, IPv6: cfg.IPv6, Limits: cfg.Limits,
		NoGlueCheck: !planHas(cfg.Probes, catalog.ProbeNS), Budget: b.Step}
	for zone, ns := range cfg.Pins {
		w.Pin(zone, ns)
	}
	c := &Checker{cfg: cfg, budget: b, X: x, walker: w, units: lru.NewWorkSegments[model.DomainName, *unit](unitsProbation, unitsProtected, b.Step),
		trusts:    lru.NewWork[model.DomainName, *zoneTrust](discovery.DefaultCacheSize, b.Step),
		resolved:  lru.NewWork[model.DomainName, model.Answer](discovery.DefaultCacheSize, b.Step),
		instances: lru.NewWork[string, *model.Result](discovery.DefaultCacheSize, b.Step),
		rx:        transport.New(rbase, limit, 0, 0), limit: limit, closeSock: closeSock,
		models: models.Models()}
	c.watchLocal()
	if c.anchors = anchorsByZone(cfg.TrustAnchor); len(c.anchors[model.Root]) == 0 {
		c.anchors[model.Root] = anchorsByZone(IANARootAnchors())[model.Root]
	}
	want := map[model.ProbeID]bool{}
	for _, id := range cfg.Probes {
		want[id] = true
	}
	for _, p := range catalog.Catalog {
		if len(want) == 0 || want[p.ID] {
			c.probes = append(c.probes, p)
		}
	}
	return c
}

// Close cancels the shared work still in flight (probe units, DNSSEC
// chains, --resolver answers); checks after Close come out cut short.
func (c *Checker) Close() {
	c.closeSock()
	c.walker.Close()
	c.units.Close()
	c.trusts.Close()
	c.resolved.Close()
	c.instances.Close()
}

// planHas reports whether the plan (nil: the whole catalog) has probe id.
// The glue check belongs with the ns probe, which checks the delegation:
// the bulk CAA-only plan (--probes caa) sends what a CA's path needs, the
// referrals and the CAA queries, and not the NS-address checks.
func planHas(plan []model.ProbeID, id model.ProbeID) bool {
	return plan == nil || slices.Contains(plan, id)
}

// Check checks one domain ("example.com" or "*.example.com").
func (c *Checker) Check(ctx context.Context, domain string) *model.Domain {
	d := &model.Domain{Domain: domain}
	if c.budget.Domain > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.budget.Domain)
		defer cancel()
	}
	names := relevantNames(domain)
	if len(names) == 0 {
		d.Err = fmt.Sprintf("%q is not a domain name", domain)
		judge.Summarise(d)
		return d
	}
	// Discover every relevant name's zone; ancestors hit the cache. A
	// name that cannot be discovered keeps its place in the climb (errs),
	// since Boulder's walk reads the names in order (boulder.Policy).
	infos := make([]*discovery.Name, len(names))
	errs := make([]string, len(names))
	for i, n := range names {
		info, err := c.walker.Lookup(ctx, n)
		if err != nil {
			if i == 0 {
				err = fmt.Errorf("discovery of %s: %w", n.Display(), err)
				if ctx.Err() != nil {
					err = fmt.Errorf("%w: deadline for the domain reached", err)
				}
				d.Err = err.Error()
				judge.Summarise(d)
				return d
			}
			errs[i] = err.Error()
			continue
		}
		infos[i] = info
	}
	// A CA's resolver follows a CNAME at a relevant name and reads the
	// target's CAA RRset, so the target's servers are on its path too.
	// A chain that comes back to a name already on it, or outgrows
	// --max-cname, fails the resolver's lookup with every server healthy:
	// the link that closes it carries the error, and a finding says so.
	aliasOf := map[model.DomainName]model.DomainName{}
	index := map[model.DomainName]int{}
	for i, n := range names {
		index[n] = i
	}
	for _, info := range slices.Clone(infos) {
		if info == nil {
			continue
		}
		chain := []model.DomainName{info.Name}
		for cur := info; cur != nil && !cur.CNAME.IsZero(); {
			target := cur.CNAME
			chain = append(chain, target)
			at := index[cur.Name]
			if slices.Contains(chain[:len(chain)-1], target) {
				errs[at] = fmt.Sprintf("the CNAME chain %s loops", trimChain(chain))
				d.AddZoneFinding(model.Finding{Code: catalog.CodeCNAMELoop, Name: cur.Name.Display(), Zone: cur.Zone.Name.Display(),
					Detail: fmt.Sprintf("%s: a resolver follows it until its restart limit and returns SERVFAIL", trimChain(chain))})
				break
			}
			if len(chain)-1 > c.maxCNAME() {
				errs[at] = fmt.Sprintf("the CNAME chain from %s is longer than %d links (%s)", info.Name.Display(), c.maxCNAME(), discovery.ErrLimit)
				d.AddZoneFinding(model.Finding{Code: catalog.CodeLimitReached, Name: cur.Name.Display(), Zone: cur.Zone.Name.Display(),
					Detail: fmt.Sprintf("CNAME chain longer than --max-cname %d: %s", c.maxCNAME(), trimChain(chain))})
				break
			}
			if _, known := index[target]; known {
				// Already a relevant name or on another name's chain,
				// which follows it from there.
				break
			}
			aliasOf[target] = cur.Name
			index[target] = len(names)
			names = append(names, target)
			t, err := c.walker.Lookup(ctx, target)
			if err != nil {
				infos, errs = append(infos, nil), append(errs, err.Error())
				break
			}
			infos, errs = append(infos, t), append(errs, "")
			cur = t
		}
	}
	// Probe each name at every server of its zone, in parallel, with at
	// most Config.Parallel exchanges in flight for the domain.
	units := make([]*unit, len(names))
	cut := make([]bool, len(names))
	sem := newSlots(c.cfg.Parallel)
	var wg sync.WaitGroup
	for i, info := range infos {
		if info == nil {
			continue
		}
		wg.Add(1)
		lru.Go(func() {
			defer wg.Done()
			units[i], cut[i] = c.probeName(ctx, info, sem)
		})
	}
	wg.Wait()

	type serverKey struct {
		zone model.DomainName
		ns   string
		addr netip.Addr
	}
	servers := map[serverKey]*model.Server{}
	for i, u := range units {
		if u == nil {
			if errs[i] != "" {
				d.Names = append(d.Names, &model.Name{Name: names[i], AliasOf: aliasOf[names[i]], Err: errs[i]})
			}
			continue
		}
		info := infos[i]
		n := &model.Name{Name: info.Name, Zone: info.Zone.Name, Exists: info.Exists, CNAME: info.CNAME, RRset: u.rrset,
			AliasOf: aliasOf[info.Name], DNSSEC: u.dnssec, Err: errs[i]}
		d.Names = append(d.Names, n)
		for _, sr := range u.servers {
			key := serverKey{sr.zone, sr.ns, sr.addr}
			s, ok := servers[key]
			if !ok {
				s = &model.Server{Zone: sr.zone, NS: sr.ns, Addr: sr.addr}
				servers[key] = s
				d.Servers = append(d.Servers, s)
			}
			s.Results = append(s.Results, sr.results...)
		}
		for _, f := range u.zoneFindings {
			d.AddZoneFinding(f)
		}
	}
	if ctx.Err() != nil {
		// The domain's deadline (or an interrupt) cut the probing short:
		// its timeouts are not the servers' doing, so the domain is not
		// judged; the partial matrix stays for the record.
		d.Err = fmt.Errorf("the check of %s did not finish within its deadline (--deadline %s): %w", domain, c.budget.Domain, discovery.ErrLimit).Error()
	} else if i := slices.Index(cut, true); i >= 0 {
		d.Err = fmt.Errorf("the probing of %s was cut short (its shared work ran out of budget or the run was closed): %w", names[i].Display(), discovery.ErrLimit).Error()
	}
	judge.Summarise(d)
	// The CA model over every resolver model: outcomes, policy and
	// explanation (probes/predict/boulder).
	boulder.Fill(d, c.models, c.cfg.CA, domain)
	d.Resolver = c.askResolver(ctx, d)
	return d
}

// relevantNames are the names whose CAA RRsets a CA reads for domain, in
// the order it reads them (RFC 8659 §3): the name, then each parent up to
// the TLD (a CA's lookup may touch each). For a wildcard *.X they are X's:
// RFC 8659 defines RelevantCAASet for X and *.X alike and never queries
// the "*" label; Evaluate's Wildcard field tells them apart. Anything that
// is not a domain name (an unconverted IDN included: it would climb as a
// U-label no server holds) has none, and neither has the root.
func relevantNames(domain string) []model.DomainName {
	n, err := model.ParseName(domain)
	if err != nil {
		return nil
	}
	if l := n.Labels(); len(l) > 0 && l[0] == "*" {
		n = n.Parent()
	}
	return n.Climb()
}

// unit is the probing of one name at every server of its zone: the piece
// of work that is shared between domains (every domain under test. needs
// the CAA answers of test.), so it is computed once and cached.
type unit struct {
	servers      []serverResults
	rrset        []*dns.CAA
	zoneFindings []model.Finding
	dnssec       dnssec.Status // the zone's chain status (see judgeDNSSEC)
}

type serverResults struct {
	zone    model.DomainName
	ns      string
	addr    netip.Addr
	results []*model.Result
}

// probeName returns the unit of info's name: shared with every domain that
// needs it, computed under the Checker's context (see lru.Work), its
// exchanges counted against sem, the bound of the domain that started it.
// It returns nil when ctx ends first, and cut when the unit's own budget
// ran out (its timeouts are not the servers' doing).
func (c *Checker) probeName(ctx context.Context, info *discovery.Name, sem slots) (u *unit, cut bool) {
	if ctx.Err() != nil {
		// The domain's time is up: discovery may have handed it a zone
		// with addresses left unresolved, which must not become a unit
		// that other domains are given.
		return nil, false
	}
	u, complete, err := c.units.Do(ctx, info.Name, func(wctx context.Context) (*unit, bool) {
		return c.runUnit(wctx, info, sem), true
	})
	if err != nil {
		return nil, false
	}
	return u, !complete
}

func (c *Checker) runUnit(ctx context.Context, info *discovery.Name, sem slots) *unit {
	z := info.Zone
	u := &unit{}
	apex := info.Name == z.Name
	var wg sync.WaitGroup
	var srs []*serverResults
	if z.Limit != "" {
		u.zoneFindings = append(u.zoneFindings, model.Finding{Code: catalog.CodeLimitReached,
			Name: info.Name.Display(), Zone: z.Name.Display(), Detail: "delegation of " + z.Name.Display() + ": " + z.Limit})
	}
	// The same probes go to every address of the zone.
	signed := len(c.zoneDS(z)) > 0
	plan := make([]catalog.Probe, 0, len(c.probes))
	for _, p := range c.probes {
		if !(p.AtApex && !apex || p.Signed && !signed) {
			plan = append(plan, p)
		}
	}
	for _, ns := range z.NS {
		if ns.CNAME != "" {
			u.zoneFindings = append(u.zoneFindings, model.Finding{Code: catalog.CodeNSIsCNAME,
				Name: info.Name.Display(), Zone: z.Name.Display(), Server: model.ServerRef{NS: model.TrimDot(ns.Name)}, Detail: fmt.Sprintf("NS %s is a CNAME to %s", model.TrimDot(ns.Name), model.TrimDot(ns.CNAME))})
		}
		if ns.GlueMismatch != "" {
			u.zoneFindings = append(u.zoneFindings, model.Finding{Code: catalog.CodeGlueMismatch,
				Name: info.Name.Display(), Zone: z.Name.Display(), Server: model.ServerRef{NS: model.TrimDot(ns.Name)}, Detail: ns.GlueMismatch})
		}
		for _, l := range z.Lame() {
			if l.NS == ns.Name {
				// Seen by discovery, which then asked the next server.
				u.zoneFindings = append(u.zoneFindings, model.Finding{Code: catalog.CodeLameServer,
					Name: info.Name.Display(), Zone: z.Name.Display(), Server: model.ServerRef{NS: model.TrimDot(ns.Name), Addr: l.Addr},
					Detail: "during discovery: " + l.Detail})
			}
		}
		if len(ns.Addrs) == 0 {
			u.zoneFindings = append(u.zoneFindings, model.Finding{Code: catalog.CodeNSUnresolvable,
				Name: info.Name.Display(), Zone: z.Name.Display(), Server: model.ServerRef{NS: model.TrimDot(ns.Name)}, Detail: fmt.Sprintf("%s has no address: %s", model.TrimDot(ns.Name), ns.Err)})
			continue
		}
		for _, a := range ns.Addrs {
			sr := &serverResults{zone: z.Name, ns: ns.Name, addr: a, results: make([]*model.Result, len(plan))}
			srs = append(srs, sr)
			for i := range plan {
				// The slot is taken before the goroutine starts, so a
				// domain has at most Parallel probe goroutines, not one
				// per probe and address waiting.
				if !sem.take(ctx) {
					sr.results[i] = c.probe(ctx, plan[i], info, a) // cut: no query sent
					continue
				}
				wg.Add(1)
				lru.Go(func() {
					defer wg.Done()
					defer sem.give()
					sr.results[i] = c.probe(ctx, plan[i], info, a) // plan[i], not a copy of the probe per closure
				})
			}
		}
	}
	wg.Wait()
	var all []*model.Result
	for _, sr := range srs {
		judge.Apply(judge.CheckServer(sr.results))
		if apex && !z.Parent.IsZero() {
			judge.Apply(judge.CheckDelegation(sr.results, z.ParentNS))
		}
		all = append(all, sr.results...)
		u.servers = append(u.servers, *sr)
	}
	judge.Apply(judge.CheckZone(all))
	u.dnssec = c.judgeDNSSEC(ctx, z, srs, sem)
	// The RRset a CA would read: the lowercase CAA answer of the first
	// server that answered.
	for _, r := range all {
		if r.Probe == catalog.ProbeCAA && r.Answered() && !judge.Fails(r) {
			for _, rr := range r.Records {
				if c, ok := rr.(*dns.CAA); ok {
					u.rrset = append(u.rrset, c)
				}
			}
			break
		}
	}
	return u
}

// maxCNAME bounds the alias chain followed from one relevant name; RFC 9520
// resolvers stop at a similar depth.
func (c *Checker) maxCNAME() int {
	if c.cfg.MaxCNAME > 0 {
		return c.cfg.MaxCNAME
	}
	return 8
}

// probe sends one probe to one address and judges the reply, retrying over
// TCP when the UDP reply is truncated.
func (c *Checker) probe(ctx context.Context, p catalog.Probe, info *discovery.Name, addr netip.Addr) *model.Result {
	if p.Set == catalog.SetID {
		return c.instanceProbe(ctx, p, info, addr)
	}
	return c.probeOnce(ctx, p, info, addr)
}

// instanceProbe sends an instance probe (a fixed CH TXT name) once per
// address and run, and returns a copy of its result on info's zone row.
func (c *Checker) instanceProbe(ctx context.Context, p catalog.Probe, info *discovery.Name, addr netip.Addr) *model.Result {
	r, _, err := c.instances.Do(ctx, string(p.ID)+"|"+addr.String(), func(wctx context.Context) (*model.Result, bool) {
		r := c.probeOnce(wctx, p, info, addr)
		return r, r.Exchange == nil || r.Exchange.Err == nil || !errors.Is(r.Exchange.Err, context.Canceled)
	})
	if err != nil || r == nil {
		return c.probeOnce(ctx, p, info, addr)
	}
	cp := *r
	cp.Name = info.Zone.Name
	return &cp
}

func (c *Checker) probeOnce(ctx context.Context, p catalog.Probe, info *discovery.Name, addr netip.Addr) *model.Result {
	qname := info.Name
	if p.AtApex {
		qname = info.Zone.Name
	}
	sent := qname.String()
	if p.QName != "" {
		sent = p.QName // a fixed name (CH TXT hostname.bind), recorded on the zone's row
	}
	q, err := wire.BuildProbeQuery(wire.Spell(sent, p.Spelling), p)
	jc := judge.Context{Zone: info.Zone.Name, Name: qname, Exists: info.Exists || qname == info.Zone.Name}
	server := netip.AddrPortFrom(addr, uint16(c.cfg.Port))
	if err == nil {
		err = ctx.Err() // cut short: no query is sent
	}
	if err != nil {
		ex := &model.Exchange{Server: server, Transport: p.Transport, Err: err}
		return ptr(judge.Exchange(p, jc, ex, nil))
	}
	if p.Transport == model.UDP {
		ex, fallback := transport.ExchangeTC(ctx, c.X, server, q)
		return ptr(judge.Exchange(p, jc, ex, fallback))
	}
	return ptr(judge.Exchange(p, jc, c.X.Exchange(ctx, server, q, p.Transport), nil))
}

func ptr[T any](v T) *T { return &v }

// trimChain writes a CNAME chain as "a → b → a".
func trimChain(chain []model.DomainName) string {
	out := make([]string, len(chain))
	for i, n := range chain {
		out[i] = n.Display()
	}
	return strings.Join(out, " → ")
}
