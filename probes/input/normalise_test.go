package input

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNormaliseGood(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"example.com", "example.com"},
		{"Example.COM", "example.com"},
		{"  example.com\t", "example.com"},
		{"com", "com"},
		// The fully qualified form, as dig and zone files write it.
		{"example.com.", "example.com"},
		{"Ok.Test.", "ok.test"},
		{"*.example.com.", "*.example.com"},
		{"example。com。", "example.com"},
		{"*.example.com", "*.example.com"},
		{"*.EXAMPLE.com", "*.example.com"},
		{"bücher.example", "xn--bcher-kva.example"},
		{"BÜCHER.example", "xn--bcher-kva.example"},
		{"XN--BCHER-KVA.example", "xn--bcher-kva.example"},
		{"faß.de", "xn--fa-hia.de"}, // nontransitional: not "fass.de"
		{"例え.テスト", "xn--r8jz45g.xn--zckzah"},
		{"ｅｘａｍｐｌｅ。com", "example.com"}, // full-width letters, ideographic full stop
		{"_service._tcp.example.com", "_service._tcp.example.com"},
		{"my_host.example", "my_host.example"},
		{"r3---sn-abc.googlevideo.com", "r3---sn-abc.googlevideo.com"},
		{"1.example", "1.example"},
		{"123.45.example", "123.45.example"},
		{"a-b.c-d.example", "a-b.c-d.example"},
		{strings.Repeat("a", 63) + ".example", strings.Repeat("a", 63) + ".example"},
		{name253(), name253()},
	}
	for _, tt := range tests {
		got, err := Normalise(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Normalise(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// name253 is a name of exactly the longest legal length.
func name253() string {
	l := strings.Repeat("a", 63)
	return l + "." + l + "." + l + "." + strings.Repeat("b", 61)
}

func TestNormaliseBad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty name"},
		{"blank", "  \t ", "empty name"},
		{"root", ".", `the root "." is not a domain`},
		{"leading dot", ".example.com", "starts with a dot"},
		{"empty label", "example..com", `empty label ("..")`},
		{"two trailing dots", "example.com..", `empty label`},
		{"name too long", name253() + "a", "254 octets long, more than 253"},
		{"label too long", strings.Repeat("a", 64) + ".example", "64 octets long, more than 63"},
		{"U-label too long as A-label", strings.Repeat("a", 60) + "ü.example", "more than 63"},
		{"bad char", "ex!ample.com", `character '!' is not allowed`},
		{"quote", `ex"ample.com`, `character '"' is not allowed`},
		{"comma", "example.com,example.net", `character ','`},
		{"leading hyphen", "-example.com", `starts or ends with '-'`},
		{"trailing hyphen", "example-.com", `starts or ends with '-'`},
		{"bad punycode", "xn--zz.example", "not a valid internationalised name"},
		{"A-label for ASCII", "xn--abc-.example", "not a valid internationalised name"},
		{"lone combining mark", "\u0301.example", "not a valid internationalised name"},
		{"leading combining mark", "\u0301abc.example", "not a valid internationalised name"},
		{"ZWJ out of context", "a\u200db.example", "not a valid internationalised name"},
		{"bidi rule", "a\u0627.example", "not a valid internationalised name"},
		{"disallowed rune", "a\u2488com", "not a valid internationalised name"},
		{"NUL", "exa\x00mple.com", `control character U+0000`},
		{"escape", "\x1b[31mexample.com", `control character U+001B`},
		{"DEL", "example\x7f.com", `control character U+007F`},
		{"C1 control", "example\u009bx.com", `control character U+009B`},
		{"NEL", "example\u0085x.com", `contains whitespace`},
		{"invalid UTF-8", "exa\xffmple.com", "not valid UTF-8"},
		{"Latin-1 text", "b\xfccher.example", "not valid UTF-8"},
		{"inner space", "example .com", "contains whitespace"},
		{"two names", "example.com example.net", "contains whitespace"},
		{"URL", "https://example.com/", `is a URL, not a domain name: write "example.com"`},
		{"URL with path", "https://Bücher.example/path?q=1", `write "xn--bcher-kva.example"`},
		{"URL with port", "http://example.com:8080/", `write "example.com"`},
		{"host and path", "example.com/caa", `contains '/': write the host name "example.com"`},
		{"host and port", "example.com:443", `has a port: write "example.com"`},
		{"colon", "a:b", `':' is not allowed`},
		{"email", "hostmaster@example.com", `looks like an email address: write the domain "example.com"`},
		{"IPv4", "192.0.2.1", "is an IP address, not a domain name"},
		{"IPv6", "2001:db8::1", "is an IP address, not a domain name"},
		{"IPv6 brackets", "[2001:db8::1]", "is an IP address, not a domain name"},
		{"IP and port", "192.0.2.1:53", "is an IP address and port"},
		{"numeric TLD", "192.0.2.300", "all digits: looks like an IP address"},
		{"wildcard second label", "www.*.example.com", "allowed only as the first label"},
		{"wildcard last label", "example.*", "allowed only as the first label"},
		{"two wildcards", "*.*.example.com", "allowed only as the first label"},
		{"partial wildcard", "w*.example.com", "'*' is allowed only as a whole first label"},
		{"bare wildcard", "*", "a wildcard needs a name under it"},
		{"invisible only", "\u00ad\u200b", "only invisible characters"},
		{"empty A-label", "xn--.example", `label "xn--" is an A-label prefix with nothing after it`},
		{"trailing dot on bad name", "*.", "a wildcard needs a name under it"},
		{"far too long", strings.Repeat("x", 2000), "2000 bytes long: no domain name is"},
	}
	for _, tt := range tests {
		got, err := Normalise(tt.in)
		if err == nil {
			t.Errorf("%s: Normalise(%q) = %q, want error containing %q", tt.name, tt.in, got, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Normalise(%q) error = %q, want it to contain %q", tt.name, tt.in, err, tt.want)
		}
		if got != "" {
			t.Errorf("%s: Normalise(%q) returned %q with an error", tt.name, tt.in, got)
		}
		if hasUnprintable(err.Error()) {
			t.Errorf("%s: error %q has unprintable characters", tt.name, err)
		}
	}
}

func TestSanitise(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"example.com", "example.com"},
		{"bücher", "bücher"},
		{"a\x00b", `a\x00b`},
		{"a\tb\r\n", `a\x09b\x0d\x0a`},
		{"a\xffb", `a\xffb`},
		{`a\b`, `a\\b`},
		{"\u202eevil", `\u202eevil`},
		{"a\u0085b", `a\u0085b`},
		{"a\u2028b", `a\u2028b`},
	}
	for _, tt := range tests {
		if got := sanitise(tt.in); got != tt.want {
			t.Errorf("sanitise(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := sanitise(strings.Repeat("\x00", 300))
	if len(long) > maxShownBytes || len(long)%4 != 0 {
		t.Errorf("sanitise of 300 NULs: %d bytes, want at most %d, cut between escapes", len(long), maxShownBytes)
	}
	if got := sanitise(strings.Repeat("ü", 200)); len(got) > maxShownBytes || !strings.HasPrefix(strings.Repeat("ü", 200), got) {
		t.Errorf("sanitise of 200 ü: %d bytes, not cut at a rune boundary", len(got))
	}
}

// hasUnprintable reports control, format and separator characters and
// invalid UTF-8: what must never reach a terminal from user input.
func hasUnprintable(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return true
		}
	}
	return false
}

// TestName: Name is Normalise's reading as a DomainName (absolute, the
// wildcard kept), with Normalise's errors for what it refuses.
func TestName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"Bücher.Example": "xn--bcher-kva.example.", "*.Example.com.": "*.example.com.", "com": "com."} {
		n, err := Name(in)
		if err != nil || n.String() != want {
			t.Errorf("Name(%q) = %q, %v; want %q", in, n, err, want)
		}
		if norm, _ := Normalise(in); n.Display() != norm {
			t.Errorf("Name(%q).Display() = %q, Normalise gives %q", in, n.Display(), norm)
		}
	}
	for _, in := range []string{"", "a..b", "https://x.test/", "-a.test", "1.2.3.4"} {
		_, nerr := Normalise(in)
		n, err := Name(in)
		if err == nil || nerr == nil || err.Error() != nerr.Error() || !n.IsZero() {
			t.Errorf("Name(%q) = %q, %v; want Normalise's error %v", in, n, err, nerr)
		}
	}
}
