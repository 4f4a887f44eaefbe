package evidence

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render/jsonl"
)

// Bundle file names, part of what docs/evidence.md promises.
const (
	ReportFile = "report.md"
	PcapFile   = "exchanges.pcap"
	JSONFile   = "result.json"
	// IndexFile lists bundles with their verdicts and failing servers: one
	// at the top of the evidence directory (every run, newest first) and
	// one in each run folder.
	IndexFile = "index.md"
)

// RunFolderFormat names a run's folder after the time it started (UTC), so
// folders sort in the order the runs were made.
const RunFolderFormat = "20060102T150405Z"

// Writer writes the bundles of one run into a folder of its own under the
// evidence directory, DIR/<UTC start time>/<domain>/, so a rerun never
// replaces earlier evidence. Every file operation goes through an os.Root
// opened on the directory, so neither a symlink nor a name can lead a
// write outside it. It is safe for concurrent use.
type Writer struct {
	dir    string   // the evidence directory
	runDir string   // the run folder's name inside it
	top    *os.Root // dir
	root   *os.Root // dir/runDir
	run    *model.Run

	mu      sync.Mutex
	used    map[string]bool // bundle folders taken in this run
	entries []indexEntry
	preface string   // Markdown at the top of each report and of the run's index
	files   []string // the run's own files (AddFile), listed in the indexes
}

// indexEntry is one bundle's line in the index.
type indexEntry struct {
	domain, verdict, outcome, folder string
	failing                          []string
}

// NewWriter creates dir if needed and, inside it, this run's folder, named
// after run.Started (now when unset); when that name is taken (two runs in
// one second) a counter is added. Creating the folder is the check that
// dir is writable: it runs before any domain is probed.
func NewWriter(dir string, run *model.Run) (*Writer, error) {
	if run == nil {
		run = &model.Run{}
	}
	started := run.Started
	if started.IsZero() {
		started = time.Now()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("evidence directory %s: %w", dir, err)
	}
	top, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("evidence directory %s: %w", dir, err)
	}
	base := started.UTC().Format(RunFolderFormat)
	name := base
	for n := 2; ; n++ {
		err = top.Mkdir(name, 0o755)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || n > 1000 {
			top.Close()
			return nil, fmt.Errorf("evidence directory %s: cannot create the run folder: %w", dir, err)
		}
		name = fmt.Sprintf("%s-%d", base, n)
	}
	root, err := top.OpenRoot(name)
	if err != nil {
		top.Close()
		return nil, fmt.Errorf("evidence directory %s: %w", dir, err)
	}
	return &Writer{dir: dir, runDir: name, top: top, root: root, run: run, used: map[string]bool{}}, nil
}

// RunDir is the path of this run's folder.
func (w *Writer) RunDir() string { return filepath.Join(w.dir, w.runDir) }

// SetPreface sets Markdown put at the top of every report.md written
// after it and of the run's index: what the run was for (explain puts the
// CA's message and its answer there). The caller escapes what it quotes;
// control characters are escaped here as in the rest of the report.
func (w *Writer) SetPreface(md string) {
	w.mu.Lock()
	w.preface = md
	w.mu.Unlock()
}

// AddFile writes a file of the run itself (explain's message.txt) into
// the run folder, created exclusively, and lists it in the indexes. name
// is one plain file name.
func (w *Writer) AddFile(name string, data []byte) error {
	if name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") || name == IndexFile {
		return fmt.Errorf("evidence file %q: not a plain file name", name)
	}
	if err := writeFile(w.root, name, data); err != nil {
		return fmt.Errorf("evidence file %s: %w", filepath.Join(w.RunDir(), name), err)
	}
	w.mu.Lock()
	w.files = append(w.files, name)
	w.mu.Unlock()
	return nil
}

// Close writes the run's index (in the run folder, and at the top of the
// evidence directory before the earlier runs') and releases the directory.
func (w *Writer) Close() error {
	err := w.writeIndexes()
	w.root.Close()
	w.top.Close()
	return err
}

// Write writes d's bundle (report.md, exchanges.pcap, result.json) to
// DIR/RUN/FolderName(d.Domain) and returns its path. A domain reported
// twice in one run gets a second folder ("_n2"). The bundle is built in a
// hidden folder and renamed into place, so a reader never sees a
// half-written bundle; errors name the bundle's path.
func (w *Writer) Write(d *model.Domain) (string, error) {
	w.mu.Lock()
	name := FolderName(d.Domain)
	for n := 2; w.used[name]; n++ {
		name = fmt.Sprintf("%s_n%d", FolderName(d.Domain), n)
	}
	w.used[name] = true
	w.mu.Unlock()
	path := filepath.Join(w.dir, w.runDir, name)
	fail := func(what string, err error) (string, error) {
		return path, fmt.Errorf("evidence for %s in %s: %s%w", d.Domain, path, what, err)
	}
	var md, pcap, js bytes.Buffer
	w.mu.Lock()
	if w.preface != "" {
		md.WriteString(sanitize(w.preface) + "\n")
	}
	w.mu.Unlock()
	if err := WriteMarkdownRun(&md, d, w.run); err != nil {
		return fail("", err)
	}
	if err := WritePcap(&pcap, d); err != nil {
		return fail("pcap: ", err)
	}
	if err := jsonl.WriteRun(&js, d, w.run); err != nil {
		return fail("json: ", err)
	}
	if _, err := w.root.Lstat(name); err == nil {
		return fail("", fs.ErrExist) // not ours: the run folder is new
	}
	tmp := "." + name + ".tmp-" + token()
	if err := w.root.Mkdir(tmp, 0o755); err != nil {
		return fail("", err)
	}
	files := []struct {
		name string
		data []byte
	}{{ReportFile, md.Bytes()}, {PcapFile, pcap.Bytes()}, {JSONFile, js.Bytes()}}
	for _, f := range files {
		if err := writeFile(w.root, tmp+"/"+f.name, f.data); err != nil {
			w.root.RemoveAll(tmp)
			// The error names the hidden folder; say what failed instead.
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return fail(f.name+": ", err)
		}
	}
	if err := w.root.Rename(tmp, name); err != nil {
		w.root.RemoveAll(tmp)
		return fail("", err)
	}
	w.mu.Lock()
	w.entries = append(w.entries, indexEntry{domain: d.Domain, verdict: string(d.Verdict), outcome: string(d.Outcome),
		folder: name, failing: model.Labels(d.FailingServers())})
	w.mu.Unlock()
	return path, nil
}

// writeFile creates name exclusively (never through an existing link),
// writes data and syncs it.
func writeFile(root *os.Root, name string, data []byte) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
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

// runHeading starts a run's section in an index; the top index is split
// at it to keep the earlier runs' sections.
const runHeading = "\n## Run "

func (w *Writer) writeIndexes() error {
	w.mu.Lock()
	entries := append([]indexEntry(nil), w.entries...)
	preface := w.preface
	w.mu.Unlock()
	sort.SliceStable(entries, func(i, j int) bool {
		// Worst first: the reverse of model.Verdict.Rank.
		if ri, rj := model.Verdict(entries[i].verdict).Rank(), model.Verdict(entries[j].verdict).Rank(); ri != rj {
			return ri > rj
		}
		return entries[i].domain < entries[j].domain
	})
	var own, top bytes.Buffer
	if preface != "" {
		own.WriteString(sanitize(preface) + "\n")
	}
	w.runSection(&own, entries, "")
	if err := replaceFile(w.root, IndexFile, own.Bytes()); err != nil {
		return fmt.Errorf("evidence index %s: %w", filepath.Join(w.RunDir(), IndexFile), err)
	}
	top.WriteString("# caaprobe evidence\n\nEach run of caaprobe wrote its bundles into a folder of its own, named after the time it started (UTC); the newest run comes first. ")
	top.WriteString("A bundle holds report.md (the report for the provider), exchanges.pcap and result.json; docs/evidence.md says what is in each.\n")
	w.runSection(&top, entries, w.runDir+"/")
	if old, err := readFile(w.top, IndexFile); err == nil {
		if i := bytes.Index(old, []byte(runHeading)); i >= 0 {
			top.Write(old[i:])
		}
	}
	if err := replaceFile(w.top, IndexFile, top.Bytes()); err != nil {
		return fmt.Errorf("evidence index %s: %w", filepath.Join(w.dir, IndexFile), err)
	}
	return nil
}

// runSection writes the run's heading, what ran, and one table row per
// bundle, linking to its report through prefix (the run folder from the
// top index, "" inside it).
func (w *Writer) runSection(b *bytes.Buffer, entries []indexEntry, prefix string) {
	fmt.Fprintf(b, "%s%s\n\n", runHeading, w.runDir)
	var run bytes.Buffer
	writeRun(&run, w.run)
	if run.Len() > 0 {
		b.WriteString("| | |\n|---|---|\n")
		b.Write(run.Bytes())
		b.WriteString("\n")
	}
	w.mu.Lock()
	files := slices.Clone(w.files)
	w.mu.Unlock()
	if len(files) > 0 {
		b.WriteString("Files of the run:")
		for i, f := range files {
			sep := ","
			if i == len(files)-1 {
				sep = "."
			}
			fmt.Fprintf(b, " [%s](%s)%s", cell(f), prefix+f, sep)
		}
		b.WriteString("\n\n")
	}
	if len(entries) == 0 {
		b.WriteString("No bundles were written in this run.\n")
		return
	}
	b.WriteString("| Domain | Verdict | Predicted outcome | Failing servers | Bundle |\n|---|---|---|---|---|\n")
	for _, e := range entries {
		failing := strings.Join(e.failing, ", ")
		if failing == "" {
			failing = "-"
		}
		outcome := e.outcome
		if outcome == "" {
			outcome = "unknown"
		}
		link := prefix + e.folder + "/" + ReportFile
		fmt.Fprintf(b, "| %s | **%s** | %s | %s | [%s](%s) |\n", cell(e.domain), cell(e.verdict), cell(outcome), cell(failing),
			cell(e.folder+"/"+ReportFile), link)
	}
	sanitized := sanitize(b.String())
	b.Reset()
	b.WriteString(sanitized)
}

func readFile(root *os.Root, name string) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 64<<20))
}

// replaceFile writes name whole through Atomic, so a reader sees the old
// or the new index, never a part.
func replaceFile(root *os.Root, name string, data []byte) error {
	a, err := createAtomic(root, name)
	if err != nil {
		return err
	}
	if _, err := a.Write(data); err != nil {
		a.Abort()
		return err
	}
	return a.Commit()
}

func token() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
