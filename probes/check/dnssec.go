package check

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/discovery"
	"github.com/caaprobe/caaprobe/probes/dnssec"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/transport"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// DNSSEC at every server, for every spelling. A CA's validating resolver
// trusts the root key, follows DS → DNSKEY down to the zone, and fails the
// CAA lookup (SERVFAIL) when the reply from the server it picked does not
// validate. The engine rebuilds that chain once per zone and run, then
// judges every DO reply of every server and spelling with the zone's
// trusted keys, so a server that is bogus only for 0x20 names shows so in
// its own matrix cell.

// ianaRootAnchors are the DS records of the root zone's key-signing keys,
// KSK-2017 (tag 20326) and KSK-2024 (tag 38696), algorithm 8, SHA-256, from
// IANA's published root-anchors.xml (KeyDigest ids
// Klajeyz and Kmyv6jo). Not fetched here: checked against several
// independent published copies of that file.
var ianaRootAnchors = []string{
	". 172800 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
	". 172800 IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
}

// IANARootAnchors returns the embedded root trust anchor, the default of
// Config.TrustAnchor.
func IANARootAnchors() []dns.RR {
	out := make([]dns.RR, 0, len(ianaRootAnchors))
	for _, s := range ianaRootAnchors {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic(fmt.Sprintf("embedded root anchor %q: %v", s, err)) // a bug in this file
		}
		out = append(out, rr)
	}
	return out
}

// ReadTrustAnchor reads DS or DNSKEY records in zone-file syntax (as dig,
// unbound's root.key or dnssec-dsfromkey write them): the root's, or any
// zone's. name is used in errors, which name the line.
func ReadTrustAnchor(r io.Reader, name string) ([]dns.RR, error) {
	zp := dns.NewZoneParser(bufio.NewReader(r), ".", name)
	var out []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch rr.(type) {
		case *dns.DS, *dns.DNSKEY:
			out = append(out, rr)
		default:
			return nil, fmt.Errorf("%s: %s record in a trust anchor file: want DS or DNSKEY", name, dns.Type(rr.Header().Rrtype))
		}
	}
	if err := zp.Err(); err != nil {
		// The parser's error names the file and line.
		return nil, fmt.Errorf("reading trust anchor: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no DS or DNSKEY record", name)
	}
	return out, nil
}

// anchorsByZone turns anchor records into DS sets by zone: a DNSKEY
// anchor is the same statement as its SHA-256 digest. The records were
// parsed by miekg/dns, so their owners are names.
func anchorsByZone(rrs []dns.RR) map[model.DomainName][]*dns.DS {
	out := map[model.DomainName][]*dns.DS{}
	for _, rr := range rrs {
		zone, err := model.ParseName(rr.Header().Name)
		if err != nil {
			continue
		}
		switch rr := rr.(type) {
		case *dns.DS:
			out[zone] = append(out[zone], rr)
		case *dns.DNSKEY:
			if ds := rr.ToDS(dns.SHA256); ds != nil {
				out[zone] = append(out[zone], ds)
			}
		}
	}
	return out
}

// zoneTrust is what a validating resolver knows of one zone.
type zoneTrust struct {
	v    dnssec.Verdict // secure, insecure, or why the chain fails
	keys []*dns.DNSKEY  // trusted keys when secure
	// seen are the zone keys some server published when the zone's own
	// DNSKEY step failed: replies are still judged with them, so each
	// result says what else is wrong with it (expired, bad signature).
	seen []*dns.DNSKEY
}

// trust returns the chain status of zone, computing it (and its parents')
// on first use; concurrent callers for one zone wait for the first. It is
// shared work (lru.Work): computed under the Checker's context with the
// step budget, whichever domain asked first, and its key fetches count
// against that domain's slots. Chains are kept for the zones in recent use
// (bounded like discovery's caches, so a long run does not keep every
// zone's keys), and one cut short is not kept.
func (c *Checker) trust(ctx context.Context, zone model.DomainName, sem slots) *zoneTrust {
	t, complete, err := c.trusts.Do(ctx, zone, func(wctx context.Context) (*zoneTrust, bool) {
		t := &zoneTrust{}
		t.v, t.keys, t.seen = c.chain(wctx, zone, sem)
		return t, true
	})
	if err != nil {
		return &zoneTrust{v: insecureVerdict(dnssec.ReasonNoKeys, "%s: chain not built: %v", zone, err)}
	}
	if !complete && t.v.Status != dnssec.StatusSecure {
		return &zoneTrust{v: insecureVerdict(dnssec.ReasonNoKeys, "%s: chain not built within the step budget", zone)}
	}
	return t
}

func insecureVerdict(r dnssec.Reason, format string, args ...any) dnssec.Verdict {
	return dnssec.Verdict{Status: dnssec.StatusInsecure, Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// chain validates zone from the trust anchor: the parent's chain, the DS
// RRset signed by the parent's keys (RFC 4035 §5.2), then the zone's DNSKEY
// RRset from its servers. The root, and any zone with an anchor of its
// own, start from the anchor instead.
func (c *Checker) chain(ctx context.Context, zone model.DomainName, sem slots) (dnssec.Verdict, []*dns.DNSKEY, []*dns.DNSKEY) {
	now := time.Now()
	z := c.walker.Zone(zone)
	if z == nil {
		return insecureVerdict(dnssec.ReasonNoKeys, "%s: zone not discovered, no chain to the trust anchor", zone), nil, nil
	}
	// A zone with an anchor of its own is validated from it, whatever its
	// parent says, as a resolver configured with that anchor does (the
	// closest anchor wins, RFC 4033 §5): even pinned servers can be checked.
	ds, anchored := c.anchors[zone]
	if !anchored {
		if z.Pinned || z.Parent.IsZero() || z.Parent == zone || !zone.IsSubdomainOf(z.Parent) {
			// (A parent that is not above the zone would make the chain
			// wait on itself; discovery never gives one.)
			return insecureVerdict(dnssec.ReasonNoDS, "%s: servers pinned, no delegation to follow from the trust anchor", zone), nil, nil
		}
		parent := c.trust(ctx, z.Parent, sem)
		if parent.v.Status != dnssec.StatusSecure {
			v := parent.v
			if v.Status != dnssec.StatusInsecure && v.Status != dnssec.StatusIndeterminate {
				v.Detail = "parent " + z.Parent.Display() + " does not validate: " + v.Detail
			}
			return v, nil, nil
		}
		if len(z.DS) == 0 {
			// A signed parent must prove the DS is absent (in its referral,
			// or its answer to "zone DS" for a co-hosted child); without
			// the proof a validator cannot tell an unsigned delegation
			// from a stripped DS and fails the whole child zone.
			m := &dns.Msg{Ns: z.NoDS}
			m.Authoritative = true
			if v := dnssec.CheckResponse(z.Parent.String(), zone.String(), dns.TypeDS, m, parent.keys, now); v.Status == dnssec.StatusBogus || v.Status == dnssec.StatusMissing {
				v.Detail = z.Parent.Display() + " does not prove that " + zone.Display() + " has no DS: " + v.Detail
				return v, nil, nil
			}
			return insecureVerdict(dnssec.ReasonNoDS, "no DS for %s in %s: unsigned delegation", zone, z.Parent), nil, nil
		}
		// The DS RRset is the parent's data: judge it as the parent's
		// answer to "zone DS".
		m := new(dns.Msg)
		for _, d := range z.DS {
			m.Answer = append(m.Answer, d)
		}
		for _, s := range z.DSSigs {
			m.Answer = append(m.Answer, s)
		}
		if v := dnssec.CheckResponse(z.Parent.String(), zone.String(), dns.TypeDS, m, parent.keys, now); v.Status != dnssec.StatusSecure {
			v.Detail = "DS RRset of " + zone.Display() + " in " + z.Parent.Display() + ": " + v.Detail
			return v, nil, nil
		}
		ds = z.DS
	}
	if len(ds) == 0 {
		return insecureVerdict(dnssec.ReasonNoKeys, "no trust anchor"), nil, nil
	}
	// The first server whose DNSKEY RRset validates gives the keys; a
	// server that serves a broken one is judged on its own dnskey result.
	var first *dnssec.Verdict
	var seen []*dns.DNSKEY
	for _, ns := range z.NS {
		for _, a := range ns.Addrs {
			answer := c.fetchDNSKEY(ctx, zone.String(), a, sem)
			keys, v := dnssec.CheckKeys(zone.String(), ds, answer, now)
			if v.Status == dnssec.StatusSecure {
				return v, keys, nil
			}
			if zone.IsRoot() && v.Reason == dnssec.ReasonDSMatchesNoKey {
				// A root whose keys the anchor does not name is another
				// hierarchy (a lab, a private root), not an attack: no
				// chain, so nothing below it is judged, and caaprobe
				// cannot say whether it is secure: indeterminate (RFC
				// 4033 §5). The run warns once, with the fix. A root
				// address that did not answer says nothing: try the next.
				c.warnNoAnchor(a, v.Detail)
				return dnssec.Verdict{Status: dnssec.StatusIndeterminate, Reason: dnssec.ReasonNoAnchor,
					Detail: fmt.Sprintf("the root's DNSKEY at %s matches no trust anchor (%s): no chain", a, v.Detail)}, nil, nil
			}
			if first == nil || first.Reason == dnssec.ReasonMissingDNSKEY && v.Reason != dnssec.ReasonMissingDNSKEY {
				first = &v
			}
			if seen == nil {
				seen = zoneKeys(answer)
			}
		}
	}
	if zone.IsRoot() && (first == nil || first.Reason == dnssec.ReasonMissingDNSKEY) {
		// No root server gave its keys: caaprobe cannot build the chain,
		// which is no finding against the domain's servers.
		return dnssec.Verdict{Status: dnssec.StatusIndeterminate, Reason: dnssec.ReasonNoKeys,
			Detail: "no root server answered DNSKEY: no chain"}, nil, nil
	}
	if first == nil {
		return dnssec.Verdict{Status: dnssec.StatusMissing, Reason: dnssec.ReasonMissingDNSKEY,
			Detail: "no server of " + zone.Display() + " to ask for DNSKEY"}, nil, nil
	}
	return *first, nil, seen
}

// warnNoAnchor tells Config.OnNoAnchor, once per Checker, that the root
// in use matches no trust anchor, and how to fix that.
func (c *Checker) warnNoAnchor(addr netip.Addr, detail string) {
	if c.cfg.OnNoAnchor == nil {
		return
	}
	c.noAnchorOnce.Do(func() {
		c.cfg.OnNoAnchor(fmt.Sprintf("the root's DNSKEY at %s matches no trust anchor (%s), so DNSSEC is indeterminate "+
			"for every name and no DNSSEC finding is reported. Give the root's DS or DNSKEY with --trust-anchor FILE "+
			"(for the lab, the anchor `caaprobe lab` prints).", addr, detail))
	})
}

func zoneKeys(rrs []dns.RR) []*dns.DNSKEY {
	var out []*dns.DNSKEY
	for _, rr := range rrs {
		if k, ok := rr.(*dns.DNSKEY); ok && k.Flags&dns.ZONE != 0 {
			out = append(out, k)
		}
	}
	return out
}

// fetchDNSKEY asks one server for the zone's DNSKEY RRset with DO, over
// TCP after a truncated reply, and returns the answer section (nil when
// there is none).
func (c *Checker) fetchDNSKEY(ctx context.Context, zone string, addr netip.Addr, sem slots) []dns.RR {
	q, err := wire.BuildQuery(zone, dns.TypeDNSKEY, true, true)
	if err != nil || !sem.take(ctx) {
		return nil
	}
	defer sem.give()
	server := netip.AddrPortFrom(addr, uint16(c.cfg.Port))
	ex := model.Final(transport.ExchangeTC(ctx, c.X, server, q))
	m := new(dns.Msg)
	if ex.Reply == nil || m.Unpack(ex.Reply) != nil {
		return nil
	}
	return m.Answer
}

// zoneDS is the DS set a zone's keys must match: its own trust anchor when
// it has one, else the parent's DS from the referral.
func (c *Checker) zoneDS(z *discovery.Zone) []*dns.DS {
	if ds, ok := c.anchors[z.Name]; ok {
		return ds
	}
	return z.DS
}

// judgeDNSSEC adds dnssec-bogus, dnssec-missing and nsec3-iterations to
// the results of one unit and returns the name's DNSSEC state for the
// report (see nameState). It runs inside runUnit, before the unit is
// shared: results are read-only afterwards.
func (c *Checker) judgeDNSSEC(ctx context.Context, z *discovery.Zone, srs []*serverResults, sem slots) dnssec.Status {
	t := c.trust(ctx, z.Name, sem)
	if t.v.Status == dnssec.StatusInsecure || t.v.Status == dnssec.StatusIndeterminate {
		// No chain from the anchor: a resolver accepts whatever it gets,
		// so signatures are not findings (and an unsigned zone is fine).
		return t.v.Status
	}
	now := time.Now()
	ds := c.zoneDS(z)
	views := make([]serverView, len(srs))
	for i, sr := range srs {
		for _, r := range sr.results {
			if r == nil || r.Msg == nil {
				continue
			}
			p, ok := catalog.ProbeByID(r.Probe)
			if !ok {
				continue
			}
			switch {
			case r.Probe == catalog.ProbeDNSKEY && len(ds) > 0:
				// Each server's own DNSKEY RRset against the DS.
				_, v := dnssec.CheckKeys(z.Name.String(), ds, r.Msg.Answer, now)
				addVerdict(r, v)
			case p.IsCAA() && p.DO && !p.Conformance(): // conformance probes are judged against the caa probe
				keys := t.keys
				if t.v.Status != dnssec.StatusSecure {
					keys = t.seen
				}
				v := dnssec.CheckResponse(z.Name.String(), r.QName, r.QType, r.Msg, keys, now)
				if t.v.Status != dnssec.StatusSecure && (v.Status == dnssec.StatusSecure || v.Reason == dnssec.ReasonNoKeys) {
					// The reply itself is fine, but no key of the zone
					// validates: a resolver fails it all the same.
					v = t.v
					v.Detail = "zone " + z.Name.Display() + " does not validate: " + v.Detail
				}
				addVerdict(r, v)
				views[i].add(v)
			}
		}
	}
	return nameState(t.v, views)
}

// serverView is what a validating resolver makes of one server address's
// CAA answers: judged when it answered with data to validate; fail is the
// first bogus or missing verdict (a resolver randomising case meets it on
// some spelling); insecure when the answer validates only as insecure.
type serverView struct {
	judged   bool
	fail     *dnssec.Verdict
	insecure bool
}

func (s *serverView) add(v dnssec.Verdict) {
	switch {
	case v.Status == dnssec.StatusBogus || v.Status == dnssec.StatusMissing:
		s.judged = true
		if s.fail == nil {
			s.fail = &v
		}
	case v.Status == dnssec.StatusSecure:
		s.judged = true
	case v.Reason == dnssec.ReasonNSEC3Iterations || v.Reason == dnssec.ReasonOptOut:
		s.judged, s.insecure = true, true
	}
}

// nameState is the name's DNSSEC state as the AD bit and RCODE of a
// validating resolver's answer show it, the state the differential test
// compares with Unbound's: the zone's chain status when the chain is not
// secure; in a secure zone, the state of the first server whose answer
// does not fail (Unbound asks another server after a bogus answer, so one
// good server is enough: halfbogus.test), insecure when that answer can
// only be proved insecure (NSEC3 above the iteration limit, opt-out);
// bogus or missing when every server that answered fails; the chain
// status when no server answered with data to validate.
func nameState(chain dnssec.Verdict, views []serverView) dnssec.Status {
	if chain.Status != dnssec.StatusSecure {
		return chain.Status
	}
	var fail *dnssec.Verdict
	for _, s := range views {
		switch {
		case !s.judged:
		case s.fail == nil && s.insecure:
			return dnssec.StatusInsecure
		case s.fail == nil:
			return dnssec.StatusSecure
		case fail == nil:
			fail = s.fail
		}
	}
	if fail != nil {
		return fail.Status
	}
	return chain.Status
}

func addVerdict(r *model.Result, v dnssec.Verdict) {
	detail := string(v.Reason) + ": " + v.Detail
	switch v.Status {
	case dnssec.StatusBogus:
		r.Add(catalog.CodeDNSSECBogus, detail)
	case dnssec.StatusMissing:
		r.Add(catalog.CodeDNSSECMissing, detail)
	case dnssec.StatusInsecure:
		if v.Reason == dnssec.ReasonNSEC3Iterations {
			r.Add(catalog.CodeNSEC3Iterations, detail)
		}
	}
}
