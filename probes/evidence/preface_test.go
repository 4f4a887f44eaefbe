package evidence

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
)

// TestPrefaceAndFiles: a preface heads every report.md and the run's
// index (its control characters escaped); a file of the run is written
// into the run folder and linked from both indexes; a name that is not a
// plain file name is refused, naming it.
func TestPrefaceAndFiles(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, &model.Run{Started: time.Date(2026, 11, 30, 3, 15, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	w.SetPreface("# Why this run\n\nbecause\x1b[31m\n")
	if err := w.AddFile("message.txt", []byte("the message\n")); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"../x", "a/b", ".hidden", "", IndexFile} {
		if err := w.AddFile(bad, nil); err == nil || !strings.Contains(err.Error(), `"`+bad+`"`) {
			t.Errorf("AddFile(%q): %v", bad, err)
		}
	}
	path, err := w.Write(fakeDomain(t, "notimp.test"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rep := readString(t, filepath.Join(path, ReportFile))
	if !strings.HasPrefix(rep, "# Why this run\n\nbecause\\") || strings.Contains(rep, "\x1b") || !strings.Contains(rep, "# CAA evidence for notimp.test") {
		t.Errorf("report.md:\n%s", rep)
	}
	if got := readString(t, filepath.Join(w.RunDir(), "message.txt")); got != "the message\n" {
		t.Errorf("message.txt %q", got)
	}
	own := readString(t, filepath.Join(w.RunDir(), IndexFile))
	if !strings.HasPrefix(own, "# Why this run\n") || !strings.Contains(own, "[message.txt](message.txt)") {
		t.Errorf("run index:\n%s", own)
	}
	top := readString(t, filepath.Join(dir, IndexFile))
	if !strings.Contains(top, "[message.txt](20261130T031500Z/message.txt)") || strings.HasPrefix(top, "# Why this run") {
		t.Errorf("top index:\n%s", top)
	}
}
