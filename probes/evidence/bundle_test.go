package evidence

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
)

// fakeDomain is a small failing domain without a lab: one NOTIMP exchange.
func fakeDomain(t *testing.T, name string) *model.Domain {
	t.Helper()
	q, err := wire.BuildQuery("notimp.test", 257, true, true)
	if err != nil {
		t.Fatal(err)
	}
	reply := append([]byte(nil), q...)
	reply[2], reply[3] = 0x80, 0x04 // QR, NOTIMP
	ex := &model.Exchange{Server: mustAddrPort("127.0.0.13:53"), Transport: model.UDP, Query: q, Reply: reply,
		Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), RTT: time.Millisecond, Attempts: 1}
	r := judge.Exchange(catalog.Catalog[1], judge.Context{Zone: model.MustName("notimp.test."), Name: model.MustName("notimp.test."), Exists: true}, ex, nil)
	d := &model.Domain{Domain: name, Servers: []*model.Server{{Zone: model.MustName("notimp.test."), NS: "ns1.notimp.test.", Addr: ex.Server.Addr(), Results: []*model.Result{&r}}}}
	judge.Summarise(d)
	return d
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWriteBundle: a run writes its bundles into a folder named after its
// start, and an index at the top and in the run folder lists each with its
// verdict and failing servers. A rerun at the same second gets a folder of
// its own: nothing earlier is replaced, and the top index lists both runs,
// the newer first.
func TestWriteBundle(t *testing.T) {
	dir := t.TempDir()
	started := time.Date(2026, 11, 30, 3, 15, 0, 0, time.UTC)
	run := &model.Run{Version: "v9.9.9 rev abc", Command: []string{"check", "--evidence", dir, "notimp.test"}, Started: started,
		Vantage: &model.Vantage{Label: "lab-vantage", Host: "host1", Sources: []string{"127.0.0.1"}}}
	w, err := NewWriter(dir, run)
	if err != nil {
		t.Fatal(err)
	}
	d := fakeDomain(t, "notimp.test")
	d.Names = []*model.Name{{Name: model.MustName("notimp.test."), Zone: model.MustName("notimp.test."), Failing: []model.ServerRef{{NS: "ns1.notimp.test", Addr: netip.MustParseAddr("127.0.0.13")}}}}
	path, err := w.Write(d)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "20261130T031500Z", "notimp.test"); path != want || w.RunDir() != filepath.Dir(want) {
		t.Errorf("path %s, run folder %s; want %s", path, w.RunDir(), want)
	}
	for _, f := range []string{ReportFile, PcapFile, JSONFile} {
		fi, err := os.Stat(filepath.Join(path, f))
		if err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v (size %v)", f, err, fi)
		}
	}
	md := readString(t, filepath.Join(path, ReportFile))
	for _, want := range []string{"| caaprobe version | v9.9.9 rev abc |", "caaprobe check --evidence " + dir + " notimp.test",
		"lab-vantage (host host1; source addresses 127.0.0.1)", "2026-11-30 03:15:00.000000 UTC"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	js := readString(t, filepath.Join(path, JSONFile))
	for _, want := range []string{`"caaprobe_version":"v9.9.9 rev abc"`, `"label":"lab-vantage"`, `"checked_at":"2026-01-02T03:04:05Z"`} {
		if !strings.Contains(js, want) {
			t.Errorf("result.json lacks %s", want)
		}
	}
	// The same domain twice in one run: a second folder, not a clash.
	again, err := w.Write(fakeDomain(t, "notimp.test"))
	if err != nil || filepath.Base(again) != "notimp.test_n2" {
		t.Errorf("second bundle of one run: %s, %v", again, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(w.RunDir())
	if len(entries) != 3 { // two bundles and the index: no temporary folder left
		t.Errorf("run folder holds %v", entries)
	}
	for _, idx := range []string{filepath.Join(dir, IndexFile), filepath.Join(w.RunDir(), IndexFile)} {
		s := readString(t, idx)
		for _, want := range []string{"| notimp.test | **fail** |", "ns1.notimp.test (127.0.0.13)", "notimp.test/report.md", "## Run 20261130T031500Z"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s lacks %q:\n%s", idx, want, s)
			}
		}
	}

	// The rerun.
	w2, err := NewWriter(dir, run)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(w2.RunDir()) != "20261130T031500Z-2" {
		t.Errorf("rerun folder %s", w2.RunDir())
	}
	if _, err := w2.Write(fakeDomain(t, "other.test")); err != nil {
		t.Fatal(err)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if readString(t, filepath.Join(path, ReportFile)) != md {
		t.Error("the rerun changed the first run's bundle")
	}
	top := readString(t, filepath.Join(dir, IndexFile))
	second, first := strings.Index(top, "## Run 20261130T031500Z-2"), strings.Index(top, "## Run 20261130T031500Z\n")
	if second < 0 || first < 0 || second > first || strings.Count(top, "# caaprobe evidence") != 1 {
		t.Errorf("top index does not list both runs, newest first:\n%s", top)
	}
	if !strings.Contains(top, "(20261130T031500Z-2/other.test/report.md)") || !strings.Contains(top, "(20261130T031500Z/notimp.test/report.md)") {
		t.Errorf("top index links:\n%s", top)
	}
}

// TestWriterUnwritable: an evidence directory that cannot be written is
// found when the writer is made, before any bundle, and the error names it.
func TestWriterUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain-file")
	os.WriteFile(file, []byte("x"), 0o644)
	dirs := []string{file, filepath.Join(file, "sub")}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := t.TempDir()
		os.Chmod(ro, 0o555)
		t.Cleanup(func() { os.Chmod(ro, 0o755) })
		dirs = append(dirs, ro)
	}
	for _, dir := range dirs {
		if w, err := NewWriter(dir, nil); err == nil {
			w.Close()
			t.Errorf("NewWriter(%s) succeeded", dir)
		} else if !strings.Contains(err.Error(), dir) {
			t.Errorf("error does not name %s: %v", dir, err)
		}
	}
}

// TestWriteNoSymlinkEscape puts symlinks where the run folder and the top
// index go, pointing outside DIR: nothing may be written through them.
func TestWriteNoSymlinkEscape(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	started := time.Date(2026, 11, 30, 3, 15, 0, 0, time.UTC)
	if err := os.Symlink(outside, filepath.Join(dir, started.Format(RunFolderFormat))); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(outside, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	if err := os.Symlink(victim, filepath.Join(dir, IndexFile)); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(dir, &model.Run{Started: started})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(fakeDomain(t, "notimp.test")); err != nil {
		t.Fatal(err)
	}
	// A hostile domain name cannot climb out either.
	if _, err := w.Write(fakeDomain(t, "../../etc")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Errorf("wrote outside DIR: %v", entries)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("file outside DIR changed to %q", b)
	}
	if _, err := os.Stat(filepath.Join(w.RunDir(), FolderName("../../etc"), ReportFile)); err != nil {
		t.Errorf("bundle for ../../etc not inside the run folder: %v", err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, IndexFile)); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("top index is not a regular file: %v %v", fi, err)
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
	q, err := wire.BuildQuery("drop.test", 257, true, true)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ex := &model.Exchange{Server: mustAddrPort("127.0.0.9:53"), Transport: model.UDP, Query: q,
		Start: t0.Add(3 * time.Second), RTT: time.Second, Attempts: 3, Timeouts: 3, Err: model.ErrTimeout,
		Earlier: []model.Attempt{{ID: 4660, Start: t0, Waited: time.Second}, {ID: 22136, Start: t0.Add(1500 * time.Millisecond), Waited: time.Second}}}
	var b bytes.Buffer
	if err := WriteTranscript(&b, ex, Meta{Probe: catalog.ProbeCAA}); err != nil {
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
