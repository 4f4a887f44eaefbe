package dnssec_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/caaprobe/caaprobe/probes/dnssec"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus in testdata/fuzz")

const seedDir = "testdata/fuzz/FuzzCheckResponse"

// fuzzZone is the zone behind the seed corpus. Ed25519 signatures are
// deterministic, so -update rewrites the same bytes, and the seeds validate
// with the fuzz target's fixed keys.
func fuzzZone(t testing.TB, nsec3 bool) *testZone {
	return newTestZone(t, zoneOpts{alg: dns.ED25519, nsec3: nsec3})
}

// fuzzAlgZone is the same zone signed with another algorithm whose
// signatures are deterministic too (Ed448, RSA PKCS #1 v1.5), for seeds
// that reach those verifiers.
func fuzzAlgZone(t testing.TB, alg uint8, nsec3 bool) *testZone {
	return newTestZone(t, zoneOpts{alg: alg, nsec3: nsec3})
}

// fuzzKeys are the keys the fuzz target trusts: the Ed25519 zone's and
// those of fuzzAlgZone's algorithms (their key tags differ).
func fuzzKeys(t testing.TB) []*dns.DNSKEY {
	keys := fuzzZone(t, false).trusted()
	for _, alg := range []uint8{dns.ED448, dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA512} {
		keys = append(keys, fuzzAlgZone(t, alg, false).trusted()...)
	}
	return keys
}

// FuzzCheckResponse feeds arbitrary messages to the judges: whatever a
// server sends, judging it must not panic or hang.
func FuzzCheckResponse(f *testing.F) {
	keys := fuzzKeys(f)
	ds := fuzzZone(f, false).signer.DS(dns.SHA256)
	f.Fuzz(func(t *testing.T, wire []byte) {
		m := new(dns.Msg)
		if err := m.Unpack(wire); err != nil {
			return
		}
		qname, qtype := origin, dns.TypeCAA
		if len(m.Question) > 0 {
			qname, qtype = m.Question[0].Name, m.Question[0].Qtype
		}
		v := dnssec.CheckResponse(origin, qname, qtype, m, keys, testNow())
		if v.Status == "" || v.Reason == "" {
			t.Errorf("empty verdict %+v", v)
		}
		dnssec.CheckKeys(origin, ds, m.Answer, testNow())
	})
}

// seeds are the corpus entries: replies that validate, so that fuzzing
// starts deep inside the judges rather than at the first missing RRSIG.
func seeds(t testing.TB) map[string]*dns.Msg {
	nsec, nsec3 := fuzzZone(t, false), fuzzZone(t, true)
	return map[string]*dns.Msg{
		"caa-0x20":         nsec.query("ExAmPlE.cOm.", dns.TypeCAA),
		"cname-a":          nsec.query("alias.example.com.", dns.TypeA),
		"wildcard-nsec":    nsec.query("X.wild.example.com.", dns.TypeCAA),
		"nodata-nsec":      nsec.query("WWW.example.com.", dns.TypeCAA),
		"nodata-ent-nsec":  nsec.query("deep.example.com.", dns.TypeCAA),
		"nxdomain-nsec":    nsec.query("nope.example.com.", dns.TypeCAA),
		"wildcard-nsec3":   nsec3.query("a.b.wild.example.com.", dns.TypeCAA),
		"nodata-nsec3":     nsec3.query("www.example.com.", dns.TypeCAA),
		"nxdomain-nsec3":   nsec3.query("a.b.deep.EXAMPLE.com.", dns.TypeCAA),
		"dnskey":           nsec.query("example.com.", dns.TypeDNSKEY),
		"wildcard-nodata3": nsec3.query("x.wild.example.com.", dns.TypeTXT),
		"ds-nodata-nsec3":  nsec3.query("sub.example.com.", dns.TypeDS),

		"caa-ed448":            fuzzAlgZone(t, dns.ED448, false).query("ExAmPlE.cOm.", dns.TypeCAA),
		"nxdomain-ed448-nsec3": fuzzAlgZone(t, dns.ED448, true).query("nope.example.com.", dns.TypeCAA),
		"nodata-rsasha1":       fuzzAlgZone(t, dns.RSASHA1, false).query("www.example.com.", dns.TypeCAA),
		"nodata-nsec3rsasha1":  fuzzAlgZone(t, dns.RSASHA1NSEC3SHA1, true).query("www.example.com.", dns.TypeCAA),
		"wildcard-rsasha512":   fuzzAlgZone(t, dns.RSASHA512, false).query("x.wild.example.com.", dns.TypeCAA),
	}
}

// TestFuzzSeeds keeps the corpus honest: every seed parses and validates
// with the fuzz target's keys. With -update it rewrites the corpus.
func TestFuzzSeeds(t *testing.T) {
	keys := fuzzKeys(t)
	for name, m := range seeds(t) {
		path := filepath.Join(seedDir, name)
		if *update {
			m.Id, m.Compress = 0x0a20, true
			wire, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", wire)
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestFuzzSeeds -update)", err)
		}
		got := new(dns.Msg)
		if err := got.Unpack(corpusBytes(t, raw)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		q := got.Question[0]
		if v := dnssec.CheckResponse(origin, q.Name, q.Qtype, got, keys, testNow()); v.Status != dnssec.StatusSecure {
			t.Errorf("seed %s: %v", name, v)
		}
	}
}

// corpusBytes reads the one []byte value of a Go fuzz corpus file.
func corpusBytes(t testing.TB, file []byte) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(file)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		t.Fatalf("not a one-value corpus file: %q", file)
	}
	lit, ok := strings.CutPrefix(lines[1], "[]byte(")
	lit, ok2 := strings.CutSuffix(lit, ")")
	s, err := strconv.Unquote(lit)
	if !ok || !ok2 || err != nil {
		t.Fatalf("corpus value %q: %v", lines[1], err)
	}
	return []byte(s)
}
