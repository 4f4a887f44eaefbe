package input

import (
	"bytes"
	"crypto/sha256"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzNormalise(f *testing.F) {
	for _, s := range []string{
		"example.com", "Bücher.example", "faß.de", "*.example.com", "xn--zz.example",
		"example.com.", "a..b", "https://example.com/", "192.0.2.1", "\x00", "\xff",
		"_srv._tcp.example", "例え.テスト", "ｅｘａｍｐｌｅ。com。", "a\u200db", "\u0301",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := Normalise(raw)
		if err != nil {
			if out != "" {
				t.Errorf("Normalise(%q) = %q with error %v", raw, out, err)
			}
			if hasUnprintable(err.Error()) {
				t.Errorf("Normalise(%q): error %q would print control characters", raw, err)
			}
			if s := sanitise(raw); hasUnprintable(s) || len(s) > maxShownBytes {
				t.Errorf("sanitise(%q) = %q: unprintable or longer than %d", raw, s, maxShownBytes)
			}
			return
		}
		if out == "" || len(out) > maxNameOctets || hasUnprintable(out) {
			t.Fatalf("Normalise(%q) = %q: empty, too long or unprintable", raw, out)
		}
		for i := 0; i < len(out); i++ {
			if c := out[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
				t.Fatalf("Normalise(%q) = %q: not lowercase ASCII", raw, out)
			}
		}
		again, err := Normalise(out)
		if err != nil || again != out {
			t.Fatalf("Normalise(%q) = %q, but Normalise(%q) = %q, %v", raw, out, out, again, err)
		}
	})
}

func FuzzReadLines(f *testing.F) {
	f.Add([]byte("example.com\n# c\n\nbad..name\nexample.com\n"))
	f.Add([]byte("\uFEFFa.example\r\nb.example # x\r\n"))
	f.Add([]byte(strings.Repeat("x", maxLineBytes+10) + "\nok.example"))
	f.Add([]byte{0xff, 0xfe, 'a', 0})
	f.Add([]byte("a\x00b\n\xff\n\r\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Reader
		if err := r.AddReader("fuzz", bytes.NewReader(data)); err != nil {
			if !strings.Contains(err.Error(), "UTF-16") {
				t.Fatalf("AddReader: %v", err)
			}
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		last := 0
		for _, it := range r.Items() {
			n, err := strconv.Atoi(strings.TrimPrefix(it.Source, "fuzz:"))
			if !strings.HasPrefix(it.Source, "fuzz:") || err != nil || n < 1 || n > lines || n <= last {
				t.Fatalf("item %+v: source not a line of the input (1..%d, after %d)", it, lines, last)
			}
			last = n
			if hasUnprintable(it.Name) || len(it.Name) > maxShownBytes {
				t.Fatalf("item %+v: name unprintable or too long", it)
			}
			if it.Err == nil {
				if again, err := Normalise(it.Name); err != nil || again != it.Name {
					t.Fatalf("good item %+v does not re-normalise: %q, %v", it, again, err)
				}
				continue
			}
			if msg := it.Err.Error(); !strings.HasPrefix(msg, it.Source+": ") || hasUnprintable(msg) {
				t.Fatalf("item %+v: error does not start with its source, or is unprintable", it)
			}
		}
	})
}

func FuzzCerts(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, named := range []bool{true, false} {
			var r Reader
			w := certWalk{r: &r, certs: map[[sha256.Size]byte]bool{}, dirs: map[string]bool{}}
			w.data("fuzz.pem", data, named)
			for _, it := range r.Items() {
				if !strings.HasPrefix(it.Source, "fuzz.pem") || hasUnprintable(it.Name) {
					t.Fatalf("item %+v: wrong source or unprintable name", it)
				}
				if it.Err != nil && !strings.HasPrefix(it.Err.Error(), it.Source+": ") {
					t.Fatalf("item %+v: error does not start with its source", it)
				}
			}
		}
	})
}
