package jsonl_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"testing"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render"
	"github.com/caaprobe/caaprobe/probes/render/internal/rendertest"
	"github.com/caaprobe/caaprobe/probes/render/jsonl"
	"github.com/caaprobe/caaprobe/probes/runs"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestRoundTrip: a line decoded (runs.Decode) and encoded again by the
// sink is the line it was: the two sides of the JSON contract agree.
func TestRoundTrip(t *testing.T) {
	line := rendertest.SplitLine(t)
	var b bytes.Buffer
	if err := jsonl.New(&b, io.Discard).Domain(rendertest.Split(t), nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := bytes.TrimSuffix(b.Bytes(), []byte("\n")); !bytes.Equal(got, line) {
		t.Errorf("re-encoded line differs:\n--- got:\n%s\n--- want:\n%s", got, line)
	}
}

// TestRawAsRead: a line read back is written as it was, not re-encoded,
// and the caller's slice is not appended to.
func TestRawAsRead(t *testing.T) {
	line := `{"domain":"x.test","verdict":"pass","extra":1}`
	// Spare capacity after the line: an append in place would write the
	// newline into the caller's buffer.
	buf := make([]byte, len(line), len(line)+8)
	copy(buf, line)
	var b bytes.Buffer
	if err := jsonl.New(&b, io.Discard).Domain(&model.Domain{Domain: "other.test"}, nil, buf); err != nil {
		t.Fatal(err)
	}
	if b.String() != line+"\n" {
		t.Errorf("got %q, want the line as read", b.String())
	}
	if spare := buf[:len(line)+1]; spare[len(line)] != 0 {
		t.Errorf("the caller's buffer was written after the line: %q", spare)
	}
}

// TestRunRecorded: the run's version and vantage land in the line.
func TestRunRecorded(t *testing.T) {
	var b bytes.Buffer
	run := &model.Run{Version: "v9.9.9", Vantage: &model.Vantage{Label: "eu-1"}}
	if err := jsonl.New(&b, io.Discard).Domain(rendertest.Split(t), run, nil); err != nil {
		t.Fatal(err)
	}
	rec, err := runs.Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if rec.Version != "v9.9.9" || rec.Vantage.Label != "eu-1" {
		t.Errorf("decoded version %q vantage %q", rec.Version, rec.Vantage.Label)
	}
}

// TestChangesGolden: a diff in --format json (render.New's sink) is one
// change a line, each valid JSON, nothing after; the counts go to the
// side writer.
func TestChangesGolden(t *testing.T) {
	var b, side bytes.Buffer
	sink, err := render.New("json", &b, render.Options{Side: &side})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := render.AsDiff(sink)
	if !ok {
		t.Fatal("the json sink takes no diff")
	}
	if err := s.Changes("split.test", rendertest.Changes()); err != nil {
		t.Fatal(err)
	}
	if err := s.DiffDone(rendertest.Stats()); err != nil {
		t.Fatal(err)
	}
	if want := "caaprobe diff: " + rendertest.Stats().String() + "\n"; side.String() != want {
		t.Errorf("side: %q, want %q", side.String(), want)
	}
	for i, l := range bytes.Split(bytes.TrimSuffix(b.Bytes(), []byte("\n")), []byte("\n")) {
		var c runs.Change
		if err := json.Unmarshal(l, &c); err != nil || c != rendertest.Changes()[i] {
			t.Errorf("line %d: %s decodes to %+v (%v)", i+1, l, c, err)
		}
	}
	rendertest.Golden(t, *update, "changes.golden", b.Bytes())
}
