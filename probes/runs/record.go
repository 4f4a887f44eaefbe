// Package runs reads back what `caaprobe check --format json` wrote: JSON
// Lines files, one object per domain, from one run or from the shards of
// one run, from one vantage point or several. It turns each object into a
// model.Domain, so the renderers that printed the run can print it again
// with no network, and it compares two runs (Diff) and judges runs from
// several vantage points the way a CA's multi-perspective check does
// (Perspectives).
//
// The reader streams: it indexes every file by domain (name, offset and
// length of each line) and decodes one line at a time, so memory grows
// with the number of domains, not with the size of their results.
package runs

import (
	"bytes"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render/jsonl"
)

// Record is one line of a run read back: the domain as the renderers know
// it, where the check ran from and when (jsonl.Decoded), where the line
// was read, and the line itself.
type Record struct {
	Domain    *model.Domain
	Vantage   model.Vantage // Label is the file name when the run did not record one
	Time      time.Time     // when the domain's first query went out; zero when not recorded
	Version   string        // caaprobe_version; empty in runs from before it was recorded
	CheckedAt time.Time     // checked_at; zero in runs from before it was recorded
	File      string
	Line      int
	Raw       []byte // the line as read, without its newline
}

// ErrNotResult is wrapped by Decode's error for a line that is JSON but not
// a caaprobe result (no "domain" key, or not an object).
var ErrNotResult = jsonl.ErrNotResult

// Decode reads one line of check's JSON output (jsonl.Decode: the
// decoder lives beside the encoder, the JSON contract in one package).
func Decode(line []byte) (*Record, error) {
	line = bytes.TrimSpace(line)
	d, err := jsonl.Decode(line)
	if err != nil {
		return nil, err
	}
	return &Record{Domain: d.Domain, Vantage: d.Vantage, Time: d.Time, Version: d.Version, CheckedAt: d.CheckedAt, Raw: line}, nil
}
