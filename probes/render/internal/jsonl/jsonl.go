// Package jsonl is the JSON Lines sink: one object per domain, as
// docs/json.md defines it (the contract is probes/report's: the encoder
// WriteJSONRun and, beside it, the decoder DecodeJSON), one object per
// domain judged across perspectives, and one per change between two runs.
// Stdout stays one object a line: the diff's counts go to the side
// writer (stderr).
package jsonl

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/caaprobe/caaprobe/probes/runs"
)

// Sink writes JSON Lines to w, and to side what is not one of them.
type Sink struct {
	w, side io.Writer
	enc     *json.Encoder
}

// New returns the JSON Lines sink.
func New(w, side io.Writer) *Sink { return &Sink{w: w, side: side, enc: json.NewEncoder(w)} }

// Domain writes raw as it is when given (a line read back, already checked
// against the contract), else d encoded with its run.
func (s *Sink) Domain(d *model.Domain, run *model.Run, raw []byte) error {
	if raw != nil {
		_, err := s.w.Write(append(raw[:len(raw):len(raw)], '\n'))
		return err
	}
	return report.WriteJSONRun(s.w, d, run)
}

// MPIC writes one domain's verdict across perspectives as one line.
func (s *Sink) MPIC(m *runs.MPIC) error { return runs.WriteMPICJSON(s.w, m) }

// Changes writes each change as one line.
func (s *Sink) Changes(_ string, cs []runs.Change) error {
	for _, c := range cs {
		if err := s.enc.Encode(c); err != nil {
			return err
		}
	}
	return nil
}

// DiffDone writes the counts as a line of text to side, so stdout stays
// one change a line.
func (s *Sink) DiffDone(st runs.DiffStats) error {
	_, err := fmt.Fprintln(s.side, "caaprobe diff:", st)
	return err
}

// Close writes nothing more.
func (s *Sink) Close() error { return nil }
