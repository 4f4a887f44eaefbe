package check

import (
	"slices"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/model"
)

// TestRelevantNames: the names a CA reads for a domain, in its order, the
// wildcard's being those of the name under it, and none for what is not a
// domain name.
func TestRelevantNames(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		want []string
	}{
		{"example.com", []string{"example.com.", "com."}},
		{"example.com.", []string{"example.com.", "com."}},
		{"Www.Example.COM", []string{"www.example.com.", "example.com.", "com."}},
		{"a.b.c.d.example", []string{"a.b.c.d.example.", "b.c.d.example.", "c.d.example.", "d.example.", "example."}},
		{"com", []string{"com."}},
		{"*.example.com", []string{"example.com.", "com."}},
		{"*.Sub.Example.com.", []string{"sub.example.com.", "example.com.", "com."}},
		{"xn--bcher-kva.example", []string{"xn--bcher-kva.example.", "example."}},
		{`a\.b.example`, []string{`a\.b.example.`, "example."}},
		{"_25._tcp.mail.example", []string{"_25._tcp.mail.example.", "_tcp.mail.example.", "mail.example.", "example."}},
		{`a\032b.example`, []string{`a\032b.example.`, "example."}},
		{".", nil},
		{"", nil},
		{"*", nil},
		{"*.", nil},
		{"a..example", nil},
		{strings.Repeat("a", 64) + ".example", nil},
		{"bücher.example", nil},
		{"\u04a2", nil},
		{"a b.example", nil},
		{"a\x00.example", nil},
	}
	for _, tc := range cases {
		var got []string
		for _, n := range relevantNames(tc.name) {
			got = append(got, n.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("relevantNames(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	// Each is a DomainName under the next: the climb is the Parent chain.
	ns := relevantNames("www.example.com")
	for i := 1; i < len(ns); i++ {
		if ns[i-1].Parent() != ns[i] || !ns[i-1].IsSubdomainOf(ns[i]) {
			t.Errorf("%s is not directly under %s", ns[i-1], ns[i])
		}
	}
	if len(ns) == 0 || ns[len(ns)-1] != model.MustName("com") {
		t.Errorf("climb %v does not end at the TLD", ns)
	}
}
