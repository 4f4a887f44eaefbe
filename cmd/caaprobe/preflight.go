package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/transport"
	"github.com/miekg/dns"
)

// preflightBudget bounds the whole preflight: the promise is an
// answer within 5 s, and a blocked network within 10 s of the start.
const preflightBudget = 5 * time.Second

// rootState is what one root server address did in the preflight.
type rootState int

const (
	rootSilent      rootState = iota // no reply over UDP or TCP
	rootGood                         // an authoritative answer for . NS and . SOA
	rootIntercepted                  // a reply, but not the root's: no AA, or NXDOMAIN/REFUSED for "."
)

type rootResult struct {
	addr   netip.Addr
	state  rootState
	detail string // for an intercepted reply: what came back
}

// preflight asks the root servers (or --root) for ". NS" and ". SOA"
// before the first domain is checked, and tells apart a network that
// works, one that blocks outbound DNS (no reply over UDP or TCP), one
// that intercepts it (replies without AA, or NXDOMAIN/REFUSED for the
// root itself: a hotel, corporate or cloud resolver answering in the
// roots' place) and one where only one address family works. Blocked or
// intercepted is an error (exit 1, no verdicts): every verdict would be
// wrong. One family missing is said once, and the run goes on with the
// other (cfg is set to that family).
func preflight(ctx context.Context, cfg *check.Config, stderr io.Writer) error {
	var roots []netip.Addr
	for _, r := range cfg.Roots {
		is4 := r.Unmap().Is4()
		if (cfg.IPv4 && !is4) || (cfg.IPv6 && is4) {
			continue
		}
		roots = append(roots, r)
	}
	if len(roots) == 0 {
		return nil // -4 or -6 left no root: discovery says so per domain
	}
	// Through the transport, as every query is: one attempt per question
	// and transport (askRoot tries UDP, then TCP), under the run's
	// per-address rate limit.
	x := transport.New(&transport.Socket{Timeout: rootAttempt, MaxBytes: 65535}, transport.NewLimiter(cfg.Rate, cfg.Burst), 0, 0)
	results := askRoots(ctx, x, roots, cfg.Port)
	if ctx.Err() != nil {
		return nil // interrupted: the run reports that itself
	}
	good := map[bool]int{}  // by is4
	tried := map[bool]int{} // by is4
	var intercepted []rootResult
	for _, r := range results {
		is4 := r.addr.Unmap().Is4()
		tried[is4]++
		switch r.state {
		case rootGood:
			good[is4]++
		case rootIntercepted:
			intercepted = append(intercepted, r)
		}
	}
	if good[true]+good[false] == 0 {
		return &exitError{exitInternal, preflightMessage(results, intercepted, cfg.Port)}
	}
	for _, is4 := range []bool{true, false} {
		if tried[is4] > 0 && good[is4] == 0 {
			fam, other := "IPv6", "IPv4"
			if is4 {
				fam, other = "IPv4", "IPv6"
			}
			fmt.Fprintf(stderr, "caaprobe: note: no %s root server address answered (%d tried): this host seems to have no working %s; checking over %s only\n",
				fam, tried[is4], fam, other)
			cfg.IPv4, cfg.IPv6 = !is4, is4
		}
	}
	return nil
}

// preflightMessage is the one clear message of a blocked or intercepted
// network: what was tried, what came back, what to do.
func preflightMessage(results []rootResult, intercepted []rootResult, port int) string {
	var addrs []string
	for i, r := range results {
		if i == 4 {
			addrs = append(addrs, fmt.Sprintf("and %d more", len(results)-4))
			break
		}
		addrs = append(addrs, r.addr.String())
	}
	tried := fmt.Sprintf("asked %d root server address(es) (%s) for . NS and . SOA over UDP and TCP port %d", len(results), strings.Join(addrs, ", "), port)
	what := "none replied within " + preflightBudget.String() + ": outbound DNS looks blocked"
	if len(intercepted) > 0 {
		what = fmt.Sprintf("%d replied, but not as a root server does (%s): outbound DNS looks intercepted (a resolver on this network answers in the roots' place)",
			len(intercepted), intercepted[0].detail)
	}
	return "outbound DNS looks blocked or intercepted: " + tried + "; " + what + ".\n" +
		"caaprobe asks authoritative servers directly, so it needs UDP and TCP to port 53 of any address; " +
		"no domain was checked, since every verdict would be wrong.\n" +
		"What to do: run it from another network (a server, a cloud VM, a container in CI), " +
		"or point --root at root servers you can reach (--root ADDR[,ADDR...], ADDR:PORT for a lab)."
}

// askRoots asks every root address at once and returns what each did, in
// the order given.
func askRoots(ctx context.Context, x transport.Exchanger, roots []netip.Addr, port int) []rootResult {
	ctx, cancel := context.WithTimeout(ctx, preflightBudget)
	defer cancel()
	out := make([]rootResult, len(roots))
	var wg sync.WaitGroup
	for i, a := range roots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = askRoot(ctx, x, a, port)
		}()
	}
	wg.Wait()
	return out
}

// rootAttempt bounds one exchange of the preflight, so that UDP and TCP
// together stay within the budget.
const rootAttempt = 2 * time.Second

// askRoot asks one root address for . NS and . SOA over UDP, then over TCP
// when UDP brought no reply. Each exchange waits at most rootAttempt.
func askRoot(ctx context.Context, x transport.Exchanger, a netip.Addr, port int) rootResult {
	server := netip.AddrPortFrom(a, uint16(port))
	res := rootResult{addr: a}
	for _, network := range []model.Transport{model.UDP, model.TCP} {
		replied := false
		for _, qtype := range []uint16{dns.TypeNS, dns.TypeSOA} {
			m := new(dns.Msg)
			m.SetQuestion(".", qtype)
			m.RecursionDesired = false
			r := askOnce(ctx, x, server, m, network)
			if r == nil {
				continue
			}
			replied = true
			if d := notRootReply(r, qtype); d != "" {
				return rootResult{addr: a, state: rootIntercepted, detail: fmt.Sprintf("%s over %s: %s", a, strings.ToUpper(string(network)), d)}
			}
			res.state = rootGood
		}
		if replied {
			return res
		}
	}
	return res
}

// askOnce sends m to server over network through x and returns the
// parsed reply; nil when none came or it does not parse.
func askOnce(ctx context.Context, x transport.Exchanger, server netip.AddrPort, m *dns.Msg, network model.Transport) *dns.Msg {
	q, err := m.Pack()
	if err != nil {
		return nil
	}
	ex := x.Exchange(ctx, server, q, network)
	if ex.Reply == nil {
		return nil
	}
	r := new(dns.Msg)
	if r.Unpack(ex.Reply) != nil {
		return nil
	}
	return r
}

// notRootReply says why a reply is not what a root server sends for "."
// (NS or SOA), or "" when it is.
func notRootReply(r *dns.Msg, qtype uint16) string {
	q := dns.TypeToString[qtype]
	switch {
	case r.Rcode != dns.RcodeSuccess:
		return fmt.Sprintf(". %s answered %s", q, rcodeName(r.Rcode))
	case !r.Authoritative:
		return fmt.Sprintf(". %s answered without the AA bit", q)
	}
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == qtype && rr.Header().Name == "." {
			return ""
		}
	}
	return fmt.Sprintf(". %s answered with no %s record for the root", q, q)
}

func rcodeName(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE " + strconv.Itoa(rc)
}

// checkResolver asks the --resolver once before the run (". SOA", RD set)
// and says what it is: no reply at all makes the comparison unusable, so
// it is left out (no "agrees" that compares against nothing); a reply
// without RA (with AA, or REFUSED) comes from an authoritative server,
// not the validating resolver a CA uses, which is said once.
func checkResolver(ctx context.Context, cfg *check.Config, stderr io.Writer) {
	if !cfg.Resolver.IsValid() {
		return
	}
	wait := min(cfg.ResolverTimeout, preflightBudget)
	ctx, cancel := context.WithTimeout(ctx, 2*wait)
	defer cancel()
	x := transport.New(&transport.Socket{Timeout: wait, MaxBytes: 65535}, transport.NewLimiter(cfg.Rate, cfg.Burst), 0, 0)
	var r *dns.Msg
	for _, network := range []model.Transport{model.UDP, model.TCP} {
		m := new(dns.Msg)
		m.SetQuestion(".", dns.TypeSOA)
		m.RecursionDesired = true
		if reply := askOnce(ctx, x, cfg.Resolver, m, network); reply != nil {
			r = reply
			break
		}
	}
	switch {
	case ctx.Err() != nil && r == nil && ctx.Err() == context.Canceled:
		return
	case r == nil:
		fmt.Fprintf(stderr, "caaprobe: warning: --resolver %s did not answer over UDP or TCP: the comparison with a real resolver is unusable and left out\n", cfg.Resolver)
		cfg.Resolver = netip.AddrPort{}
	case !r.RecursionAvailable:
		aa := ""
		if r.Authoritative {
			aa = ", AA set"
		}
		fmt.Fprintf(stderr, "caaprobe: warning: --resolver %s answers without recursion (RA clear%s, %s): it looks like an authoritative server, not a validating resolver, so its answers are not what a CA's resolver concludes\n",
			cfg.Resolver, aa, rcodeName(r.Rcode))
	}
}
