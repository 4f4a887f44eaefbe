package check_test

import (
	"context"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
)

// TestCoHostedChildren: a child zone on its parent's servers (no referral
// between them) is its own zone, probed at its own NS set, and validated
// through the DS its parent holds, as a validating resolver does.
func TestCoHostedChildren(t *testing.T) {
	_, c := startLab(t, fixtures.Options{})
	tests := []struct {
		domain  string
		dnssec  model.DNSSECStatus
		outcome model.Outcome
	}{
		{"good.cohost.test", "secure", model.OutcomeOK},
		{"www.good.cohost.test", "secure", model.OutcomeOK},
		{"www.expired.cohost.test", "bogus", model.OutcomeServfail},
		{"expired.cohost.test", "bogus", model.OutcomeServfail},
		{"badds.cohost.test", "bogus", model.OutcomeServfail},
		{"unsigned.cohost.test", "missing", model.OutcomeServfail},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			d := c.Check(context.Background(), tt.domain)
			if d.Err != "" {
				t.Fatal(d.Err)
			}
			var n *model.Name
			for _, x := range d.Names {
				if x.Name.String() == tt.domain+"." {
					n = x
				}
			}
			zone := strings.TrimPrefix(tt.domain, "www.") + "."
			if n == nil || n.Zone.String() != zone {
				t.Fatalf("%s not probed in zone %s: %+v", tt.domain, zone, n)
			}
			if n.DNSSEC != tt.dnssec {
				t.Errorf("DNSSEC %q, want %q", n.DNSSEC, tt.dnssec)
			}
			if d.Outcome != tt.outcome {
				t.Errorf("outcome %q, want %q (%s)", d.Outcome, tt.outcome, d.Explanation)
			}
			for _, s := range d.Servers {
				if s.Zone.String() == zone && !strings.HasSuffix(s.NS, ".cohost.test.") {
					t.Errorf("probed at %s, not at the child's own NS set", s.NS)
				}
			}
		})
	}
}

// TestUpwardReferralLame: the lame server is named, with what discovery
// saw, and the good one still answers every relevant name.
func TestUpwardReferralLame(t *testing.T) {
	lab, c := startLab(t, fixtures.Options{})
	d := c.Check(context.Background(), "www.upref.test")
	if d.Err != "" {
		t.Fatal(d.Err)
	}
	lameAddr := lab.AddrOf("upref.test", 0).String()
	var lame []model.Finding
	for _, f := range d.Findings {
		switch f.Code {
		case catalog.CodeLameServer:
			lame = append(lame, f)
			if f.Server.AddrText() != lameAddr {
				t.Errorf("lame-server at %s, want only %s", f.Server.AddrText(), lameAddr)
			}
		case catalog.CodeGlueMismatch:
			t.Errorf("false glue-mismatch: %s", f.Detail)
		}
	}
	if !strings.Contains(findingDetails(lame), "upward referral to .") {
		t.Errorf("no lame-server finding saying what discovery saw: %v", lame)
	}
}

func findingDetails(fs []model.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Detail)
	}
	return strings.Join(s, "; ")
}
