package model

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestParseNameCanonical(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, fqdn, display string }{
		{"example.com", "example.com.", "example.com"},
		{"Example.COM.", "example.com.", "example.com"},
		{"*.Example.com", "*.example.com.", "*.example.com"},
		{"_Caa.x-y.test", "_caa.x-y.test.", "_caa.x-y.test"},
		{"com", "com.", "com"},
		{".", ".", "."},
		{`a\.b.test`, `a\.b.test.`, `a\.b.test`},
		{`a\065.test.`, `a\065.test.`, `a\065.test`},
		{`odd\.`, `odd\..`, `odd\.`},
	} {
		n, err := ParseName(tc.in)
		if err != nil {
			t.Errorf("ParseName(%q): %v", tc.in, err)
			continue
		}
		if n.String() != tc.fqdn || n.Display() != tc.display {
			t.Errorf("ParseName(%q) = %q / %q, want %q / %q", tc.in, n.String(), n.Display(), tc.fqdn, tc.display)
		}
		if _, ok := dns.IsDomainName(n.String()); !ok {
			t.Errorf("ParseName(%q) = %q, which miekg/dns does not take for a name", tc.in, n)
		}
		if again := MustName(n.String()); again != n {
			t.Errorf("ParseName of %q's own form %q gave %q", tc.in, n, again)
		}
	}
	if MustName("WWW.Example.Com") != MustName("www.example.com.") {
		t.Error("two spellings of one name are not ==")
	}
}

func TestParseNameRejects(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 63)
	for _, tc := range []struct{ in, want string }{
		{"", "empty name"},
		{"a..b", "empty label"},
		{"a.b..", "empty label"},
		{".a", "starts with a dot"},
		{"bü.test", "not ASCII"},
		{"a b.test", "space"},
		{"a\x00.test", "control character"},
		{long + "a.test", "longer than 63 octets"},
		{strings.Repeat(long+".", 4) + "test", "more than 253"},
		{`a\`, "bad escape"},
		{`a\25`, "bad escape"},
		{`a\256.test`, "bad escape"},
		{"a\\\xe8.test", "bad escape"},
	} {
		n, err := ParseName(tc.in)
		if err == nil {
			t.Errorf("ParseName(%q) = %q, want an error with %q", tc.in, n, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "domain name") {
			t.Errorf("ParseName(%q): %v, want it to name the input and say %q", tc.in, err, tc.want)
		}
		if !n.IsZero() {
			t.Errorf("ParseName(%q) failed but returned %q", tc.in, n)
		}
	}
	// The limits themselves are names: 63 octets a label, 253 in all,
	// escapes counted as the octet they stand for.
	for _, in := range []string{
		long + ".test",
		strings.Repeat(long+".", 3) + strings.Repeat("b", 61),
		strings.Repeat(`\065`, 63) + ".test",
	} {
		if _, err := ParseName(in); err != nil {
			t.Errorf("ParseName of a name at the limit: %v", err)
		}
	}
}

func TestDomainNameTree(t *testing.T) {
	t.Parallel()
	n := MustName("www.Example.com")
	if got := n.Parent(); got != MustName("example.com") {
		t.Errorf("Parent(%s) = %q", n, got)
	}
	if got := MustName("com").Parent(); got != Root || !got.IsRoot() {
		t.Errorf("Parent(com.) = %q, want the root", got)
	}
	if got := Root.Parent(); !got.IsZero() {
		t.Errorf("Parent(.) = %q, want none", got)
	}
	if got := MustName(`a\.b.test`).Parent(); got != MustName("test") {
		t.Errorf(`Parent(a\.b.test.) = %q: an escaped dot is not a label boundary`, got)
	}
	want := []DomainName{MustName("www.example.com"), MustName("example.com"), MustName("com")}
	if got := n.Climb(); !slices.Equal(got, want) {
		t.Errorf("Climb(%s) = %v, want %v", n, got, want)
	}
	if got := Root.Climb(); len(got) != 0 {
		t.Errorf("Climb(.) = %v, want nothing", got)
	}
	if got := n.Labels(); !slices.Equal(got, []string{"www", "example", "com"}) || n.CountLabels() != 3 {
		t.Errorf("Labels(%s) = %q, CountLabels %d", n, got, n.CountLabels())
	}
	if got := Root.Labels(); len(got) != 0 || Root.CountLabels() != 0 {
		t.Errorf("Labels(.) = %q", got)
	}
	for _, tc := range []struct {
		n, z string
		want bool
	}{
		{"www.example.com", "example.com", true},
		{"example.com", "example.com", true},
		{"example.com", ".", true},
		{"badexample.com", "example.com", false},
		{"example.com", "www.example.com", false},
	} {
		if got := MustName(tc.n).IsSubdomainOf(MustName(tc.z)); got != tc.want {
			t.Errorf("%s.IsSubdomainOf(%s) = %v", tc.n, tc.z, got)
		}
	}
	if n.IsSubdomainOf(DomainName{}) || (DomainName{}).IsSubdomainOf(Root) {
		t.Error("the zero name is under or over a name")
	}
	if !n.Equal(MustName("WWW.EXAMPLE.COM.")) || n.Equal(n.Parent()) {
		t.Error("Equal does not compare names")
	}
}

func TestDomainNameJSON(t *testing.T) {
	t.Parallel()
	type rec struct {
		Name  DomainName `json:"name"`
		Zone  DomainName `json:"zone,omitzero"`
		Root  DomainName `json:"root"`
		Empty DomainName `json:"empty"`
	}
	b, err := json.Marshal(rec{Name: MustName("www.Example.com."), Root: Root})
	if err != nil {
		t.Fatal(err)
	}
	// The JSON writes names as the reports always have: no trailing dot.
	if want := `{"name":"www.example.com","root":".","empty":""}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
	var back rec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Name != MustName("www.example.com") || back.Root != Root || !back.Empty.IsZero() || !back.Zone.IsZero() {
		t.Errorf("read back %+v", back)
	}
	if err := json.Unmarshal([]byte(`{"name":"a..b"}`), &back); err == nil || !strings.Contains(err.Error(), `"a..b"`) {
		t.Errorf("a bad name in JSON: %v, want an error naming it", err)
	}
}

// FuzzParseName: whatever text is given, a name ParseName accepts is
// canonical (lowercase, absolute, miekg/dns takes it for a name), reads
// back as itself, and climbs to the root through names under each other.
func FuzzParseName(f *testing.F) {
	for _, s := range []string{"example.com", "WWW.Example.COM.", "*.x.test", `a\.b.test`, `a\000b.test`, ".", "a..b", "bü.test", "\\", "x."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseName(s)
		if err != nil {
			if !n.IsZero() {
				t.Fatalf("ParseName(%q) failed but gave %q", s, n)
			}
			return
		}
		fq := n.String()
		if !dns.IsFqdn(fq) || strings.ToLower(fq) != fq {
			t.Fatalf("ParseName(%q) = %q: not lowercase and absolute", s, fq)
		}
		if _, ok := dns.IsDomainName(fq); !ok {
			t.Fatalf("ParseName(%q) = %q, which miekg/dns does not take for a name", s, fq)
		}
		if again, err := ParseName(fq); err != nil || again != n {
			t.Fatalf("ParseName(%q) = %q, read back as %q, %v", s, fq, again, err)
		}
		if d, err := ParseName(n.Display()); err != nil || d != n {
			t.Fatalf("%q: Display %q reads back as %q, %v", fq, n.Display(), d, err)
		}
		for c := n; !c.IsRoot(); c = c.Parent() {
			if p := c.Parent(); p.IsZero() || !c.IsSubdomainOf(p) || p.CountLabels() != c.CountLabels()-1 {
				t.Fatalf("%q: parent %q of %q is not one label up", fq, p, c)
			}
		}
	})
}
