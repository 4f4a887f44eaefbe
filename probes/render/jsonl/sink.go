package jsonl

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/caaprobe/caaprobe/probes/model"
)

// Sink writes JSON Lines to w, and to side what is not one of them.
type Sink struct {
	w, side io.Writer
	enc     *json.Encoder
}

// New returns the JSON Lines sink.
func New(w, side io.Writer) *Sink { return &Sink{w: w, side: side, enc: json.NewEncoder(w)} }

// Domain writes raw as it is when given (a line read back, already checked
// against the contract), else d encoded with its run (WriteRun).
func (s *Sink) Domain(d *model.Domain, run *model.Run, raw []byte) error {
	if raw != nil {
		_, err := s.w.Write(append(raw[:len(raw):len(raw)], '\n'))
		return err
	}
	return WriteRun(s.w, d, run)
}

// Line writes v as one line: a domain judged across perspectives, one
// change between two runs.
func (s *Sink) Line(v any) error { return s.enc.Encode(v) }

// DiffDone writes a diff's counts as a line of text to side, so stdout
// stays one change a line.
func (s *Sink) DiffDone(stats fmt.Stringer) error {
	_, err := fmt.Fprintln(s.side, "caaprobe diff:", stats)
	return err
}

// Close writes nothing more.
func (s *Sink) Close() error { return nil }
