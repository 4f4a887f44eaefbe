package evidence

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Atomic is a file written whole or not at all: the bytes go to a hidden
// temporary file in the same directory (".NAME.tmp-RANDOM", created
// exclusively, never through a link), and Commit syncs it and renames it
// over NAME, so a reader sees the old file or the new one, never a part.
// Abort removes the temporary file and leaves the old one untouched. It
// is the one way caaprobe replaces a file: the evidence indexes and the
// report of -o FILE.
type Atomic struct {
	root     *os.Root
	ownRoot  bool // root was opened for this file (CreateAtomic)
	f        *os.File
	tmp      string
	name     string
	finished bool
}

// CreateAtomic starts replacing path. The new file gets the old one's
// permissions when it exists, else 0644 (less the umask).
func CreateAtomic(path string) (*Atomic, error) {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target // replace the file a link points to, not the link
	}
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	a, err := createAtomic(root, filepath.Base(path))
	if err != nil {
		root.Close()
		return nil, err
	}
	a.ownRoot = true
	return a, nil
}

func createAtomic(root *os.Root, name string) (*Atomic, error) {
	mode := fs.FileMode(0o644)
	if st, err := root.Stat(name); err == nil {
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: not a regular file, cannot be replaced", name)
		}
		mode = st.Mode().Perm()
	}
	tmp := "." + name + ".tmp-" + token()
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return nil, err
	}
	return &Atomic{root: root, f: f, tmp: tmp, name: name}, nil
}

// Write writes to the temporary file.
func (a *Atomic) Write(p []byte) (int, error) { return a.f.Write(p) }

// Commit syncs the temporary file and renames it over the file; on any
// error the temporary file is removed and the old file stays.
func (a *Atomic) Commit() error {
	if a.finished {
		return errors.New("atomic file already finished")
	}
	a.finished = true
	err := a.f.Sync()
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = a.root.Rename(a.tmp, a.name)
	}
	if err != nil {
		a.root.Remove(a.tmp)
	}
	a.closeRoot()
	return err
}

// Abort removes the temporary file; the old file stays as it was. It does
// nothing after Commit.
func (a *Atomic) Abort() {
	if a.finished {
		return
	}
	a.finished = true
	a.f.Close()
	a.root.Remove(a.tmp)
	a.closeRoot()
}

func (a *Atomic) closeRoot() {
	if a.ownRoot {
		a.root.Close()
	}
}
