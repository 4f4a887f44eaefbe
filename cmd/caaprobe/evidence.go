package main

import (
	"fmt"
	"io"

	"github.com/caaprobe/caaprobe/probes/evidence"
	"github.com/caaprobe/caaprobe/probes/report"
)

// evidenceSink writes an evidence bundle for each domain a run reports,
// when --evidence is set. A bundle that cannot be written is reported on
// stderr with its path and the run goes on; the run then exits 1.
type evidenceSink struct {
	w       *evidence.Writer
	stderr  io.Writer
	onlyBad bool // demo: bundles for failing and warning domains only
	written int
	failed  int
}

func newEvidenceSink(f *checkFlags) (*evidenceSink, error) {
	if f.evidence == "" {
		return &evidenceSink{}, nil
	}
	w, err := evidence.NewWriter(f.evidence, f.force)
	if err != nil {
		return nil, &exitError{exitInternal, fmt.Sprintf("--evidence %s: %v", f.evidence, err)}
	}
	stderr := f.stderr
	if stderr == nil {
		stderr = io.Discard
	}
	return &evidenceSink{w: w, stderr: stderr, onlyBad: f.evidenceOnlyBad}, nil
}

func (e *evidenceSink) add(d *report.Domain) {
	if e.w == nil || (e.onlyBad && d.Verdict != report.VerdictFail && d.Verdict != report.VerdictWarn) {
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

func (e *evidenceSink) close() {
	if e.w != nil {
		e.w.Close()
	}
}
