package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"

	"github.com/caaprobe/caaprobe/probes/lru"
)

// resolveNS finds every address of every NS name of zone: the addresses in
// extra first (glue, when the message was a referral), then an iterative
// lookup of A and AAAA for names without them.
func (w *Walker) resolveNS(ctx context.Context, zone model.DomainName, names []string, extra []dns.RR, glue bool, ch chain) []NS {
	if len(names) > w.Limits.MaxNS {
		names = names[:w.Limits.MaxNS]
	}
	out := make([]NS, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		out[i].Name = n
		for _, rr := range extra {
			if a, ok := addrOf(rr); ok && strings.EqualFold(rr.Header().Name, n) {
				out[i].Glue = glue
				if w.family(a) {
					out[i].Addrs = appendAddr(out[i].Addrs, a)
				}
			}
		}
		if len(out[i].Addrs) > 0 || out[i].Glue {
			continue
		}
		wg.Add(1)
		ns := &out[i]
		lru.Go(func() {
			defer wg.Done()
			r := w.addrsOf(ctx, ns.Name, zone, ch)
			ns.Addrs, ns.CNAME = r.addrs, r.cname
			if r.err != nil {
				ns.Err = r.err.Error()
			} else if len(r.addrs) == 0 {
				ns.Err = "no A or AAAA records"
			}
		})
	}
	wg.Wait()
	return out
}

// addrsOf looks up A and AAAA of an NS name by the same iterative walk,
// nested inside the lookup that needs it (ch holds the NS names whose
// lookups are in progress on this path).
func (w *Walker) addrsOf(ctx context.Context, host string, forZone model.DomainName, ch chain) addrResult {
	if len(ch) >= w.Limits.MaxDepth {
		return addrResult{err: fmt.Errorf("%w: NS address lookups nested more than %d deep (delegation cycle?)", ErrLimit, w.Limits.MaxDepth)}
	}
	if wireName(host).IsSubdomainOf(forZone) {
		// In-bailiwick without glue: only the zone's own servers could
		// answer, and those are the ones we are looking for.
		return addrResult{err: fmt.Errorf("%s is inside %s and the parent gives no glue", host, forZone)}
	}
	if i := slices.Index(ch, host); i >= 0 {
		var cycle []string
		for _, c := range append(ch[i:len(ch):len(ch)], host) {
			cycle = append(cycle, trim(c))
		}
		return addrResult{err: fmt.Errorf("%w: delegation cycle %s (each NS name's address needs the next; no glue)",
			ErrLimit, strings.Join(cycle, " → "))}
	}
	inner := ch.with(host)
	// At the top of a path (no address lookup in progress on it) wait for
	// a lookup of host in flight: every domain under one provider needs
	// the same NS addresses at once. Inside an address lookup, never wait
	// (see do): waits are then at most one level deep, so they cannot
	// close a cycle.
	r, _ := do(ctx, w.addrs, host, ch, func(ctx context.Context) (addrResult, bool) {
		r := w.fillAddrs(ctx, host, inner)
		return r, ctx.Err() == nil
	})
	if r.addrs == nil && r.err == nil && ctx.Err() != nil {
		r.err = ctx.Err()
	}
	return r
}

// fillAddrs looks host up and asks its zone's servers for A and AAAA.
func (w *Walker) fillAddrs(ctx context.Context, host string, ch chain) addrResult {
	var out addrResult
	n, err := w.lookup(ctx, wireName(host), ch)
	if err != nil {
		out.err = fmt.Errorf("looking up %s: %w", host, err)
		return out
	}
	out.cname = n.CNAME.String()
	var errs []string
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		r, err := w.ask(ctx, n.Zone, host, t)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		// An in-zone CNAME comes with its target's records.
		for _, a := range w.addrsIn(r.msg, host) {
			out.addrs = appendAddr(out.addrs, a)
		}
	}
	if cname := n.CNAME.String(); len(out.addrs) == 0 && cname != "" && cname != host {
		// An NS name that is an alias: resolvers that follow it reach
		// the target's addresses (one step; longer chains are refused).
		if t, err := w.lookup(ctx, n.CNAME, ch); err == nil {
			for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
				if r, err := w.ask(ctx, t.Zone, cname, qt); err == nil {
					for _, a := range w.addrsIn(r.msg, cname) {
						out.addrs = appendAddr(out.addrs, a)
					}
				}
			}
		}
	}
	if len(out.addrs) == 0 && len(errs) > 0 {
		out.err = errors.New(strings.Join(errs, "; "))
	}
	return out
}

// checkGlue asks the zone's own servers for the addresses of its in-zone NS
// names and notes where the parent's glue says otherwise: resolvers use
// the glue first, so a stale glue record sends them to the wrong place.
// Only a useful reply counts: a lame server's is skipped (ask), so its
// upward referral is no evidence against the glue.
func (w *Walker) checkGlue(ctx context.Context, z *Zone) {
	if w.NoGlueCheck {
		return
	}
	for i := range z.NS {
		ns := &z.NS[i]
		if !ns.Glue || !wireName(ns.Name).IsSubdomainOf(z.Name) {
			continue
		}
		var auth []netip.Addr
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			r, err := w.ask(ctx, z, ns.Name, t)
			if err != nil || r.kind == kindReferral {
				return // the zone's servers are judged by the probes
			}
			auth = append(auth, w.addrsIn(r.msg, ns.Name)...)
		}
		if !sameAddrs(auth, ns.Addrs) {
			ns.GlueMismatch = fmt.Sprintf("glue for %s is %s; the zone says %s", trim(ns.Name),
				addrList(ns.Addrs), addrList(auth))
		}
	}
}

// addrsIn collects the addresses of host in m's answer, following the
// CNAME chain that starts at host within the answer, in the families the
// walker uses.
func (w *Walker) addrsIn(m *dns.Msg, host string) []netip.Addr {
	owners := map[model.DomainName]bool{wireName(host): true}
	for range len(m.Answer) {
		grew := false
		for _, rr := range m.Answer {
			if cn, ok := rr.(*dns.CNAME); ok && owners[wireName(cn.Hdr.Name)] && !owners[wireName(cn.Target)] {
				owners[wireName(cn.Target)] = true
				grew = true
			}
		}
		if !grew {
			break
		}
	}
	var out []netip.Addr
	for _, rr := range m.Answer {
		if a, ok := addrOf(rr); ok && w.family(a) && owners[wireName(rr.Header().Name)] {
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

func appendAddr(s []netip.Addr, a netip.Addr) []netip.Addr {
	a = a.Unmap()
	if slices.Contains(s, a) {
		return s
	}
	return append(s, a)
}
