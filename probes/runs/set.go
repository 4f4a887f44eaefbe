package runs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Set is the lines of one or more JSON Lines files, indexed by domain. It
// holds each line's domain, vantage label and place in its file, not the
// line: reading 100,000 domains costs a few MB however large their
// results are. Files may come in any order (the shards of a run): entries
// are sorted by domain, then vantage, then file and line.
type Set struct {
	Files   []*File
	Entries []Entry
	labels  []string // vantage labels; Entry.vantage indexes them
}

// File is one input file. Stdin and other unseekable input is copied to
// a temporary file first, so every line can be read again by offset.
type File struct {
	Name    string // as given ("-" for stdin)
	ModTime time.Time
	f       *os.File
	tmp     bool
}

// Entry is one line of a file that names a caaprobe result.
// Its fields are kept small: a run of 100,000 domains is 100,000 of them.
type Entry struct {
	Domain  string
	Off     int64
	Line    int32
	Len     int32
	File    uint16 // index into Set.Files
	vantage uint16 // index into Set.labels
}

// Vantage is the entry's vantage label, or its file's base name when the
// line has none.
func (s *Set) Vantage(e Entry) string { return s.labels[e.vantage] }

// BadLine is called for every line that is not a caaprobe result; the
// line is skipped.
type BadLine func(file string, line int, err error)

// Open indexes the files; "-" reads stdin. bad, if not nil, hears about
// every skipped line.
func Open(paths []string, stdin io.Reader, bad BadLine) (*Set, error) {
	s := &Set{}
	if len(paths) > 1<<16-1 {
		return nil, fmt.Errorf("%d files: at most %d", len(paths), 1<<16-1)
	}
	for _, p := range paths {
		f, err := openFile(p, stdin)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.Files = append(s.Files, f)
		if err := s.index(len(s.Files)-1, bad); err != nil {
			s.Close()
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
	}
	sort.SliceStable(s.Entries, func(i, j int) bool {
		a, b := &s.Entries[i], &s.Entries[j]
		if a.Domain != b.Domain {
			return a.Domain < b.Domain
		}
		if a.vantage != b.vantage {
			return s.labels[a.vantage] < s.labels[b.vantage]
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return s, nil
}

func openFile(path string, stdin io.Reader) (*File, error) {
	if path == "-" {
		tmp, err := os.CreateTemp("", "caaprobe-stdin-*.jsonl")
		if err != nil {
			return nil, err
		}
		os.Remove(tmp.Name()) // kept open; gone when closed
		if _, err := io.Copy(tmp, stdin); err != nil {
			tmp.Close()
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
		return &File{Name: "stdin", ModTime: time.Now(), f: tmp, tmp: true}, nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	if st.Mode().IsRegular() {
		return &File{Name: path, ModTime: st.ModTime(), f: fh}, nil
	}
	if st.IsDir() {
		fh.Close()
		return nil, fmt.Errorf("%s is a directory, not a JSON Lines file", path)
	}
	// A pipe (<(caaprobe check ...)): copy it so lines can be re-read.
	f, err := openFile("-", fh)
	fh.Close()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, errors.Unwrap(err))
	}
	f.Name = path
	return f, nil
}

// peek is the part of a line the index needs.
type peek struct {
	Kind    string  `json:"kind"`
	Domain  *string `json:"domain"`
	Verdict string  `json:"verdict"`
	Vantage *struct {
		Label string `json:"label"`
	} `json:"vantage"`
}

func (s *Set) index(fi int, bad BadLine) error {
	f := s.Files[fi]
	if _, err := f.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReaderSize(f.f, 1<<16)
	fallback := filepath.Base(f.Name)
	var off int64
	var long []byte // a line longer than the buffer, gathered
	for line := int32(1); ; line++ {
		b, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], b...)
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = r.ReadSlice('\n')
				long = append(long, b...)
			}
			b = long
		}
		n := len(b)
		if n > 1<<31-1 {
			return fmt.Errorf("line %d: longer than 2 GB", line)
		}
		if n > 0 {
			if e, perr := peekLine(b); perr != nil {
				if errors.Is(perr, errProviderView) {
					// check --summary --format json ends with the provider
					// view: not a domain, not a bad line either.
				} else if bad != nil && len(bytes.TrimSpace(b)) > 0 {
					bad(f.Name, int(line), perr)
				}
			} else {
				label := fallback
				if e.Vantage != nil && e.Vantage.Label != "" {
					label = e.Vantage.Label
				}
				s.Entries = append(s.Entries, Entry{Domain: *e.Domain, vantage: s.label(label), File: uint16(fi), Line: line, Off: off, Len: int32(n)})
			}
		}
		off += int64(n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *Set) label(l string) uint16 {
	for i, have := range s.labels {
		if have == l {
			return uint16(i)
		}
	}
	if len(s.labels) == 1<<16-1 {
		return uint16(len(s.labels) - 1) // more vantages than anyone runs; lump the rest
	}
	s.labels = append(s.labels, l)
	return uint16(len(s.labels) - 1)
}

// errProviderView marks the provider-view line that check --summary
// --format json writes after the domains (docs/json.md).
var errProviderView = fmt.Errorf("%w: the provider view", ErrNotResult)

func peekLine(b []byte) (peek, error) {
	var p peek
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return p, fmt.Errorf("%w: not a JSON object", ErrNotResult)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("%w: %v", ErrNotResult, err)
	}
	if p.Kind == "provider-view" && p.Domain == nil {
		return p, errProviderView
	}
	if p.Domain == nil || *p.Domain == "" {
		return p, fmt.Errorf("%w: no \"domain\" key", ErrNotResult)
	}
	switch p.Verdict {
	case "pass", "warn", "fail", "error":
	default:
		return p, fmt.Errorf("%w: verdict %q", ErrNotResult, p.Verdict)
	}
	return p, nil
}

// Read decodes the line of e.
func (s *Set) Read(e Entry) (*Record, error) {
	f := s.Files[e.File]
	buf := make([]byte, e.Len)
	if _, err := f.f.ReadAt(buf, e.Off); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", f.Name, e.Line, err)
	}
	rec, err := Decode(buf)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %w", f.Name, e.Line, err)
	}
	rec.File, rec.Line = f.Name, int(e.Line)
	if rec.Vantage.Label == "" {
		rec.Vantage.Label = s.Vantage(e)
	}
	if rec.Time.IsZero() {
		// Runs before "time" was recorded: the file's time is the best
		// there is (the end of the run, not its start).
		rec.Time = f.ModTime
	}
	return rec, nil
}

// Groups calls fn with the entries of each domain in turn, in domain order.
func (s *Set) Groups(fn func(domain string, es []Entry) error) error {
	for i := 0; i < len(s.Entries); {
		j := i + 1
		for j < len(s.Entries) && s.Entries[j].Domain == s.Entries[i].Domain {
			j++
		}
		if err := fn(s.Entries[i].Domain, s.Entries[i:j]); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// Vantages lists the distinct vantage labels, sorted.
func (s *Set) Vantages() []string {
	seen := map[uint16]bool{}
	var out []string
	for _, e := range s.Entries {
		if !seen[e.vantage] {
			seen[e.vantage] = true
			out = append(out, s.labels[e.vantage])
		}
	}
	sort.Strings(out)
	return out
}

// Close closes (and so removes the temporary copies of) every file.
func (s *Set) Close() error {
	var first error
	for _, f := range s.Files {
		if err := f.f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
