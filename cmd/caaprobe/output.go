package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/caaprobe/caaprobe/probes/evidence"
	"github.com/caaprobe/caaprobe/probes/render"
)

// outputFlags are the output flags of every command that renders results
// (check, demo, report, diff; bench-lab and explain register check's), so
// --format, -o, --summary and --color mean the same in each: the format
// goes to render.New, -o is replaced atomically (openOutputFile), and the
// provider view goes where the format wants it (render.Options.Summary).
type outputFlags struct {
	format  string
	output  string
	summary bool
	color   string
	noColor bool
}

// outputFlagsUse says which of the flags a command has and what its
// formats mean; summary and color are left out when their help is "".
type outputFlagsUse struct {
	formatHelp, outputHelp, summaryHelp string
	color                               bool
}

func (o *outputFlags) register(fs *pflag.FlagSet, use outputFlagsUse) {
	fs.StringVar(&o.format, "format", "table", use.formatHelp)
	fs.StringVarP(&o.output, "output", "o", "", use.outputHelp)
	if use.summaryHelp != "" {
		fs.BoolVar(&o.summary, "summary", false, use.summaryHelp)
	}
	if use.color {
		fs.BoolVar(&o.noColor, "no-color", false, "no colour in the table (also when NO_COLOR is set or stdout is not a terminal); the same as --color never")
		fs.StringVar(&o.color, "color", "auto", "colour in the table: `WHEN` is auto (a terminal without NO_COLOR), always or never")
	}
}

// validate refuses an unknown format or colour before anything runs.
func (o *outputFlags) validate() error {
	if err := render.Check(o.format); err != nil {
		return usageErr("%v", err)
	}
	switch o.color {
	case "auto", "always", "never", "":
	default:
		return usageErr("--color %q: want auto, always or never", o.color)
	}
	return nil
}

// colorOn says whether the table on w is coloured.
func (o *outputFlags) colorOn(w io.Writer) bool {
	return o.color == "always" || o.color != "never" && !o.noColor && os.Getenv("NO_COLOR") == "" && isTerminal(w)
}

// sink builds the format's sink on stdout (already -o's file), with what
// would break its format sent to stderr. opt brings what only the command
// knows (the page's title, the inputs, which domains to show).
func (o *outputFlags) sink(stdout, stderr io.Writer, opt render.Options) (render.Sink, error) {
	opt.Color = o.colorOn(stdout)
	opt.Width = tableWidth(stdout)
	opt.Side = stderr
	opt.SideWidth = tableWidth(stderr)
	if o.summary {
		opt.Summary = render.SummaryOn
	}
	s, err := render.New(o.format, stdout, opt)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return s, nil
}

// diffSink is sink for diff: a format that cannot show changes is a usage
// error, and nothing is written.
func (o *outputFlags) diffSink(stdout, stderr io.Writer) (render.DiffSink, error) {
	s, err := render.NewDiff(o.format, stdout, render.Options{Side: stderr})
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return s, nil
}

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
