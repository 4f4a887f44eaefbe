// Package summary is the provider-view sink (--summary): it counts every
// domain in a probes/internal/summary.Summary as it passes, in bounded memory, and
// at Close writes the view in the form the output format wants beside it
// (text after a table, one line of JSON on stderr beside JSON Lines).
package summary

import (
	"fmt"
	"io"

	"github.com/caaprobe/caaprobe/probes/internal/summary"
	"github.com/caaprobe/caaprobe/probes/model"
)

// Form is how the view is written.
type Form int

const (
	Text Form = iota // the tables, after a blank line
	JSON             // one line of JSON (docs/json.md)
	None             // nothing: the format shows the counts itself (html)
)

// Sink counts domains and writes the provider view at Close.
type Sink struct {
	w     io.Writer
	form  Form
	width int
	// auto writes the view only when more than above domains were added.
	auto  bool
	above int
	sum   *summary.Summary
	n     int
}

// New returns a provider-view sink writing to w; with auto, it writes
// only when more than above domains were added.
func New(w io.Writer, form Form, width int, auto bool, above int) *Sink {
	return &Sink{w: w, form: form, width: width, auto: auto, above: above, sum: summary.New()}
}

// Add counts one domain.
func (s *Sink) Add(d *model.Domain) {
	s.n++
	s.sum.Add(d)
}

// Summary is the counts so far, for a format that shows them itself.
func (s *Sink) Summary() *summary.Summary { return s.sum }

// Close writes the view.
func (s *Sink) Close() error {
	if s.auto && s.n <= s.above {
		return nil
	}
	switch s.form {
	case JSON:
		// Told apart from caaprobe's other stderr lines by its leading "{".
		return s.sum.WriteJSON(s.w)
	case Text:
		fmt.Fprintln(s.w)
		return s.sum.WriteWidth(s.w, s.width)
	}
	return nil
}
