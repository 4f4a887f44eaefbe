package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/caaprobe/caaprobe/probes/evidence"
)

// streams readies a check-style run's output: stderr shared by the input
// reader, the engine's warnings and the report, which write from their own
// goroutines (so locked, and kept in f for the engine), and stdout, or
// --output FILE in its place (openOutputFile), with the func that closes it.
func (f *checkFlags) streams(stdout, stderr io.Writer) (io.Writer, io.Writer, func(*error), error) {
	stderr = &lockedWriter{w: stderr}
	f.stderr = stderr
	stdout, closeOut, err := openOutputFile(f.output, stdout, stderr)
	return stdout, stderr, closeOut, err
}

// openOutputFile opens -o FILE in place of stdout. A regular file (or a
// new one) is replaced atomically (evidence.Atomic): the report goes to a
// temporary file in the same directory, which the returned func renames
// over FILE when the run produced its report (exit 0, 3 or 4), and
// removes otherwise (caaprobe failed, an interrupt, a write error such as
// a full disk, bad usage), so the old FILE is never lost to half a
// report. A FILE that exists and is not a regular file (/dev/stdout, a
// pipe) is written directly. The func sets *err when the report could not
// be written.
func openOutputFile(path string, stdout, stderr io.Writer) (io.Writer, func(*error), error) {
	if path == "" {
		return stdout, func(*error) {}, nil
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		fh, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, nil, usageErr("--output %s: %v", path, err)
		}
		return fh, func(err *error) {
			if cerr := fh.Close(); cerr != nil && *err == nil {
				*err = fmt.Errorf("--output %s: %w", path, cerr)
			}
		}, nil
	}
	a, err := evidence.CreateAtomic(path)
	if err != nil {
		return nil, nil, usageErr("--output %s: %v", path, err)
	}
	w := &outputFile{a: a}
	return w, func(err *error) {
		code := exitOf(*err)
		if w.err != nil || !w.complete && code != exitOK && code != exitFindings && code != exitIncomplete {
			a.Abort()
			why := "the run did not finish"
			if w.err != nil {
				why = w.err.Error()
				if *err == nil || code != exitInternal {
					*err = &exitError{exitInternal, fmt.Sprintf("--output %s: %v; the file is left as it was", path, w.err)}
					return
				}
			}
			fmt.Fprintf(stderr, "caaprobe: --output %s: not replaced (%s); the file is left as it was\n", filepath.Clean(path), why)
			return
		}
		if cerr := a.Commit(); cerr != nil {
			*err = &exitError{exitInternal, fmt.Sprintf("--output %s: %v; the file is left as it was", path, cerr)}
		}
	}, nil
}

// outputFile is the -o file being written; it keeps the first write error.
type outputFile struct {
	a   *evidence.Atomic
	err error
	// complete: the caller wrote the whole report, so the file is
	// replaced whatever the exit status (report's skipped lines, exit 2).
	complete bool
}

// markComplete says the report written to w is whole (see outputFile).
func markComplete(w io.Writer) {
	if o, ok := w.(*outputFile); ok {
		o.complete = true
	}
}

func (o *outputFile) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.a.Write(p)
	if err != nil {
		o.err = err
	}
	return n, err
}
