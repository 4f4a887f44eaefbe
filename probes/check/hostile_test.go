package check_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/internal/transporttest"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render/jsonl"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/caaprobe/caaprobe/probes/transport"
	"github.com/miekg/dns"
)

// hostileConfig is short on time so that a hang shows as a failed deadline,
// not a stuck test.
func hostileConfig(lab *fixtures.Lab) check.Config {
	return check.Config{Roots: []netip.Addr{lab.Root}, Port: lab.Port, Timeout: 300 * time.Millisecond, Retries: 1,
		DomainTimeout: 10 * time.Second}
}

func startHostile(t *testing.T, wrap func(fixtures.Behaviour) fixtures.Behaviour) *fixtures.Lab {
	t.Helper()
	lab, err := fixtures.StartHostile(wrap)
	if err != nil {
		t.Fatalf("starting the hostile lab: %v", err)
	}
	t.Cleanup(lab.Close)
	return lab
}

// checkBounded checks one domain and fails the test if it takes longer than
// the domain deadline plus slack: a hostile server must not hold a run.
func checkBounded(t *testing.T, c *check.Checker, domain string) *model.Domain {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	d := c.Check(ctx, domain)
	if el := time.Since(start); el > 12*time.Second {
		t.Errorf("%s took %v: past the domain deadline", domain, el)
	}
	return d
}

func findingsWith(d *model.Domain, code model.Code) []model.Finding {
	var out []model.Finding
	for _, f := range d.Findings {
		if f.Code == code {
			out = append(out, f)
		}
	}
	return out
}

func TestHostileLab(t *testing.T) {
	lab := startHostile(t, nil)
	c := check.New(hostileConfig(lab))
	tests := []struct {
		domain  string
		code    model.Code // a finding that must appear, with detail containing detail
		detail  string
		verdict model.Verdict
		errText string // for verdict error: text the error must contain
	}{
		{domain: "garbage.test", code: catalog.CodeMalformed, detail: "not DNS replies", verdict: model.VerdictFail},
		{domain: "ptrloop.test", code: catalog.CodeMalformed, detail: "compression pointer loop", verdict: model.VerdictFail},
		{domain: "escape.test", code: catalog.CodeInvalidCAA, detail: `\027[2J`, verdict: model.VerdictFail},
		// The zones' only server is lame: discovery notes it and, with no
		// other server to ask, fails the name.
		{domain: "www.refup.test", verdict: model.VerdictError, errText: "lame (upward referral to test)"},
		{domain: "www.refself.test", verdict: model.VerdictError, errText: "lame (upward referral to refself.test)"},
		{domain: "cycle-a.test", code: catalog.CodeNSUnresolvable, detail: "delegation cycle ns.cycle-b.test → ns.cycle-a.test → ns.cycle-b.test", verdict: model.VerdictFail},
		{domain: "inzone.test", code: catalog.CodeNSUnresolvable, detail: "parent gives no glue", verdict: model.VerdictFail},
		{domain: "manyns.test", code: catalog.CodeLimitReached, detail: "1000 NS names, only the first 20", verdict: model.VerdictFail},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			d := checkBounded(t, c, tt.domain)
			for _, c := range contradictions(d) {
				t.Errorf("contradiction: %s", c)
			}
			if d.Verdict != tt.verdict {
				t.Errorf("verdict %q (error %q), want %q", d.Verdict, d.Err, tt.verdict)
			}
			if tt.errText != "" && !strings.Contains(d.Err, tt.errText) {
				t.Errorf("error %q does not say %q", d.Err, tt.errText)
			}
			if tt.code == "" {
				return
			}
			fs := findingsWith(d, tt.code)
			if len(fs) == 0 {
				t.Fatalf("no %s finding; findings: %v", tt.code, findingCodes(d))
			}
			if !strings.Contains(fs[0].Detail, tt.detail) {
				t.Errorf("%s detail %q does not say %q", tt.code, fs[0].Detail, tt.detail)
			}
		})
	}
}

func findingCodes(d *model.Domain) []string {
	var out []string
	for _, f := range d.Findings {
		out = append(out, string(f.Code))
	}
	return out
}

// TestHostileCycleConcurrent checks both ends of a delegation cycle at once:
// each lookup holds what the other needs, which must not deadlock.
func TestHostileCycleConcurrent(t *testing.T) {
	lab := startHostile(t, nil)
	c := check.New(hostileConfig(lab))
	items := []input.Item{{Name: "cycle-a.test"}, {Name: "cycle-b.test"}, {Name: "ns.cycle-a.test"}, {Name: "ns.cycle-b.test"}}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	var got []*model.Domain
	c.Run(ctx, slices.Values(items), len(items), func(_ input.Item, d *model.Domain) { got = append(got, d) })
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("cycle took %v: lookups waited on each other", el)
	}
	if len(got) != len(items) {
		t.Fatalf("%d domains reported, want %d", len(got), len(items))
	}
	for _, d := range got {
		if d.Verdict == model.VerdictPass || strings.Contains(d.Err, "deadline") || strings.Contains(d.Err, "interrupted") {
			t.Errorf("%s: verdict %s error %q findings %v", d.Domain, d.Verdict, d.Err, findingCodes(d))
		}
	}
}

// TestHostileSpoofBurst: 20 wrong-ID replies from the server's own address
// and port precede the real one. The real one is accepted, no id-mismatch
// is reported, and the rejected datagrams are counted in the JSON.
func TestHostileSpoofBurst(t *testing.T) {
	lab := startHostile(t, nil)
	c := check.New(hostileConfig(lab))
	d := checkBounded(t, c, "spoofburst.test")
	if d.Verdict != model.VerdictPass {
		t.Fatalf("verdict %s, findings %v", d.Verdict, findingCodes(d))
	}
	var b bytes.Buffer
	if err := jsonl.Write(&b, d); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Servers []struct {
			Zone    string
			Results []struct {
				Probe     string
				Transport string
				Rejected  *int `json:"rejected"`
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, s := range out.Servers {
		if s.Zone != "spoofburst.test" {
			continue
		}
		for _, r := range s.Results {
			if r.Transport != "udp" {
				continue
			}
			seen++
			if r.Rejected == nil || *r.Rejected < 20 {
				t.Errorf("probe %s: rejected %v, want at least 20", r.Probe, r.Rejected)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no UDP results for spoofburst.test in the JSON")
	}
}

// TestHostileBigAnswer: a 60 KiB CAA RRset truncates over UDP and arrives
// whole over TCP under the default byte limit; under a lower limit it is
// limit-reached, in bounded time.
func TestHostileBigAnswer(t *testing.T) {
	lab := startHostile(t, nil)
	tests := []struct {
		maxBytes int
		want     model.Code
	}{
		{0, ""},
		{16384, catalog.CodeLimitReached},
	}
	for _, tt := range tests {
		cfg := hostileConfig(lab)
		cfg.MaxBytes = tt.maxBytes
		d := checkBounded(t, check.New(cfg), "big.test")
		var caaRes *model.Result
		for _, s := range d.Servers {
			for _, r := range s.Results {
				if r.Probe == catalog.ProbeCAA && s.Zone.String() == "big.test." {
					caaRes = r
				}
			}
		}
		if caaRes == nil {
			t.Fatalf("max %d: no caa result; findings %v", tt.maxBytes, findingCodes(d))
		}
		if tt.want == "" {
			if caaRes.Fallback == nil || len(caaRes.Fallback.Reply) < 50000 || len(caaRes.Records) < 200 {
				t.Errorf("max %d: want the whole RRset over TCP; fallback %v, %d records", tt.maxBytes, caaRes.Fallback != nil, len(caaRes.Records))
			}
			if d.Verdict != model.VerdictPass {
				t.Errorf("max %d: verdict %s findings %v", tt.maxBytes, d.Verdict, findingCodes(d))
			}
			continue
		}
		fs := findingsWith(d, tt.want)
		if len(fs) == 0 || !strings.Contains(fs[0].Detail, "limit 16384") {
			t.Errorf("max %d: want %s naming the limit; findings %v", tt.maxBytes, tt.want, d.Findings)
		}
	}
}

// TestHostileOffPath: the server answers CAA only from another address and
// port. The connected UDP socket never delivers that datagram: the probe
// times out, and the forged replies were really sent.
func TestHostileOffPath(t *testing.T) {
	var sent atomic.Int64
	lab, err := fixtures.Start(fixtures.Options{Cases: []fixtures.Case{
		{Zone: "offpath.test", Behaviours: []fixtures.Behaviour{fixtures.SpoofOtherPort(&sent)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	cfg := hostileConfig(lab)
	cfg.Probes = []model.ProbeID{catalog.ProbeCAA}
	d := checkBounded(t, check.New(cfg), "offpath.test")
	if len(findingsWith(d, catalog.CodeTimeout)) == 0 {
		t.Errorf("want timeout for the off-path reply; findings %v", findingCodes(d))
	}
	if sent.Load() == 0 {
		t.Error("the fixture sent no forged datagram: the test proves nothing")
	}
}

// TestHostileTerminalEscapes: CAA values and tags with ESC and BEL bytes
// never reach the terminal raw, in the table or in JSON.
func TestHostileTerminalEscapes(t *testing.T) {
	lab := startHostile(t, nil)
	d := checkBounded(t, check.New(hostileConfig(lab)), "escape.test")
	var table, js bytes.Buffer
	if err := report.WriteTable(&table, d, report.TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := jsonl.Write(&js, d); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string][]byte{"table": table.Bytes(), "json": js.Bytes()} {
		if i := bytes.IndexAny(out, "\x1b\x07\x9b"); i >= 0 {
			t.Errorf("%s output carries a raw control byte at %d: %q", name, i, out[max(0, i-20):min(len(out), i+20)])
		}
	}
	if !bytes.Contains(table.Bytes(), []byte("evil.example")) {
		t.Error("table lost the hostile value instead of showing it escaped")
	}
}

// recorder keeps the header flags of every query any lab server receives.
type recorder struct {
	mu      sync.Mutex
	queries int
	withRD  []string
}

func (rec *recorder) wrap(b fixtures.Behaviour) fixtures.Behaviour {
	next := b.Respond
	if next == nil {
		next = fixtures.Conformant.Respond
	}
	b.Respond = func(r *fixtures.Request) *dns.Msg {
		rec.mu.Lock()
		rec.queries++
		if r.Msg.RecursionDesired {
			rec.withRD = append(rec.withRD, r.Msg.Question[0].String())
		}
		rec.mu.Unlock()
		return next(r)
	}
	return b
}

// TestNeverRecursionDesired runs the whole lab with every server, root and
// TLD included, recording: no query carries RD, discovery's included. It
// also checks that every query sent passes under the rate limiter.
func TestNeverRecursionDesired(t *testing.T) {
	rec := &recorder{}
	lab, err := fixtures.Start(fixtures.Options{Wrap: rec.wrap})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	cfg := hostileConfig(lab)
	cfg.Retries = 0
	// Every query sent, discovery's included, passes the counter, which
	// sits under the rate limit (transport.Retry over the limiter over
	// cfg.Exchanger): what it counts went through the limiter.
	var waits atomic.Int64
	var rootWaits atomic.Int64
	cfg.Exchanger = countingExchanger{x: &transport.Socket{Timeout: cfg.Timeout, MaxBytes: 65535}, each: func(a netip.Addr) {
		waits.Add(1)
		if a == lab.Root {
			rootWaits.Add(1)
		}
	}}
	c := check.New(cfg)
	var items []input.Item
	for _, d := range lab.Domains() {
		items = append(items, input.Item{Name: d})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c.Run(ctx, slices.Values(items), 8, func(input.Item, *model.Domain) {})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.queries < 100 {
		t.Fatalf("only %d queries recorded: the recorder is not in the path", rec.queries)
	}
	if len(rec.withRD) > 0 {
		t.Errorf("%d of %d queries set RD, first %s", len(rec.withRD), rec.queries, rec.withRD[0])
	}
	if w, s := waits.Load(), c.X.Sent(); w != s {
		t.Errorf("Wait ran %d times for %d queries sent", w, s)
	}
	if rootWaits.Load() == 0 {
		t.Error("no Wait for the root server: discovery bypasses the rate limit")
	}
}

// countingExchanger calls each for every exchange before passing it on.
type countingExchanger struct {
	x    transport.Exchanger
	each func(netip.Addr)
}

func (c countingExchanger) Exchange(ctx context.Context, server netip.AddrPort, query []byte, t model.Transport) *model.Exchange {
	c.each(server.Addr())
	return c.x.Exchange(ctx, server, query, t)
}

// TestChaosDeterministic runs the whole lab three times through a path
// that drops 20% of attempts (transporttest.Lossy: the engine sees the
// timeouts, nobody waits for them) while the lab delays every reply by up
// to 20 ms. The lab answers in process (transporttest.Lab), so no timeout
// is real and a loaded machine cannot add one; Lossy's drops are a hash
// of the seed, the question and its attempt, so the order in which the
// concurrent exchanges arrive changes nothing. With more attempts than
// drops in a row, every domain is reported and the findings per server
// and probe are those of a clean run: a lost and then answered attempt
// is no finding.
func TestChaosDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos runs take a few seconds")
	}
	t.Parallel()
	run := func(t *testing.T, seed uint64) (map[string][]string, int) {
		t.Helper()
		var wrap func(fixtures.Behaviour) fixtures.Behaviour
		if seed > 0 {
			wrap = fixtures.Chaos(fixtures.ChaosConfig{Seed: seed, MaxDelay: 20 * time.Millisecond})
		}
		lab, err := fixtures.Start(fixtures.Options{Wrap: wrap, InProcess: true})
		if err != nil {
			t.Fatal(err)
		}
		defer lab.Close()
		// Retries 4 against at most 3 drops in a row: every question is
		// answered in the end.
		cfg := check.Config{Roots: []netip.Addr{lab.Root}, Port: lab.Port, Timeout: 500 * time.Millisecond, Retries: 4,
			Backoff: time.Millisecond, DomainTimeout: 30 * time.Second}
		cfg.Exchanger = transporttest.Lab(lab)
		var lossy *transporttest.Lossy
		if seed > 0 {
			lossy = &transporttest.Lossy{X: cfg.Exchanger, Seed: seed, Drop: 0.2, MaxConsecutive: 3, Timeout: cfg.Timeout}
			cfg.Exchanger = lossy
		}
		c := check.New(cfg)
		var items []input.Item
		for _, d := range lab.Domains() {
			items = append(items, input.Item{Name: d})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		got := map[string][]string{}
		n := 0
		c.Run(ctx, slices.Values(items), 16, func(_ input.Item, d *model.Domain) {
			n++
			var fs []string
			for _, f := range d.Findings {
				fs = append(fs, f.Server.NS+"/"+f.Server.AddrText()+"/"+string(f.Probe)+"/"+string(f.Code))
			}
			sort.Strings(fs)
			fs = compactStrings(fs)
			got[d.Domain+" "+string(d.Verdict)] = fs
		})
		if n != len(items) {
			t.Errorf("%d domains reported, want %d", n, len(items))
		}
		dropped := 0
		if lossy != nil {
			dropped = lossy.Dropped()
		}
		return got, dropped
	}
	clean, _ := run(t, 0)
	// The three lossy runs are independent (a lab and a Checker each) and
	// mostly wait on the lab's dropping servers: run them at once.
	for i := range 3 {
		t.Run(fmt.Sprintf("seed%d", i+1), func(t *testing.T) {
			t.Parallel()
			got, dropped := run(t, uint64(i+1))
			if dropped < 100 {
				t.Errorf("chaos run %d dropped only %d attempts: the path is not lossy", i+1, dropped)
			}
			if !reflect.DeepEqual(got, clean) {
				for k, v := range got {
					if !reflect.DeepEqual(v, clean[k]) {
						t.Errorf("chaos run %d, %s: %v; clean run: %v", i+1, k, v, clean[k])
					}
				}
				for k := range clean {
					if _, ok := got[k]; !ok {
						t.Errorf("chaos run %d: %s missing or with another verdict; clean findings %v", i+1, k, clean[k])
					}
				}
			}
		})
	}
}

func compactStrings(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// TestIntermittentServer: a server that drops half of all queries, with
// retries, is reported as intermittent-timeout with counts, never as a
// case-sensitive or EDNS-intolerant server.
func TestIntermittentServer(t *testing.T) {
	t.Parallel()
	// Only the zone's server is lossy; root and TLD answer, so the walk
	// succeeds and the loss shows in the probes. The loss is on the path
	// (transporttest.Lossy): each dropped attempt is a timeout the engine
	// sees at once.
	lab, err := fixtures.Start(fixtures.Options{Cases: []fixtures.Case{{Zone: "flaky.test", Behaviours: []fixtures.Behaviour{fixtures.Conformant}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	flaky := serverOf(lab, "flaky.test", fixtures.Conformant)
	if len(flaky) == 0 {
		t.Fatal("no server for flaky.test")
	}
	cfg := hostileConfig(lab)
	cfg.Retries = 1
	cfg.Timeout = 150 * time.Millisecond
	lossy := &transporttest.Lossy{X: &transport.Socket{Timeout: cfg.Timeout, MaxBytes: 65535}, Servers: flaky, Seed: 7, Drop: 0.5, Timeout: cfg.Timeout}
	cfg.Exchanger = lossy
	sawIntermittent := false
	for range 5 {
		d := checkBounded(t, check.New(cfg), "flaky.test")
		for _, f := range d.Findings {
			switch f.Code {
			case catalog.CodeCaseSensitiveAnswer, catalog.CodeEDNSIntolerant:
				t.Errorf("random loss reported as %s: %s", f.Code, f.Detail)
			case catalog.CodeIntermittentTimeout:
				sawIntermittent = true
				if !strings.Contains(f.Detail, "answered") || !strings.Contains(f.Detail, "attempts") {
					t.Errorf("intermittent-timeout without counts: %s", f.Detail)
				}
			case catalog.CodeTimeout:
				// Allowed only when no form of that query was ever answered.
			}
		}
	}
	if !sawIntermittent {
		t.Error("five runs against a server dropping half its queries and no intermittent-timeout")
	}
	if lossy.Dropped() == 0 {
		t.Error("the lossy path dropped nothing: the test shows nothing")
	}
}
