package explain

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// fixture is one message of testdata/: comment lines ("# source:", and
// "# reconstruction:" where the format is written from memory or
// invented), "expect KEY: VALUE" lines, a line "---", then the message.
type fixture struct {
	name   string
	expect map[string]string
	body   string
}

func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	paths, err := filepath.Glob("testdata/*.*")
	if err != nil {
		t.Fatal(err)
	}
	var out []fixture
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		head, body, ok := strings.Cut(string(data), "\n---\n")
		if !ok {
			t.Fatalf("%s: no --- line", p)
		}
		f := fixture{name: filepath.Base(p), expect: map[string]string{}, body: body}
		sawSource := false
		for line := range strings.SplitSeq(head, "\n") {
			switch {
			case strings.HasPrefix(line, "# source:"):
				sawSource = true
			case strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "expect "):
				k, v, _ := strings.Cut(strings.TrimPrefix(line, "expect "), ":")
				f.expect[strings.TrimSpace(k)] = strings.TrimSpace(v)
			case strings.TrimSpace(line) == "":
			default:
				t.Fatalf("%s: stray header line %q", p, line)
			}
		}
		if !sawSource {
			t.Errorf("%s: no # source: line", p)
		}
		out = append(out, f)
	}
	return out
}

// TestExplainParseFixtures is the table test: every fixture's message parsed,
// each expectation of its header compared.
func TestExplainParseFixtures(t *testing.T) {
	fixtures := loadFixtures(t)
	if len(fixtures) < 40 {
		t.Fatalf("%d fixtures, want at least 40", len(fixtures))
	}
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			res := Parse(f.body)
			var first Problem
			if len(res.Problems) > 0 {
				first = res.Problems[0]
			}
			if _, ok := f.expect["problems"]; !ok && len(res.Problems) == 0 {
				t.Fatalf("no problem found; result %+v", res)
			}
			for k, want := range f.expect {
				var got string
				match := func() bool { return got == want }
				switch k {
				case "format":
					got = res.Format
				case "problems":
					got = strconv.Itoa(len(res.Problems))
				case "names":
					got = strings.Join(first.Names, ",")
				case "lookup":
					got = first.Lookup
				case "kind":
					got = string(first.Kind)
				case "perspective":
					got = string(first.Perspective)
				case "permanence":
					got = string(first.Permanence)
				case "error":
					got = first.Error
					match = func() bool { return strings.HasPrefix(strings.ToLower(got), strings.ToLower(want)) }
				case "type":
					got = first.Type
				case "ca":
					got = first.CA
				case "check":
					got = strings.Join(res.Names, ",")
				default:
					t.Fatalf("unknown expectation %q", k)
				}
				if !match() {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			for _, p := range res.Problems {
				if p.Meaning == "" || p.Reason == "" {
					t.Errorf("problem without words: %+v", p)
				}
				if p.Kind == "" || p.Perspective == "" || p.Permanence == "" {
					t.Errorf("unclassified problem: %+v", p)
				}
			}
		})
	}
}

// TestExplainClimbWords: a parent and a TLD lookup are explained as the RFC 8659
// climb; a lookup at the certificate's own name is not.
func TestExplainClimbWords(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{"While processing CAA for www.example.net: DNS problem: SERVFAIL looking up CAA for net - x", "top-level domain of www.example.net"},
		{"While processing CAA for www.shop.example.com: DNS problem: SERVFAIL looking up CAA for example.com - x", "example.com is a parent of www.shop.example.com"},
		{"While processing CAA for www.shop.example.com: CAA record for example.com prevents issuance", "the RRset at example.com applies to www.shop.example.com"},
		{"While processing CAA for *.example.com: CAA record for example.com prevents issuance", ""},
		{"While processing CAA for example.com: DNS problem: SERVFAIL looking up CAA for example.com - x", ""},
	} {
		res := Parse(tc.msg)
		if len(res.Problems) != 1 {
			t.Fatalf("%q: %d problems", tc.msg, len(res.Problems))
		}
		got := res.Problems[0].Climb
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%q: climb %q, want %q", tc.msg, got, tc.want)
		}
	}
}

// TestExplainParseBounded: huge inputs are cut, and the output stays within the
// limits whatever the input repeats.
func TestExplainParseBounded(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 2*MaxInput; i++ {
		b.WriteString("While processing CAA for www")
		b.WriteString(strconv.Itoa(i))
		b.WriteString(".example.com: DNS problem: SERVFAIL looking up CAA for example.com - x\n")
	}
	res := Parse(b.String())
	if !res.Truncated {
		t.Error("a 2 MiB message not marked truncated")
	}
	if len(res.Problems) > MaxProblems || len(res.Names) > MaxNames {
		t.Errorf("%d problems, %d names: over the limits", len(res.Problems), len(res.Names))
	}
	if len(res.Problems) == 0 {
		t.Error("no problem read from the start of the message")
	}
}

// FuzzParse: any input parses without panic, into valid UTF-8 within the
// limits, and the result marshals to JSON.
func FuzzParse(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		f.Add(fx.body)
	}
	f.Add(`{"type":"urn:ietf:params:acme:error:caa","subproblems":[{"subproblems":[{"identifier":{"value":"a.b"}}]}]}`)
	f.Add("kind: Order\nstatus:\n  reason: [\n")
	f.Fuzz(func(t *testing.T, s string) {
		res := Parse(s)
		if len(res.Problems) > MaxProblems || len(res.Names) > MaxNames {
			t.Fatalf("%d problems, %d names", len(res.Problems), len(res.Names))
		}
		out, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(out) {
			t.Fatal("invalid UTF-8 out")
		}
		limit := 64<<10 + 4*len(s)
		if len(out) > limit && len(out) > MaxProblems*8*maxField {
			t.Fatalf("%d bytes of output for %d of input", len(out), len(s))
		}
		for _, p := range res.Problems {
			if len(p.Detail) > maxField+4 || len(p.Error) > maxField+4 {
				t.Fatalf("unbounded field: %d/%d", len(p.Detail), len(p.Error))
			}
		}
	})
}

// TestPatternNeeds: every line of every fixture message that a line
// pattern matches holds one of the literals the pattern is guarded by, so
// the guard never hides a match.
func TestPatternNeeds(t *testing.T) {
	patterns := map[string]*pattern{"dns-problem": reDNSProblem, "prevents": rePrevents, "while": reWhile, "secondary": reSecondary,
		"acme-type": reACMEType, "google": reGoogle, "aws": reAWS, "ssl.com": reSSLcom, "certbot-domain": reCertbotDomain,
		"bracket": reBracket, "acme.sh": reAcmeSh, "authz-for": reAuthzFor, "key-name": reKeyName, "requesting": reRequesting,
		"list-item": reListItem, "dnsnames-key": reDNSNamesKey}
	matched := map[string]int{}
	for _, fx := range loadFixtures(t) {
		for s := range strings.SplitSeq(fx.body, "\n") {
			l := fold(s)
			for name, p := range patterns {
				if !p.re().MatchString(s) {
					continue
				}
				matched[name]++
				if !p.may(l.low) {
					t.Errorf("%s: pattern %s matches %q, which holds none of %q", fx.name, name, s, p.needs)
				}
			}
		}
	}
	for name := range patterns {
		if matched[name] == 0 {
			t.Logf("pattern %s matches no fixture line", name)
		}
	}
}
