package evidence

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/caaprobe/caaprobe/probes/report"
)

// fakeDomain is a small failing domain without a lab: one NOTIMP exchange.
func fakeDomain(t *testing.T, name string) *report.Domain {
	t.Helper()
	q, err := probes.BuildQuery("notimp.test", 257, true, true)
	if err != nil {
		t.Fatal(err)
	}
	reply := append([]byte(nil), q...)
	reply[2], reply[3] = 0x80, 0x04 // QR, NOTIMP
	ex := &probes.Exchange{Server: mustAddrPort("127.0.0.13:53"), Transport: probes.UDP, Query: q, Reply: reply,
		Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), RTT: time.Millisecond, Attempts: 1}
	r := probes.Judge(probes.Catalog[1], probes.JudgeContext{Zone: "notimp.test.", Name: "notimp.test.", Exists: true}, ex, nil)
	d := &report.Domain{Domain: name, Servers: []*report.Server{{Zone: "notimp.test.", NS: "ns1.notimp.test.", Addr: ex.Server.Addr(), Results: []*probes.Result{&r}}}}
	d.Summarise()
	return d
}

func TestWriteBundle(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	path, err := w.Write(fakeDomain(t, "notimp.test"))
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "notimp.test") {
		t.Errorf("path %s", path)
	}
	for _, f := range []string{ReportFile, PcapFile, JSONFile} {
		fi, err := os.Stat(filepath.Join(path, f))
		if err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v (size %v)", f, err, fi)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("leftovers in %s: %v", dir, entries)
	}
	// Again without force: refused, with the path in the error.
	_, err = w.Write(fakeDomain(t, "notimp.test"))
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), path) {
		t.Errorf("second write without force: %v", err)
	}
	// With force: replaced whole, nothing left over.
	wf, err := NewWriter(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer wf.Close()
	os.WriteFile(filepath.Join(path, "stale.txt"), []byte("old"), 0o644)
	if _, err := wf.Write(fakeDomain(t, "notimp.test")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(path, "stale.txt")); !os.IsNotExist(err) {
		t.Errorf("old bundle not replaced whole: %v", err)
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("leftovers after force: %v", entries)
	}
}

// TestWriteNoSymlinkEscape puts symlinks where the bundle and its files go,
// pointing outside DIR: nothing may be written through them.
func TestWriteNoSymlinkEscape(t *testing.T) {
	for _, force := range []bool{false, true} {
		dir, outside := t.TempDir(), t.TempDir()
		if err := os.Symlink(outside, filepath.Join(dir, "notimp.test")); err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(dir, force)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(fakeDomain(t, "notimp.test")); err == nil {
			t.Errorf("force=%v: writing over a symlinked bundle succeeded", force)
		}
		w.Close()
		if entries, _ := os.ReadDir(outside); len(entries) != 0 {
			t.Errorf("force=%v: wrote outside DIR: %v", force, entries)
		}
	}
	// A symlinked file inside an existing bundle is replaced, not followed.
	dir, outside := t.TempDir(), t.TempDir()
	target := filepath.Join(outside, "victim")
	os.WriteFile(target, []byte("keep"), 0o644)
	os.Mkdir(filepath.Join(dir, "notimp.test"), 0o755)
	if err := os.Symlink(target, filepath.Join(dir, "notimp.test", ReportFile)); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write(fakeDomain(t, "notimp.test")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("file outside DIR changed to %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "notimp.test", ReportFile)); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("report.md is not a regular file: %v %v", fi, err)
	}
	// A hostile domain name cannot climb out either.
	if _, err := w.Write(fakeDomain(t, "../../etc")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, FolderName("../../etc"), ReportFile)); err != nil {
		t.Errorf("bundle for ../../etc not inside DIR: %v", err)
	}
}

func TestFolderName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"example.com", "example.com"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"*.example.com", "_wildcard.example.com"},
		{"_wildcard.example.com", "_5fwildcard.example.com"},
		{"a*.example.com", "a_2a.example.com"},
		{"Example.COM", "_45xample._43_4f_4d"},
		{"", "_empty"},
		{".", "_2e"},
		{"..", "_2e."},
		{"../../etc", "_2e._2f.._2fetc"},
		{"a/b", "a_2fb"},
		{"a\\b", "a_5cb"},
		{"ünï.test", "_c3_bcn_c3_af.test"},
	} {
		if got := FolderName(tc.in); got != tc.want {
			t.Errorf("FolderName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("a", 250)
	a, b := FolderName(long+"x"), FolderName(long+"y")
	if len(a) > maxFolder || a == b {
		t.Errorf("long names: %q (%d) and %q", a, len(a), b)
	}
}

// checkFolder holds FolderName to its promises for any input.
func checkFolder(t *testing.T, in string) string {
	got := FolderName(in)
	if got == "" || got == "." || got == ".." || len(got) > maxFolder || strings.HasPrefix(got, ".") {
		t.Fatalf("FolderName(%q) = %q", in, got)
	}
	for _, c := range []byte(got) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			t.Fatalf("FolderName(%q) = %q holds %q", in, got, c)
		}
	}
	return got
}

func FuzzFolderName(f *testing.F) {
	for _, s := range []string{"example.com", "*.example.com", "_wildcard.example.com", "..", "", "a/b", strings.Repeat("x", 300)} {
		f.Add(s, s+".")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		fa, fb := checkFolder(t, a), checkFolder(t, b)
		if a != b && fa == fb {
			t.Fatalf("%q and %q share folder %q", a, b, fa)
		}
	})
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// TestTranscriptListsRetries: a timeout's transcript names every query that
// went unanswered, with its ID and time, not only the last one.
func TestTranscriptListsRetries(t *testing.T) {
	q, err := probes.BuildQuery("drop.test", 257, true, true)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ex := &probes.Exchange{Server: mustAddrPort("127.0.0.9:53"), Transport: probes.UDP, Query: q,
		Start: t0.Add(3 * time.Second), RTT: time.Second, Attempts: 3, Timeouts: 3, Err: probes.ErrTimeout,
		Earlier: []probes.Attempt{{ID: 4660, Start: t0, Waited: time.Second}, {ID: 22136, Start: t0.Add(1500 * time.Millisecond), Waited: time.Second}}}
	var b bytes.Buffer
	if err := writeTranscript(&b, ex, Meta{Probe: probes.ProbeCAA}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		";; attempts: 3 (3 timed out)",
		";;   attempt 1: ID 4660 sent 2026-01-02 03:04:05.000000 UTC, no reply within 1000.000 ms",
		";;   attempt 2: ID 22136 sent 2026-01-02 03:04:06.500000 UTC, no reply within 1000.000 ms",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("transcript lacks %q:\n%s", want, b.String())
		}
	}
}
