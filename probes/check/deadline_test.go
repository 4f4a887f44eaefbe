package check_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/model"
)

// signature is what must not depend on other domains of the run: verdict,
// outcome, error, each name's DNSSEC state and RRset size, and the finding
// codes per server.
func signature(d *model.Domain) string {
	var b strings.Builder
	fmt.Fprintf(&b, "verdict=%s outcome=%s err=%q\n", d.Verdict, d.Outcome, d.Err)
	for _, n := range d.Names {
		fmt.Fprintf(&b, "name %s zone=%s dnssec=%s caa=%d err=%q\n", n.Name, n.Zone, n.DNSSEC, len(n.RRset), n.Err)
	}
	var codes []string
	for _, f := range d.Findings {
		codes = append(codes, fmt.Sprintf("%s@%s/%s", f.Code, f.Server.AddrText(), f.Probe))
	}
	slices.Sort(codes)
	b.WriteString(strings.Join(codes, " "))
	return b.String()
}

// TestMixedDeadlines: two domains under www.ok.test share the probing of
// www.ok.test, ok.test and test. and the DNSSEC chains. One has a deadline
// far too short to finish; the other has none. Whichever starts the shared
// work, the second must come out exactly as when checked alone, in every
// one of 100 runs (each with a fresh Checker, so the short one often starts
// the work the long one then waits for).
func TestMixedDeadlines(t *testing.T) {
	lab, err := fixtures.Start(fixtures.Options{})
	if err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	t.Cleanup(lab.Close)
	newChecker := func() *check.Checker {
		return check.New(check.Config{Roots: []netip.Addr{lab.Root}, Port: lab.Port,
			Timeout: 500 * time.Millisecond, Retries: 1, DomainTimeout: 30 * time.Second, TrustAnchor: lab.TrustAnchor()})
	}
	const short, long = "a.www.ok.test", "b.www.ok.test"
	alone := newChecker()
	want := signature(alone.Check(context.Background(), long))
	alone.Close()
	if !strings.Contains(want, "verdict=pass") || strings.Contains(want, "err=\"the") {
		t.Fatalf("%s alone does not pass cleanly; the test needs a clean baseline:\n%s", long, want)
	}
	runs := 100
	if testing.Short() {
		runs = 20
	}
	var cutShort int
	for i := range runs {
		c := newChecker()
		var wg sync.WaitGroup
		var shortD *model.Domain
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+i%4)*time.Millisecond)
			defer cancel()
			shortD = c.Check(ctx, short)
		}()
		// Start the long one a little after the short one on most runs,
		// so the short one's deadline falls while the long one waits.
		time.Sleep(time.Duration(i%3) * 300 * time.Microsecond)
		got := signature(c.Check(context.Background(), long))
		wg.Wait()
		c.Close()
		if got != want {
			t.Fatalf("run %d: %s beside a short-deadline domain:\n%s\nwant (alone):\n%s", i, long, got, want)
		}
		if shortD.Err != "" {
			cutShort++
		}
	}
	if cutShort == 0 {
		t.Errorf("the short deadline never cut its domain short: the test shows nothing")
	}
	t.Logf("%d of %d short-deadline checks were cut short", cutShort, runs)
}
