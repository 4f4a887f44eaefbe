//go:build unix

package input

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCertsFIFOInDirSaid: a FIFO in a --cert directory is not read (it
// would wait for a writer) and not passed over in silence: CertStats
// counts it and names it, and the certificates beside it are used.
func TestCertsFIFOInDirSaid(t *testing.T) {
	ca := newCA(t)
	dir := t.TempDir()
	leaf, _ := ca.leaf(t, 2, "a.example")
	writeFile(t, filepath.Join(dir, "cert.pem"), pemCerts(leaf))
	fifo := filepath.Join(dir, "pipe.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	var r Reader
	if err := r.AddCerts(dir); err != nil {
		t.Fatal(err)
	}
	st := r.CertStats()
	if st.Special != 1 || st.Leaves != 1 {
		t.Errorf("stats %+v, want 1 leaf and 1 special file", st)
	}
	if s := st.String(); !strings.Contains(s, "1 file(s) that are not regular files, not read: "+fifo+" (FIFO)") {
		t.Errorf("String() = %q does not name the FIFO", s)
	}
	if items := r.Items(); len(items) != 1 || items[0].Name != "a.example" {
		t.Errorf("items %+v, want a.example", items)
	}
}
