package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/agent"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/mpic"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key,
// and returns their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (cert, key string, pool *x509.CertPool) {
	t.Helper()
	return makeCert(t, dir, "server", x509.ExtKeyUsageServerAuth)
}

// makeCert writes a self-signed certificate (its own CA) with the given
// use, named name.pem and name.key in dir.
func makeCert(t *testing.T, dir, name string, use x509.ExtKeyUsage) (cert, key string, pool *x509.CertPool) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "caaprobe agent test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{use}, BasicConstraintsValid: true, IsCA: true}
	tmpl.KeyUsage |= x509.KeyUsageCertSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600)
	parsed, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(parsed)
	return cert, key, pool
}

// addrWriter captures stderr and hands over the address the agent says
// it listens on.
type addrWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string
}

var listeningRE = regexp.MustCompile(`listening on (https?://[0-9.:]+)`)

func (w *addrWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := listeningRE.FindSubmatch(w.buf.Bytes()); m != nil && w.addr != nil {
		w.addr <- string(m[1])
		w.addr = nil
	}
	return len(p), nil
}

func (w *addrWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestAgentCommand runs `caaprobe agent` itself (through run) with TLS
// from a self-signed certificate and a token file: a primary that trusts
// the certificate and gives the token gets the agent's records, tagged
// with its label, RIR and source; a wrong token and an untrusted
// certificate are that perspective's faults; the agent stops when its
// context ends.
func TestAgentCommand(t *testing.T) {
	t.Parallel()
	lab, err := fixtures.Start(fixtures.Options{Cases: fixtures.RegionalCases(nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	dir := t.TempDir()
	cert, key, pool := selfSigned(t, dir)
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte("# rotated monthly\nsecret-1\n"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan string, 1)
	stderr := &addrWriter{addr: listening}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"agent", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key, "--token-file", tok,
			"--label", "cmd1", "--rir", "RIPE", "--source", agentSource(9).String(), "--root", lab.Root.String(),
			"--port", fmt.Sprint(lab.Port), "--lab", "--timeout", "300ms", "--retries", "0"}, nil, &bytes.Buffer{}, stderr)
	}()
	var url string
	select {
	case url = <-listening:
	case err := <-done:
		t.Fatalf("the agent stopped: %v\n%s", err, stderr)
	case <-time.After(20 * time.Second):
		t.Fatalf("the agent did not start:\n%s", stderr)
	}
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("listening on %s, want https on loopback", url)
	}
	v := model.Vantage{Label: "cmd1", RIR: "RIPE"}
	c := &agent.Client{Deadline: 20 * time.Second, Remotes: []agent.Remote{
		{URL: url, Vantage: v, Token: "secret-1", TLS: &tls.Config{RootCAs: pool}},
		{URL: url, Vantage: model.Vantage{Label: "wrongtoken", RIR: "RIPE"}, Token: "secret-2", TLS: &tls.Config{RootCAs: pool}},
		{URL: url, Vantage: model.Vantage{Label: "untrusted", RIR: "RIPE"}, Token: "secret-1", TLS: &tls.Config{RootCAs: x509.NewCertPool()}},
	}}
	got := c.Check(ctx, []string{"ok.test"})
	a := got[0][0]
	if a.Fault != "" {
		t.Fatalf("good client: %s: %s\n%s", a.Fault, a.Detail, stderr)
	}
	rec := a.Records["ok.test"]
	if rec == nil || rec.Domain.Verdict != model.VerdictPass || rec.Domain.Outcome != model.OutcomeOK {
		t.Fatalf("ok.test from the agent: %+v", rec)
	}
	if len(a.Vantage.Sources) != 1 || a.Vantage.Sources[0] != agentSource(9).String() || !strings.Contains(string(rec.Raw), `"rir":"RIPE"`) {
		t.Errorf("vantage %+v, line %s: want RIR RIPE and source %s", a.Vantage, rec.Raw, agentSource(9))
	}
	if a := got[1][0]; a.Fault != mpic.FaultAuth {
		t.Errorf("wrong token: %q %q, want %q", a.Fault, a.Detail, mpic.FaultAuth)
	}
	if a := got[2][0]; a.Fault != mpic.FaultUnreachable || !strings.Contains(a.Detail, "TLS") {
		t.Errorf("untrusted certificate: %q %q, want unreachable: TLS", a.Fault, a.Detail)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("agent after its context ended: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the agent did not stop")
	}
	if !strings.Contains(stderr.String(), "caaprobe agent: stopped") {
		t.Errorf("stderr: %s", stderr)
	}
}

// TestAgentRefusesToStart: without TLS (unless --insecure-http on
// loopback), without credentials, with a token file others can read or a
// bad region, the agent does not start, and says why.
func TestAgentRefusesToStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte("s\n"), 0o600)
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte("s\n"), 0o644)
	os.Chmod(open, 0o644)
	base := []string{"agent", "--label", "a", "--rir", "ARIN", "--root", "127.0.0.2:53", "--listen", "127.0.0.1:0"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--token-file", tok}, "give --tls-cert and --tls-key"},
		{[]string{"--token-file", tok, "--insecure-http", "--listen", "192.0.2.1:8443", "--public"}, "only on a loopback"},
		{[]string{"--insecure-http"}, "give --token-file or --client-ca"},
		{[]string{"--insecure-http", "--token-file", open}, "readable by others"},
		{[]string{"--insecure-http", "--token-file", tok, "--rir", "EU"}, `--rir "EU"`},
		{[]string{"--insecure-http", "--token-file", tok, "--listen", "0.0.0.0:8443"}, "not loopback"},
		{[]string{"--insecure-http", "--token-file", tok, "--format", "json"}, "unknown flag --format"},
	} {
		var stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := run(ctx, append(append([]string{}, base...), tc.args...), nil, &bytes.Buffer{}, &stderr)
		cancel()
		if exitOf(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v (exit %d), want a usage error with %q", tc.args, err, exitOf(err), tc.want)
		}
	}
}

// TestAgentMutualTLS: an agent with --client-ca and no token accepts a
// primary that shows a certificate that CA signed, and refuses (401) one
// that shows none.
func TestAgentMutualTLS(t *testing.T) {
	t.Parallel()
	lab, err := fixtures.Start(fixtures.Options{Cases: fixtures.RegionalCases(nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	dir := t.TempDir()
	cert, key, pool := selfSigned(t, dir)
	ccert, ckey, _ := makeCert(t, dir, "client", x509.ExtKeyUsageClientAuth)
	clientPair, err := tls.LoadX509KeyPair(ccert, ckey)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listening := make(chan string, 1)
	stderr := &addrWriter{addr: listening}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"agent", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key, "--client-ca", ccert,
			"--label", "m1", "--rir", "ARIN", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--lab", "--timeout", "1"},
			nil, &bytes.Buffer{}, stderr)
	}()
	var url string
	select {
	case url = <-listening:
	case err := <-done:
		t.Fatalf("the agent stopped: %v\n%s", err, stderr)
	case <-time.After(20 * time.Second):
		t.Fatalf("the agent did not start:\n%s", stderr)
	}
	c := &agent.Client{Deadline: 20 * time.Second, Remotes: []agent.Remote{
		{URL: url, Vantage: model.Vantage{Label: "m1", RIR: "ARIN"}, TLS: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{clientPair}}},
		{URL: url, Vantage: model.Vantage{Label: "nocert", RIR: "ARIN"}, TLS: &tls.Config{RootCAs: pool}},
	}}
	got := c.Check(ctx, []string{"ok.test"})
	if a := got[0][0]; a.Fault != "" || a.Records["ok.test"] == nil {
		t.Errorf("with the client certificate: %q %q", a.Fault, a.Detail)
	}
	if a := got[1][0]; a.Fault != mpic.FaultAuth {
		t.Errorf("without a certificate: %q %q, want %q", a.Fault, a.Detail, mpic.FaultAuth)
	}
	if !strings.Contains(stderr.String(), "(client certificate;") {
		t.Errorf("the start line does not say how clients authenticate: %s", stderr)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("agent: %v", err)
	}
}
