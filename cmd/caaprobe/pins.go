package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/discovery"
	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/transport"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// parsePin reads one --ns: ZONE=ADDR, ZONE=NAME (its addresses looked up
// from the roots before the run, see resolvePins) or ZONE=NAME/ADDR. A
// pin given by address alone is named by its address in the report.
func parsePin(s string) (model.DomainName, discovery.NS, error) {
	text, rest, ok := strings.Cut(s, "=")
	if !ok || text == "" || rest == "" {
		return model.DomainName{}, discovery.NS{}, usageErr("--ns %q: want ZONE=ADDR, ZONE=NAME or ZONE=NAME/ADDR", s)
	}
	zone, err := input.Name(text)
	if err != nil {
		return model.DomainName{}, discovery.NS{}, usageErr("--ns %q: %v", s, err)
	}
	if a, err := netip.ParseAddr(strings.Trim(rest, "[]")); err == nil {
		return zone, discovery.NS{Name: a.Unmap().String() + ".", Addrs: []netip.Addr{a.Unmap()}}, nil
	}
	name, addr, withAddr := strings.Cut(rest, "/")
	nn, err := input.Name(name)
	if err != nil {
		return model.DomainName{}, discovery.NS{}, usageErr("--ns %q: server name: %v", s, err)
	}
	ns := discovery.NS{Name: nn.String()}
	if withAddr {
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return model.DomainName{}, discovery.NS{}, usageErr("--ns %q: %q is not an IP address", s, addr)
		}
		ns.Addrs = []netip.Addr{a.Unmap()}
	}
	return zone, ns, nil
}

// resolvePins looks up the addresses of pinned servers given by name
// alone, from the roots as discovery does (never the system resolver), so
// that --ns zone=ns1.provider.example works like a referral would.
func resolvePins(ctx context.Context, cfg *check.Config) error {
	var need []string
	for _, nss := range cfg.Pins {
		for _, ns := range nss {
			if len(ns.Addrs) == 0 {
				need = append(need, ns.Name)
			}
		}
	}
	if len(need) == 0 {
		return nil
	}
	// The same stack and budgets as the run's (retries, backoff, the
	// per-address rate limit): a pin's lookup is as polite as a check.
	b := cfg.Budget()
	x := transport.New(&transport.Socket{Timeout: b.Attempt, MaxBytes: 65535}, transport.NewLimiter(cfg.Rate, cfg.Burst), b.Retries, b.Backoff)
	w := &discovery.Walker{X: x, Roots: cfg.Roots, Port: cfg.Port, IPv4: cfg.IPv4, IPv6: cfg.IPv6, Limits: cfg.Limits, NoGlueCheck: true,
		Budget: b.Step}
	defer w.Close()
	found := map[string][]netip.Addr{}
	for _, host := range need {
		if _, ok := found[host]; ok {
			continue
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		addrs, err := lookupHost(ctx, w, x, cfg, host)
		cancel()
		if err != nil {
			return usageErr("--ns: looking up %s: %v (give its address: ZONE=NAME/ADDR)", strings.TrimSuffix(host, "."), err)
		}
		found[host] = addrs
	}
	for zone, nss := range cfg.Pins {
		for i, ns := range nss {
			if len(ns.Addrs) == 0 {
				nss[i].Addrs = found[ns.Name]
			}
		}
		cfg.Pins[zone] = nss
	}
	return nil
}

// lookupHost asks the authoritative servers of host's zone for its A and
// AAAA records, through x (TCP after a truncated reply, as discovery).
func lookupHost(ctx context.Context, w *discovery.Walker, x transport.Exchanger, cfg *check.Config, host string) ([]netip.Addr, error) {
	name, err := model.ParseName(host)
	if err != nil {
		return nil, err
	}
	n, err := w.Lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	if n.Zone == nil || len(n.Zone.NS) == 0 {
		return nil, fmt.Errorf("no servers found for its zone")
	}
	var out []netip.Addr
	var last error
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		if (qtype == dns.TypeA && cfg.IPv6) || (qtype == dns.TypeAAAA && cfg.IPv4) {
			continue
		}
	servers:
		for _, ns := range n.Zone.NS {
			for _, a := range ns.Addrs {
				r, err := askHost(ctx, x, netip.AddrPortFrom(a, uint16(cfg.Port)), host, qtype)
				if err != nil {
					last = err
					continue
				}
				for _, rr := range r.Answer {
					switch rr := rr.(type) {
					case *dns.A:
						if ad, ok := netip.AddrFromSlice(rr.A.To4()); ok {
							out = append(out, ad)
						}
					case *dns.AAAA:
						if ad, ok := netip.AddrFromSlice(rr.AAAA); ok {
							out = append(out, ad.Unmap())
						}
					}
				}
				break servers
			}
		}
	}
	if len(out) == 0 {
		if last != nil {
			return nil, last
		}
		return nil, fmt.Errorf("no address records")
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return slices.Compact(out), nil
}

// askHost asks server for host's qtype records (no RD, no EDNS) and
// returns the parsed reply.
func askHost(ctx context.Context, x transport.Exchanger, server netip.AddrPort, host string, qtype uint16) (*dns.Msg, error) {
	q, err := wire.BuildQuery(host, qtype, false, false)
	if err != nil {
		return nil, err
	}
	ex := model.Final(transport.ExchangeTC(ctx, x, server, q))
	if ex.Reply == nil {
		return nil, ex.Err
	}
	r := new(dns.Msg)
	if err := r.Unpack(ex.Reply); err != nil {
		return nil, fmt.Errorf("malformed reply from %s: %w", server, err)
	}
	return r, nil
}

// pinUse marks pinned servers in each domain's report and remembers
// which pinned zones the run reached, so a pin that no name reached (a
// typo, a zone outside every name's climb) is an error, not ignored.
type pinUse struct {
	pins    map[model.DomainName][]discovery.NS
	reached map[model.DomainName]bool
}

func newPinUse(pins map[model.DomainName][]discovery.NS) *pinUse {
	if len(pins) == 0 {
		return nil
	}
	return &pinUse{pins: pins, reached: map[model.DomainName]bool{}}
}

func (p *pinUse) see(d *model.Domain) {
	if p == nil {
		return
	}
	for _, s := range d.Servers {
		z := s.Zone
		if _, ok := p.pins[z]; ok {
			s.Pinned = true
			p.reached[z] = true
		}
	}
	for _, n := range d.Names {
		if z := n.Zone; p.pins[z] != nil {
			p.reached[z] = true
		}
	}
}

// unused names the pinned zones no domain reached; "" when all were.
func (p *pinUse) unused() string {
	if p == nil {
		return ""
	}
	var out []string
	for z := range p.pins {
		if !p.reached[z] {
			out = append(out, z.Display())
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// reportUnusedPins says on stderr which pins were never used and turns a
// clean run into a usage error: the user pinned something the check did
// not reach, so what they meant to test was not tested.
func reportUnusedPins(p *pinUse, stderr io.Writer, err error) error {
	zones := p.unused()
	if zones == "" {
		return err
	}
	msg := fmt.Sprintf("--ns %s: no name checked reaches this zone, so the pin was not used (a typo, or a zone outside every name's climb?)", zones)
	if err == nil {
		return usageErr("%s", msg)
	}
	fmt.Fprintln(stderr, "caaprobe: "+msg)
	return err
}
