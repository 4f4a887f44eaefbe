// Package summary is the provider view of a bulk run: which nameservers
// and which DNS providers the failing domains have in common. A user with
// thousands of domains reads it to see that "312 domains fail" really means
// "ns2.example-dns.net answers NOTIMP for CAA", and to compare providers
// side by side.
//
// It aggregates domains as they stream past into counters per server
// address and per provider, and keeps no domain: its memory grows with the
// number of distinct servers and finding codes, not with the input.
package summary

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"golang.org/x/net/publicsuffix"
)

// Summary counts domains by nameserver and provider. The zero value is not
// ready; use New. It is safe for concurrent use.
type Summary struct {
	mu        sync.Mutex
	servers   map[serverKey]*counts
	providers map[string]*providerCounts
	domains   int // domains added
	errors    int // domains that could not be checked (verdict error)
	failing   int // domains with verdict fail
}

type serverKey struct {
	ns   string
	addr netip.Addr
}

// counts are what one server or provider saw: domains it serves (whose CAA
// path touches it), those of them with a fail finding at it, and, per
// finding code, the domains that showed that code at it.
type counts struct {
	domains, failing int
	codes            map[model.Code]int
}

type providerCounts struct {
	counts
	ns    map[string]bool
	addrs map[netip.Addr]bool
}

// New returns an empty Summary.
func New() *Summary {
	return &Summary{servers: map[serverKey]*counts{}, providers: map[string]*providerCounts{}}
}

// Provider names the DNS provider of an NS name: its registrable domain
// (the public suffix plus one label, so ns1.example-dns.net and
// ns2.example-dns.net are one provider). Names under a suffix the list does
// not know, such as the lab's .test, fall back to their last two labels.
func Provider(ns string) string {
	ns = strings.ToLower(strings.TrimSuffix(ns, "."))
	if p, err := publicsuffix.EffectiveTLDPlusOne(ns); err == nil {
		return p
	}
	labels := strings.Split(ns, ".")
	if len(labels) <= 2 {
		return ns
	}
	return strings.Join(labels[len(labels)-2:], ".")
}

// Add counts one finished domain.
func (s *Summary) Add(d *model.Domain) {
	d = report.CleanDomain(d) // its names and codes are printed (report/clean.go)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.domains++
	switch d.Verdict {
	case model.VerdictError:
		s.errors++
		return
	case model.VerdictFail:
		s.failing++
	}
	// A domain's report lists a server once per zone it serves; count the
	// domain once per server address and once per provider.
	type seen struct {
		fail  bool
		codes map[model.Code]bool
	}
	bySrv := map[serverKey]*seen{}
	byProv := map[string]*seen{}
	note := func(m map[string]*seen, k string) *seen {
		if m[k] == nil {
			m[k] = &seen{codes: map[model.Code]bool{}}
		}
		return m[k]
	}
	for _, sv := range d.Servers {
		k := serverKey{ns: strings.TrimSuffix(strings.ToLower(sv.NS), "."), addr: sv.Addr}
		if bySrv[k] == nil {
			bySrv[k] = &seen{codes: map[model.Code]bool{}}
		}
		note(byProv, Provider(k.ns))
	}
	for _, f := range d.Findings {
		if f.Server.NS == "" {
			continue
		}
		ns := strings.TrimSuffix(strings.ToLower(f.Server.NS), ".")
		p := note(byProv, Provider(ns))
		p.codes[f.Code] = true
		p.fail = p.fail || f.Severity == model.SeverityFail
		// A zone-level finding (an NS name without address) belongs to
		// the name, shown with no address.
		k := serverKey{ns: ns, addr: f.Server.Addr}
		if bySrv[k] == nil {
			bySrv[k] = &seen{codes: map[model.Code]bool{}}
		}
		bySrv[k].codes[f.Code] = true
		bySrv[k].fail = bySrv[k].fail || f.Severity == model.SeverityFail
	}
	add := func(c *counts, v *seen) {
		c.domains++
		if v.fail {
			c.failing++
		}
		if c.codes == nil {
			c.codes = map[model.Code]int{}
		}
		for code := range v.codes {
			c.codes[code]++
		}
	}
	for k, v := range bySrv {
		c := s.servers[k]
		if c == nil {
			c = &counts{}
			s.servers[k] = c
		}
		add(c, v)
		p := s.provider(Provider(k.ns))
		p.ns[k.ns] = true
		if k.addr.IsValid() {
			p.addrs[k.addr] = true
		}
	}
	for name, v := range byProv {
		add(&s.provider(name).counts, v)
	}
}

func (s *Summary) provider(name string) *providerCounts {
	p := s.providers[name]
	if p == nil {
		p = &providerCounts{ns: map[string]bool{}, addrs: map[netip.Addr]bool{}}
		s.providers[name] = p
	}
	return p
}

type srvRow struct {
	k serverKey
	c *counts
}

// rows are the servers and the providers, rows with failing domains first.
func (s *Summary) rows() ([]srvRow, []string) {
	var srvs []srvRow
	for k, c := range s.servers {
		srvs = append(srvs, srvRow{k, c})
	}
	sort.Slice(srvs, func(i, j int) bool {
		a, b := srvs[i], srvs[j]
		if a.c.failing != b.c.failing {
			return a.c.failing > b.c.failing
		}
		if a.k.ns != b.k.ns {
			return a.k.ns < b.k.ns
		}
		return a.k.addr.Less(b.k.addr)
	})
	names := make([]string, 0, len(s.providers))
	for n := range s.providers {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := s.providers[names[i]], s.providers[names[j]]
		if a.failing != b.failing {
			return a.failing > b.failing
		}
		return names[i] < names[j]
	})
	return srvs, names
}

func addrText(a netip.Addr) string {
	if a.IsValid() {
		return a.String()
	}
	return "-"
}

func (p *providerCounts) percent() string {
	if p.domains == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(p.failing)/float64(p.domains))
}

// Write prints the two tables: one row per nameserver address, then one
// row per provider. Rows with failing domains come first.
func (s *Summary) Write(w io.Writer) error { return s.WriteWidth(w, 0) }

// WriteWidth is Write for a terminal of width columns: when the tables are
// wider, each row becomes a line of words wrapped to the width. 0 means
// no limit.
func (s *Summary) WriteWidth(w io.Writer, width int) error {
	var grid bytes.Buffer
	if err := s.writeGrid(&grid); err != nil {
		return err
	}
	if width <= 0 || widest(grid.String()) <= width {
		_, err := w.Write(grid.Bytes())
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	b.WriteString(report.Wrap(fmt.Sprintf("Provider view: %d domains, %d failing, %d not checked", s.domains, s.failing, s.errors), width, "", "  "))
	b.WriteString("\nBy nameserver address:\n")
	srvs, names := s.rows()
	for _, r := range srvs {
		b.WriteString(report.Wrap(fmt.Sprintf("%s %s (provider %s): %d of %d domains failing%s", report.Clean(r.k.ns), addrText(r.k.addr),
			report.Clean(Provider(r.k.ns)), r.c.failing, r.c.domains, codesAfter(r.c.codes)), width, "  ", "      "))
	}
	b.WriteString("\nBy provider:\n")
	for _, n := range names {
		p := s.providers[n]
		b.WriteString(report.Wrap(fmt.Sprintf("%s: %d nameserver(s), %d address(es), %d of %d domains failing (%s)%s", report.Clean(n),
			len(p.ns), len(p.addrs), p.failing, p.domains, p.percent(), codesAfter(p.codes)), width, "  ", "      "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// codesAfter is "; " and the code list, or nothing when there are no codes.
func codesAfter(m map[model.Code]int) string {
	if len(m) == 0 {
		return ""
	}
	return "; " + codeList(m)
}

func widest(s string) int {
	m := 0
	for _, l := range strings.Split(s, "\n") {
		m = max(m, utf8.RuneCountInString(l))
	}
	return m
}

func (s *Summary) writeGrid(w io.Writer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(w, "Provider view: %d domains, %d failing, %d not checked\n\n", s.domains, s.failing, s.errors)
	srvs, names := s.rows()
	t := newTable(w)
	t.Header("nameserver", "address", "provider", "domains", "failing", "findings (domains per code)")
	for _, r := range srvs {
		if err := t.Append(report.Clean(r.k.ns), addrText(r.k.addr), report.Clean(Provider(r.k.ns)), fmt.Sprint(r.c.domains),
			fmt.Sprint(r.c.failing), codeList(r.c.codes)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	t = newTable(w)
	t.Header("provider", "nameservers", "addresses", "domains", "failing", "failing %", "findings (domains per code)")
	for _, n := range names {
		p := s.providers[n]
		if err := t.Append(report.Clean(n), fmt.Sprint(len(p.ns)), fmt.Sprint(len(p.addrs)), fmt.Sprint(p.domains),
			fmt.Sprint(p.failing), p.percent(), codeList(p.codes)); err != nil {
			return err
		}
	}
	return t.Render()
}

// The provider view as JSON (check --summary --format json writes it to
// stderr, so stdout stays one domain object per line): one object, its keys
// documented in docs/json.md beside the domain objects'.
type jsonSummary struct {
	Kind        string         `json:"kind"` // always "provider-view"
	Domains     int            `json:"domains"`
	Failing     int            `json:"failing"`
	NotChecked  int            `json:"not_checked"`
	Nameservers []jsonServer   `json:"nameservers"`
	Providers   []jsonProvider `json:"providers"`
}

type jsonServer struct {
	NS       string         `json:"ns"`
	Addr     string         `json:"addr"` // "" for an NS name without an address
	Provider string         `json:"provider"`
	Domains  int            `json:"domains"`
	Failing  int            `json:"failing"`
	Codes    map[string]int `json:"findings"` // domains per finding code
}

type jsonProvider struct {
	Provider    string         `json:"provider"`
	Nameservers int            `json:"nameservers"`
	Addresses   int            `json:"addresses"`
	Domains     int            `json:"domains"`
	Failing     int            `json:"failing"`
	Codes       map[string]int `json:"findings"`
}

// WriteJSON writes the provider view as one line of JSON.
func (s *Summary) WriteJSON(w io.Writer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := jsonSummary{Kind: "provider-view", Domains: s.domains, Failing: s.failing, NotChecked: s.errors,
		Nameservers: []jsonServer{}, Providers: []jsonProvider{}}
	codes := func(m map[model.Code]int) map[string]int {
		o := map[string]int{}
		for c, n := range m {
			o[string(c)] = n
		}
		return o
	}
	srvs, names := s.rows()
	for _, r := range srvs {
		addr := ""
		if r.k.addr.IsValid() {
			addr = r.k.addr.String()
		}
		out.Nameservers = append(out.Nameservers, jsonServer{NS: r.k.ns, Addr: addr, Provider: Provider(r.k.ns),
			Domains: r.c.domains, Failing: r.c.failing, Codes: codes(r.c.codes)})
	}
	for _, n := range names {
		p := s.providers[n]
		out.Providers = append(out.Providers, jsonProvider{Provider: n, Nameservers: len(p.ns), Addresses: len(p.addrs),
			Domains: p.domains, Failing: p.failing, Codes: codes(p.codes)})
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func newTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
	)
}

// codeList writes counts as "rcode-notimp 12, timeout 3", most frequent
// first.
func codeList(m map[model.Code]int) string {
	if len(m) == 0 {
		return "-"
	}
	codes := make([]model.Code, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		if m[codes[i]] != m[codes[j]] {
			return m[codes[i]] > m[codes[j]]
		}
		return codes[i] < codes[j]
	})
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%s %d", c, m[c])
	}
	return strings.Join(parts, ", ")
}
