package check

import (
	"testing"

	"github.com/caaprobe/caaprobe/probes/dnssec"
)

// TestNameState: the per-name DNSSEC state follows what a validating
// resolver that tries another server after a bogus answer ends up with.
func TestNameState(t *testing.T) {
	secure := dnssec.Verdict{Status: dnssec.StatusSecure, Reason: dnssec.ReasonSigned}
	bogus := dnssec.Verdict{Status: dnssec.StatusBogus, Reason: dnssec.ReasonExpired}
	missing := dnssec.Verdict{Status: dnssec.StatusMissing, Reason: dnssec.ReasonMissingRRSIG}
	costly := dnssec.Verdict{Status: dnssec.StatusInsecure, Reason: dnssec.ReasonNSEC3Iterations}
	refused := dnssec.Verdict{Status: dnssec.StatusInsecure, Reason: dnssec.ReasonUnvalidated}
	view := func(vs ...dnssec.Verdict) serverView {
		var s serverView
		for _, v := range vs {
			s.add(v)
		}
		return s
	}
	for _, tc := range []struct {
		name  string
		chain dnssec.Verdict
		views []serverView
		want  dnssec.Status
	}{
		{"chain bogus", bogus, []serverView{view(secure)}, "bogus"},
		{"chain indeterminate", dnssec.Verdict{Status: dnssec.StatusIndeterminate}, nil, "indeterminate"},
		{"one good server of two", secure, []serverView{view(secure, bogus), view(secure)}, "secure"},
		{"every server bogus on some spelling", secure, []serverView{view(secure, bogus), view(bogus)}, "bogus"},
		{"unsigned answers", secure, []serverView{view(missing, missing)}, "missing"},
		{"nsec3 above the limit", secure, []serverView{view(costly, costly)}, "insecure"},
		{"a refusing server does not count", secure, []serverView{view(refused), view(bogus)}, "bogus"},
		{"nothing answered", secure, []serverView{view(refused)}, "secure"},
	} {
		if got := nameState(tc.chain, tc.views); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
