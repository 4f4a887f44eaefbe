package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/caaprobe/caaprobe/probes/evidence"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/report"
)

// evidenceSink writes an evidence bundle for each domain a run reports,
// when --evidence is set, into a new folder for the run (nothing earlier
// is replaced). A bundle that cannot be written is reported on stderr with
// its path and the run goes on; the run then exits 1.
type evidenceSink struct {
	w       *evidence.Writer
	dir     string
	stderr  io.Writer
	onlyBad bool // demo: bundles for failing and warning domains only
	written int
	failed  int
	closed  bool
}

// newEvidenceSink creates the run's folder under --evidence DIR: a
// directory that cannot be written is a usage error (exit 2) found before
// any probing, naming the directory.
func newEvidenceSink(f *checkFlags, run *model.Run) (*evidenceSink, error) {
	if f.evidence == "" {
		return &evidenceSink{}, nil
	}
	stderr := f.stderr
	if stderr == nil {
		stderr = io.Discard
	}
	if f.force {
		fmt.Fprintln(stderr, "caaprobe: note: --force is no longer needed: each run writes its evidence into a new folder and replaces nothing")
	}
	w, err := evidence.NewWriter(f.evidence, run)
	if err != nil {
		return nil, usageErr("--evidence: %v", err)
	}
	return &evidenceSink{w: w, dir: f.evidence, stderr: stderr, onlyBad: f.evidenceOnlyBad}, nil
}

func (e *evidenceSink) add(d *model.Domain) {
	if e.w == nil || (e.onlyBad && d.Verdict != model.VerdictFail && d.Verdict != model.VerdictWarn) {
		return
	}
	path, err := e.w.Write(d)
	if err != nil {
		e.failed++
		fmt.Fprintf(e.stderr, "caaprobe: %v\n", err)
		return
	}
	e.written++
	fmt.Fprintf(e.stderr, "caaprobe: evidence for %s in %s\n", report.Clean(d.Domain), path)
}

// err is the run's error for bundles that could not be written.
func (e *evidenceSink) err() error {
	if e.failed == 0 {
		return nil
	}
	return &exitError{exitInternal, fmt.Sprintf("%d evidence bundle(s) could not be written (%d written)", e.failed, e.written)}
}

// close writes the indexes once; later calls do nothing.
func (e *evidenceSink) close() error {
	if e.w == nil || e.closed {
		return nil
	}
	e.closed = true
	if err := e.w.Close(); err != nil {
		return &exitError{exitInternal, err.Error()}
	}
	fmt.Fprintf(e.stderr, "caaprobe: evidence of this run in %s; index of every run in %s\n", e.w.RunDir(), filepath.Join(e.dir, evidence.IndexFile))
	return nil
}
