// Package rendertest holds what the sinks' golden tests share: one fixed
// domain, read back from the JSON golden file of probes/render/jsonl (so every
// sink renders the same bytes the JSON contract fixes), fixed changes
// between two runs, and the golden-file comparison.
package rendertest

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/runs"
)

// SplitLine is the JSON line of probes/render/jsonl's golden split.test: one
// server answers CAA, the other NOTIMP.
func SplitLine(t testing.TB) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "jsonl", "testdata", "split.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b, []byte("\n"))
}

// Split is split.test decoded from SplitLine.
func Split(t testing.TB) *model.Domain {
	t.Helper()
	rec, err := runs.Decode(SplitLine(t))
	if err != nil {
		t.Fatal(err)
	}
	return rec.Domain
}

// Changes are a diff's changes for one domain: one for the worse, one
// not, with text a server controls in them.
func Changes() []runs.Change {
	return []runs.Change{
		{Domain: "split.test", Kind: runs.ChangeFindingNew, Worse: true, Zone: "split.test", Server: "ns2.split.test (127.0.0.29)",
			Code: "rcode-notimp", New: "fail", Detail: "NOTIMP to CAA | *not* markup*"},
		{Domain: "split.test", Kind: runs.ChangeAddresses, Zone: "split.test", Old: "127.0.0.28", New: "127.0.0.28 127.0.0.30"},
	}
}

// Stats are the counts of a diff that found Changes.
func Stats() runs.DiffStats {
	return runs.DiffStats{Old: 3, New: 3, Changed: 1, Worse: 1, Changes: 2, WorseChanges: 1}
}

// Golden compares got with testdata/name; with update it rewrites the
// file first.
func Golden(t *testing.T, update bool, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", name, got, want)
	}
}
