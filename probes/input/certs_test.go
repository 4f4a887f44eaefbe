package input

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

type testCA struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

func newCA(t *testing.T) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Test CA"},
		DNSNames:              []string{"ca-name-must-not-appear.example"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{cert: cert, der: der, key: key}
}

// leaf returns a leaf certificate's DER and its key as PEM.
func (ca testCA) leaf(t *testing.T, serial int64, names ...string) (der, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func pemCerts(ders ...[]byte) []byte {
	var b []byte
	for _, d := range ders {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	return b
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// letsencryptTree lays out root like /etc/letsencrypt for each lineage:
// archive/<name>/{cert1,chain1,fullchain1,privkey1}.pem and live/<name>/
// holding links to them, plus certbot's README in live/.
func letsencryptTree(t *testing.T, root string, ca testCA, lineages map[string][]string) {
	t.Helper()
	writeFile(t, filepath.Join(root, "live", "README"), []byte("This directory contains your keys and certificates.\n"))
	serial := int64(100)
	for lineage, names := range lineages {
		serial++
		der, key := ca.leaf(t, serial, names...)
		arch := filepath.Join(root, "archive", lineage)
		writeFile(t, filepath.Join(arch, "cert1.pem"), pemCerts(der))
		writeFile(t, filepath.Join(arch, "chain1.pem"), pemCerts(ca.der))
		writeFile(t, filepath.Join(arch, "fullchain1.pem"), pemCerts(der, ca.der))
		writeFile(t, filepath.Join(arch, "privkey1.pem"), key)
		for _, f := range []string{"cert", "chain", "fullchain", "privkey"} {
			symlink(t, filepath.Join("..", "..", "archive", lineage, f+"1.pem"), filepath.Join(root, "live", lineage, f+".pem"))
		}
	}
}

func TestAddCertsLetsEncryptLive(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	root := t.TempDir()
	letsencryptTree(t, root, ca, map[string][]string{
		"a.example": {"a.example", "www.a.example"},
		"b.example": {"b.example", "a.example", "*.b.example", "xn--bcher-kva.example"},
	})
	// A link cycle must not loop.
	symlink(t, "..", filepath.Join(root, "live", "a.example", "up"))

	live := filepath.Join(root, "live")
	var r Reader
	if err := r.AddCerts(live); err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(live, "a.example", "cert.pem")
	b := filepath.Join(live, "b.example", "cert.pem")
	checkItems(t, r.Items(), []want{
		{name: "a.example", source: a + " (SAN 1)"},
		{name: "www.a.example", source: a + " (SAN 2)"},
		{name: "b.example", source: b + " (SAN 1)"},
		{name: "*.b.example", source: b + " (SAN 3)"},
		{name: "xn--bcher-kva.example", source: b + " (SAN 4)"},
	})

	// The whole of /etc/letsencrypt: archive/ sorts first, and live/ then
	// adds nothing new.
	var all Reader
	if err := all.AddCerts(root); err != nil {
		t.Fatal(err)
	}
	if got := len(all.Items()); got != 5 {
		t.Errorf("whole tree: %d items, want 5: %+v", got, all.Items())
	}
	for _, it := range all.Items() {
		if it.Err != nil || !strings.Contains(it.Source, string(filepath.Separator)+"archive"+string(filepath.Separator)) {
			t.Errorf("whole tree: unexpected item %+v", it)
		}
	}
}

func TestAddCertsFiles(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	dir := t.TempDir()
	leaf, key := ca.leaf(t, 7, "der.example", "XN--BCHER-KVA.Example")
	files := map[string][]byte{
		"der.crt":        leaf,
		"chain.pem":      pemCerts(ca.der),
		"privkey.pem":    key,
		"garbage.pem":    []byte("-----BEGIN CERTIFICATE-----\nthis is not base64 !!!\n-----END CERTIFICATE-----\n"),
		"baddr.pem":      pemCerts([]byte("not DER at all")),
		"empty.crt":      nil,
		"notes.txt":      []byte("just some notes\n"),
		"bundle.pem":     append(pemCerts(leaf, ca.der), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n")...),
		"sub/deeper.cer": pemCerts(leaf),
		"sub/random.bin": {0, 1, 2, 3, 0xff},
		"with-text.pem":  append([]byte("subject=CN=x\nissuer=CN=y\n"), pemCerts(leaf)...),
		"csr.pem":        pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte{1, 2, 3}}),
	}
	for name, data := range files {
		writeFile(t, filepath.Join(dir, name), data)
	}
	symlink(t, "gone.pem", filepath.Join(dir, "dangling.pem"))
	p := func(name string) string { return filepath.Join(dir, name) }

	t.Run("named files", func(t *testing.T) {
		t.Parallel()
		var r Reader
		for _, name := range []string{"der.crt", "chain.pem", "privkey.pem", "garbage.pem", "baddr.pem"} {
			if err := r.AddCerts(p(name)); err != nil {
				t.Fatalf("AddCerts(%s): %v", name, err)
			}
		}
		items := r.Items()
		checkPrefix := func(i int, name, msg string) {
			t.Helper()
			if i >= len(items) {
				t.Fatalf("missing item %d", i)
			}
			it := items[i]
			if it.Source != p(name) || it.Name != p(name) || it.Err == nil ||
				!strings.HasPrefix(it.Err.Error(), p(name)+": ") || !strings.Contains(it.Err.Error(), msg) {
				t.Errorf("item %d = %+v, want an error for %s containing %q", i, it, name, msg)
			}
		}
		if len(items) != 6 {
			t.Fatalf("got %d items, want 6: %+v", len(items), items)
		}
		if items[0].Name != "der.example" || items[0].Source != p("der.crt")+" (SAN 1)" || items[0].Err != nil {
			t.Errorf("DER SAN 1: %+v", items[0])
		}
		if items[1].Name != "xn--bcher-kva.example" || items[1].Source != p("der.crt")+" (SAN 2)" || items[1].Err != nil {
			t.Errorf("DER SAN 2: %+v", items[1])
		}
		checkPrefix(2, "chain.pem", "only CA certificates")
		checkPrefix(3, "privkey.pem", "no certificate found")
		checkPrefix(4, "garbage.pem", "1 of 1 CERTIFICATE blocks are not valid PEM")
		checkPrefix(5, "baddr.pem", "certificate block 1: x509:")
	})

	t.Run("walk", func(t *testing.T) {
		t.Parallel()
		var r Reader
		if err := r.AddCerts(dir); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range r.Items() {
			s := strings.TrimPrefix(it.Source, dir+string(filepath.Separator))
			if it.Err != nil {
				s += " ERR " + strings.TrimPrefix(it.Err.Error(), it.Source+": ")
			} else {
				s += " " + it.Name
			}
			got = append(got, s)
		}
		want := []string{
			"baddr.pem ERR certificates: certificate block 1: x509: malformed certificate",
			"bundle.pem ERR certificates: 1 of 3 CERTIFICATE blocks are not valid PEM",
			"bundle.pem (SAN 1) der.example",
			"bundle.pem (SAN 2) xn--bcher-kva.example",
			"dangling.pem ERR certificates: broken symbolic link",
			"empty.crt ERR certificates: no certificate found: neither PEM nor DER",
			"garbage.pem ERR certificates: 1 of 1 CERTIFICATE blocks are not valid PEM",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("walk items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		var r Reader
		if err := r.AddCerts(p("nope")); err == nil || !strings.Contains(err.Error(), p("nope")) {
			t.Errorf("AddCerts(missing) = %v, want an error naming it", err)
		}
	})
}

func TestAddCertsAfterList(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	leaf, _ := ca.leaf(t, 9, "example.com", "www.example.com")
	path := filepath.Join(t.TempDir(), "cert.pem")
	writeFile(t, path, pemCerts(leaf))
	var r Reader
	r.AddArgs([]string{"www.example.com"})
	if err := r.AddCerts(path); err != nil {
		t.Fatal(err)
	}
	r.AddArgs([]string{"example.com"})
	checkItems(t, r.Items(), []want{
		{name: "www.example.com", source: "arg 1"},
		{name: "example.com", source: path + " (SAN 1)"},
		{name: "example.com", source: "arg 2", dup: true, err: "arg 2: duplicate of " + path + " (SAN 1)"},
	})
}

// TestCertStats: the counts say why a directory gave fewer names than it
// holds certificates: CA certificates, copies, leaves without DNS names.
func TestCertStats(t *testing.T) {
	ca := newCA(t)
	dir := t.TempDir()
	leaf, _ := ca.leaf(t, 2, "a.example", "b.example")
	writeFile(t, filepath.Join(dir, "cert.pem"), pemCerts(leaf))
	writeFile(t, filepath.Join(dir, "fullchain.pem"), pemCerts(leaf, ca.der))
	writeFile(t, filepath.Join(dir, "chain.pem"), pemCerts(ca.der))
	var r Reader
	if err := r.AddCerts(dir); err != nil {
		t.Fatal(err)
	}
	st := r.CertStats()
	want := CertStats{Leaves: 1, CA: 2, Copies: 1, Files: 3}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	if s := st.String(); !strings.Contains(s, "skipped 2 CA certificate(s), 1 copies") {
		t.Errorf("String() = %q", s)
	}
	// Only CA certificates: no names, and the counts say why.
	var r2 Reader
	only := t.TempDir()
	writeFile(t, filepath.Join(only, "chain.pem"), pemCerts(ca.der))
	if err := r2.AddCerts(only); err != nil {
		t.Fatal(err)
	}
	if len(r2.Items()) != 0 || r2.CertStats().CA != 1 || r2.CertStats().Leaves != 0 {
		t.Errorf("CA-only directory: items %v stats %+v", r2.Items(), r2.CertStats())
	}
}
