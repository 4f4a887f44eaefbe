package dnssec_test

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/caaprobe/caaprobe/fixtures/zonesign"
	"github.com/caaprobe/caaprobe/probes/dnssec"
)

// TestAlgorithms signs the test zone with every algorithm the judge claims
// to validate and checks a positive answer, NSEC and NSEC3 denials, the
// DNSKEY RRset against DS digests 1, 2 and 4, and that an expired or
// corrupted signature of each algorithm is bogus, not insecure.
func TestAlgorithms(t *testing.T) {
	if got, want := dnssec.Algorithms(), []uint8{5, 7, 8, 10, 13, 14, 15, 16}; !slices.Equal(got, want) {
		t.Fatalf("Algorithms() = %v, want %v (Unbound's set)", got, want)
	}
	for _, alg := range dnssec.Algorithms() {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) {
			t.Parallel()
			cases := []struct {
				opts   zoneOpts
				qname  string
				status dnssec.Status
				reason dnssec.Reason
			}{
				{zoneOpts{alg: alg}, "ExAmPlE.cOm.", dnssec.StatusSecure, dnssec.ReasonSigned},
				{zoneOpts{alg: alg}, "x.WILD.example.com.", dnssec.StatusSecure, dnssec.ReasonSigned},
				{zoneOpts{alg: alg}, "www.example.com.", dnssec.StatusSecure, dnssec.ReasonNoDataProven},
				{zoneOpts{alg: alg, nsec3: true}, "nope.example.com.", dnssec.StatusSecure, dnssec.ReasonNXDomainProven},
				{zoneOpts{alg: alg, faults: zonesign.Faults{Expired: true}}, "example.com.", dnssec.StatusBogus, dnssec.ReasonExpired},
				{zoneOpts{alg: alg, faults: zonesign.Faults{CorruptSignature: true}}, "example.com.", dnssec.StatusBogus, dnssec.ReasonBadSignature},
				{zoneOpts{alg: alg, faults: zonesign.Faults{OwnerAsSpelled: true}}, "EXAMPLE.com.", dnssec.StatusBogus, dnssec.ReasonBadSignature},
			}
			for _, tc := range cases {
				z := newTestZone(t, tc.opts)
				v := dnssec.CheckResponse(origin, tc.qname, dns.TypeCAA, z.query(tc.qname, dns.TypeCAA), z.trusted(), testNow())
				if v.Status != tc.status || v.Reason != tc.reason {
					t.Errorf("%s %+v: %v, want %s/%s", tc.qname, tc.opts.faults, v, tc.status, tc.reason)
				}
			}
			z := newTestZone(t, zoneOpts{alg: alg, splitKeys: true})
			for _, digest := range []uint8{dns.SHA1, dns.SHA256, dns.SHA384} {
				keys, v := dnssec.CheckKeys(origin, z.signer.DS(digest), z.query(origin, dns.TypeDNSKEY).Answer, testNow())
				if v.Status != dnssec.StatusSecure || len(keys) != 2 {
					t.Errorf("DS digest %d: %v, %d keys; want secure, 2 keys", digest, v, len(keys))
				}
			}
		})
	}
}

// TestNoClockSkew: Let's Encrypt's Unbound runs with val-sig-skew-min and
// -max at 0, so a signature is bogus from the second after its expiration
// and until the second of its inception (RFC 4035 §5.3.1).
func TestNoClockSkew(t *testing.T) {
	now := testNow()
	at := func(d time.Duration) uint32 { return uint32(now.Add(d).Unix()) }
	for _, tc := range []struct {
		name                  string
		inception, expiration uint32
		status                dnssec.Status
		reason                dnssec.Reason
	}{
		{"expired a second ago", at(-time.Hour), at(-time.Second), dnssec.StatusBogus, dnssec.ReasonExpired},
		{"expires now", at(-time.Hour), at(0), dnssec.StatusSecure, dnssec.ReasonSigned},
		{"valid from in a second", at(time.Second), at(time.Hour), dnssec.StatusBogus, dnssec.ReasonNotYetValid},
		{"valid from now", at(0), at(time.Hour), dnssec.StatusSecure, dnssec.ReasonSigned},
	} {
		z := newTestZone(t, zoneOpts{alg: dns.ED25519})
		z.signer.Validity = func(time.Time) (uint32, uint32) { return tc.inception, tc.expiration }
		v := dnssec.CheckResponse(origin, origin, dns.TypeCAA, z.query(origin, dns.TypeCAA), z.trusted(), now)
		if v.Status != tc.status || v.Reason != tc.reason {
			t.Errorf("%s: %v, want %s/%s", tc.name, v, tc.status, tc.reason)
		}
	}
}

// TestNSEC3IterationLimit: Unbound hashes up to 150 iterations (its
// val-nsec3-keysize-iterations default) and marks the answer insecure
// above, for NODATA, NXDOMAIN and wildcard proofs alike; one costly record
// among cheap ones is enough. The NSEC3 RRSIGs are still checked first
// (RFC 9276 §3.2), so a broken one stays bogus.
func TestNSEC3IterationLimit(t *testing.T) {
	for _, tc := range []struct {
		iterations uint16
		qname      string
		qtype      uint16
		mutate     func(*dns.Msg)
		status     dnssec.Status
		reason     dnssec.Reason
	}{
		{150, "www.example.com.", dns.TypeCAA, nil, dnssec.StatusSecure, dnssec.ReasonNoDataProven},
		{151, "www.example.com.", dns.TypeCAA, nil, dnssec.StatusInsecure, dnssec.ReasonNSEC3Iterations},
		{200, "www.example.com.", dns.TypeCAA, nil, dnssec.StatusInsecure, dnssec.ReasonNSEC3Iterations},
		{2500, "www.example.com.", dns.TypeCAA, nil, dnssec.StatusInsecure, dnssec.ReasonNSEC3Iterations},
		{200, "nope.example.com.", dns.TypeCAA, nil, dnssec.StatusInsecure, dnssec.ReasonNSEC3Iterations},
		{200, "x.wild.example.com.", dns.TypeCAA, nil, dnssec.StatusInsecure, dnssec.ReasonNSEC3Iterations},
		{200, "www.example.com.", dns.TypeCAA, editSigs(authority, dns.TypeNSEC3, func(s *dns.RRSIG) { s.OrigTtl++ }), dnssec.StatusBogus, dnssec.ReasonBadSignature},
		{200, "www.example.com.", dns.TypeCAA, stripRRSIGs(authority), dnssec.StatusMissing, dnssec.ReasonMissingRRSIG},
	} {
		z := newTestZone(t, zoneOpts{nsec3: true, iterations: tc.iterations})
		m := z.query(tc.qname, tc.qtype)
		if tc.mutate != nil {
			tc.mutate(m)
		}
		v := dnssec.CheckResponse(origin, tc.qname, tc.qtype, m, z.trusted(), testNow())
		if v.Status != tc.status || v.Reason != tc.reason {
			t.Errorf("%d iterations, %s: %v, want %s/%s", tc.iterations, tc.qname, v, tc.status, tc.reason)
		}
	}

	// A cheap proof with one costly NSEC3 of the same zone added: Unbound
	// rejects the lot before hashing (nsec3_iteration_count_high).
	cheap := newTestZone(t, zoneOpts{nsec3: true})
	costly := newTestZone(t, zoneOpts{nsec3: true, iterations: 200})
	m := cheap.query("nope.example.com.", dns.TypeCAA)
	extra := costly.query("www.example.com.", dns.TypeCAA)
	for _, rr := range extra.Ns {
		if rr.Header().Rrtype == dns.TypeNSEC3 {
			m.Ns = append(m.Ns, rr)
		}
	}
	// The added record's RRSIG is by the same key (both zones derive it
	// from one seed), so only the iteration count can decide.
	for _, rr := range extra.Ns {
		if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == dns.TypeNSEC3 {
			m.Ns = append(m.Ns, rr)
		}
	}
	if v := dnssec.CheckResponse(origin, "nope.example.com.", dns.TypeCAA, m, cheap.trusted(), testNow()); v.Reason != dnssec.ReasonNSEC3Iterations {
		t.Errorf("cheap proof plus one 200-iteration NSEC3: %v, want insecure/nsec3-iterations", v)
	}
}

// TestBINDSignedZones verifies zones signed by BIND's dnssec-signzone
// (testdata/bind/gen.sh), one per algorithm: every RRSIG of every RRset,
// and the DNSKEY RRset against DS digests 1, 2 and 4. A signer caaprobe
// did not write is the check that the verifier (and canonical.SignedData,
// for ED448) is not merely consistent with caaprobe's own signer.
func TestBINDSignedZones(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	files, err := filepath.Glob("testdata/bind/*.signed")
	if err != nil || len(files) != 8 {
		t.Fatalf("want 8 BIND-signed zones in testdata/bind, got %d (%v)", len(files), err)
	}
	for _, file := range files {
		zone := dns.Fqdn(filepath.Base(file[:len(file)-len(".signed")]))
		t.Run(zone, func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			zp := dns.NewZoneParser(bufio.NewReader(f), zone, file)
			type key struct {
				owner  string
				rrtype uint16
			}
			sets := map[key][]dns.RR{}
			var order []key
			var keys []*dns.DNSKEY
			for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
				k := key{dns.CanonicalName(rr.Header().Name), rr.Header().Rrtype}
				if s, ok := rr.(*dns.RRSIG); ok {
					k.rrtype = s.TypeCovered
				}
				if dk, ok := rr.(*dns.DNSKEY); ok {
					keys = append(keys, dk)
				}
				if _, seen := sets[k]; !seen {
					order = append(order, k)
				}
				sets[k] = append(sets[k], rr)
			}
			if err := zp.Err(); err != nil {
				t.Fatal(err)
			}
			if len(keys) != 1 {
				t.Fatalf("%d DNSKEYs, want 1", len(keys))
			}
			checked := 0
			for _, k := range order {
				if k.owner == zone && k.rrtype == dns.TypeDNSKEY {
					for _, digest := range []uint8{dns.SHA1, dns.SHA256, dns.SHA384} {
						_, v := dnssec.CheckKeys(zone, []*dns.DS{keys[0].ToDS(digest)}, sets[k], now)
						if v.Status != dnssec.StatusSecure {
							t.Errorf("DNSKEY with DS digest %d: %v", digest, v)
						}
					}
				}
				if !dns.IsSubDomain(zone, k.owner) || k.owner != zone && k.rrtype == dns.TypeNS {
					continue
				}
				m := &dns.Msg{Answer: sets[k]}
				m.Authoritative = true
				v := dnssec.CheckResponse(zone, k.owner, k.rrtype, m, keys, now)
				if v.Status != dnssec.StatusSecure || v.Reason != dnssec.ReasonSigned {
					t.Errorf("%s %s: %v", k.owner, dns.Type(k.rrtype), v)
				}
				checked++
			}
			if checked < 8 {
				t.Errorf("only %d RRsets checked", checked)
			}
			// And the judge is not vacuous: one second after expiration.
			caa := sets[key{zone, dns.TypeCAA}]
			m := &dns.Msg{Answer: caa}
			if v := dnssec.CheckResponse(zone, zone, dns.TypeCAA, m, keys, time.Date(2035, 1, 1, 0, 0, 1, 0, time.UTC)); v.Reason != dnssec.ReasonExpired {
				t.Errorf("CAA after expiration: %v, want expired", v)
			}
		})
	}
}

// BenchmarkCheckResponseAlgorithms is the cost of judging one signed CAA
// answer per algorithm (one signature verification and the bookkeeping).
func BenchmarkCheckResponseAlgorithms(b *testing.B) {
	for _, alg := range dnssec.Algorithms() {
		b.Run(dns.AlgorithmToString[alg], func(b *testing.B) {
			z := newTestZone(b, zoneOpts{alg: alg})
			m, keys := z.query(origin, dns.TypeCAA), z.trusted()
			for b.Loop() {
				if v := dnssec.CheckResponse(origin, origin, dns.TypeCAA, m, keys, testNow()); v.Status != dnssec.StatusSecure {
					b.Fatal(v)
				}
			}
		})
	}
}

// TestDSDigestPreference: only the DS records of the highest supported
// digest type count (Unbound's val_favorite_ds_algo), so a wrong SHA-384
// DS fails the zone even beside a right SHA-256 one, and a wrong SHA-1 DS
// beside a right SHA-256 one is ignored (RFC 4509 §3).
func TestDSDigestPreference(t *testing.T) {
	z := newTestZone(t, zoneOpts{})
	reply := z.query(origin, dns.TypeDNSKEY).Answer
	wrong := func(d *dns.DS) *dns.DS {
		c := dns.Copy(d).(*dns.DS)
		c.Digest = strings.Repeat("0", len(c.Digest))
		return c
	}
	sha1, sha256, sha384 := z.signer.DS(dns.SHA1)[0], z.signer.DS(dns.SHA256)[0], z.signer.DS(dns.SHA384)[0]
	for _, tc := range []struct {
		name   string
		ds     []*dns.DS
		status dnssec.Status
	}{
		{"right SHA-256, wrong SHA-384", []*dns.DS{sha256, wrong(sha384)}, dnssec.StatusBogus},
		{"wrong SHA-256, right SHA-384", []*dns.DS{wrong(sha256), sha384}, dnssec.StatusSecure},
		{"wrong SHA-1, right SHA-256", []*dns.DS{wrong(sha1), sha256}, dnssec.StatusSecure},
		{"right SHA-1, wrong SHA-256", []*dns.DS{sha1, wrong(sha256)}, dnssec.StatusBogus},
		{"right SHA-1 alone", []*dns.DS{sha1}, dnssec.StatusSecure},
		{"right SHA-256, SHA-384 of an unsupported algorithm", []*dns.DS{sha256, func() *dns.DS { d := wrong(sha384); d.Algorithm = dns.PRIVATEDNS; return d }()}, dnssec.StatusSecure},
	} {
		if _, v := dnssec.CheckKeys(origin, tc.ds, reply, testNow()); v.Status != tc.status {
			t.Errorf("%s: %v, want %s", tc.name, v, tc.status)
		}
	}
}
