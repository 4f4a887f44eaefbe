package evidence

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/caaprobe/caaprobe/probes/report"
)

// Bundle file names, part of what docs/evidence.md promises.
const (
	ReportFile = "report.md"
	PcapFile   = "exchanges.pcap"
	JSONFile   = "result.json"
)

// ErrExists is returned (wrapped, with the path) when a bundle is already
// there and Force is off.
var ErrExists = errors.New("evidence bundle already exists (use --force to replace it)")

// Writer writes bundles into one directory. Every file operation goes
// through an os.Root opened on that directory, so neither a symlink nor a
// name can lead a write outside it. It is safe for concurrent use.
type Writer struct {
	dir   string
	root  *os.Root
	force bool
}

// NewWriter creates dir if needed and opens it as the root of every write.
// force allows replacing bundles that exist.
func NewWriter(dir string, force bool) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("evidence directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("evidence directory: %w", err)
	}
	return &Writer{dir: dir, root: root, force: force}, nil
}

// Close releases the directory.
func (w *Writer) Close() error { return w.root.Close() }

// Write writes d's bundle (report.md, exchanges.pcap, result.json) to
// DIR/FolderName(d.Domain) and returns its path. The bundle is built in a
// hidden folder and renamed into place, so a reader sees either the whole
// old bundle or the whole new one, never a mix or a half-written file.
func (w *Writer) Write(d *report.Domain) (string, error) {
	name := FolderName(d.Domain)
	path := filepath.Join(w.dir, name)
	var md, pcap, js bytes.Buffer
	if err := WriteMarkdown(&md, d); err != nil {
		return path, fmt.Errorf("evidence for %s: %w", d.Domain, err)
	}
	if err := WritePcap(&pcap, d); err != nil {
		return path, fmt.Errorf("evidence for %s: pcap: %w", d.Domain, err)
	}
	if err := report.WriteJSON(&js, d); err != nil {
		return path, fmt.Errorf("evidence for %s: json: %w", d.Domain, err)
	}
	old, err := w.root.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	case err != nil:
		return path, fmt.Errorf("evidence for %s: %w", d.Domain, err)
	case !w.force:
		return path, fmt.Errorf("%s: %w", path, ErrExists)
	case !old.IsDir():
		// A symlink or file where the bundle goes is not ours to remove.
		return path, fmt.Errorf("%s: exists and is not a directory (%s); not replacing it", path, old.Mode().Type())
	}
	tmp := "." + name + ".tmp-" + token()
	if err := w.root.Mkdir(tmp, 0o755); err != nil {
		return path, fmt.Errorf("evidence for %s: %w", d.Domain, err)
	}
	files := []struct {
		name string
		data []byte
	}{{ReportFile, md.Bytes()}, {PcapFile, pcap.Bytes()}, {JSONFile, js.Bytes()}}
	for _, f := range files {
		if err := w.writeFile(tmp+"/"+f.name, f.data); err != nil {
			w.root.RemoveAll(tmp)
			return path, fmt.Errorf("evidence for %s: %w", d.Domain, err)
		}
	}
	if old != nil {
		// Renaming a directory onto a non-empty one fails, so the old
		// bundle steps aside first and is removed once the new one is in.
		aside := "." + name + ".old-" + token()
		if err := w.root.Rename(name, aside); err != nil {
			w.root.RemoveAll(tmp)
			return path, fmt.Errorf("evidence for %s: moving the old bundle aside: %w", d.Domain, err)
		}
		defer w.root.RemoveAll(aside)
	}
	if err := w.root.Rename(tmp, name); err != nil {
		w.root.RemoveAll(tmp)
		return path, fmt.Errorf("evidence for %s: %w", d.Domain, err)
	}
	return path, nil
}

// writeFile creates name exclusively (never through an existing link),
// writes data and syncs it.
func (w *Writer) writeFile(name string, data []byte) error {
	f, err := w.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func token() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
