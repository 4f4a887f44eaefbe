package check_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/predict"
	"github.com/caaprobe/caaprobe/probes/predict/boulder"
	"github.com/caaprobe/caaprobe/probes/predict/models"
	"github.com/caaprobe/caaprobe/probes/predict/predicttest"
	"github.com/caaprobe/caaprobe/probes/render/jsonl"
	"github.com/caaprobe/caaprobe/probes/runs"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestSecondResolverModel registers a second resolver model (the one line
// adding a model takes) and checks lab domains end to end: each domain and
// name carries both models' outcomes, the default's is the domain's
// Outcome, and the JSON is what the default alone gives but for the
// "outcomes" keys, which hold both. Not parallel: the
// registry is the process's, and the Checker takes its models when made.
func TestSecondResolverModel(t *testing.T) {
	defer models.Register(predicttest.Strict{})()
	outcomesSchema, nameSchema := compileSchema(t, "#/$defs/outcomes"), compileSchema(t, "#/$defs/name")
	_, _, cfg := fakeLab(t)
	c := check.New(cfg)
	defer c.Close()
	for _, tc := range []struct {
		domain          string
		unbound, strict model.Outcome
	}{
		{"ok.test", model.OutcomeOK, model.OutcomeOK},
		{"part-refused.test", model.OutcomeOK, model.OutcomeServfail}, // Unbound routes around the REFUSED server
		{"notimp.test", model.OutcomeServfail, model.OutcomeServfail},
	} {
		d := c.Check(context.Background(), tc.domain)
		if d.Err != "" {
			t.Fatalf("%s: %s", tc.domain, d.Err)
		}
		if d.Outcome != tc.unbound || d.Outcomes["unbound"] != tc.unbound || d.Outcomes["strict"] != tc.strict || len(d.Outcomes) != 2 {
			t.Errorf("%s: outcome %q, outcomes %v; want %q, unbound %q, strict %q", tc.domain, d.Outcome, d.Outcomes, tc.unbound, tc.unbound, tc.strict)
		}
		for _, n := range d.Names {
			if n.Outcomes["unbound"] != n.Outcome || len(n.Outcomes) != 2 {
				t.Errorf("%s %s: outcome %q, outcomes %v; want both models, unbound's as the outcome", tc.domain, n.Name, n.Outcome, n.Outcomes)
			}
		}
		var with, alone bytes.Buffer
		if err := jsonl.Write(&with, d); err != nil {
			t.Fatal(err)
		}
		// The same evidence read by the default alone (a second check
		// would spell its 0x20 queries anew).
		boulder.Fill(d, []predict.Model{models.Default()}, "letsencrypt.org", tc.domain) // the Checker's default CA
		if err := jsonl.Write(&alone, d); err != nil {
			t.Fatal(err)
		}
		// The JSON carries both models' outcomes under "outcomes", and
		// is otherwise what the default alone gives: "outcome" included.
		var j struct {
			Outcome  model.Outcome
			Outcomes map[string]model.Outcome
			Names    []struct{ Outcomes map[string]model.Outcome }
		}
		if err := json.Unmarshal(with.Bytes(), &j); err != nil {
			t.Fatal(err)
		}
		if j.Outcome != tc.unbound || j.Outcomes["unbound"] != tc.unbound || j.Outcomes["strict"] != tc.strict || len(j.Names) == 0 || len(j.Names[0].Outcomes) != 2 {
			t.Errorf("%s: JSON outcome %q outcomes %v names %v", tc.domain, j.Outcome, j.Outcomes, j.Names)
		}
		if a, b := stripOutcomes(t, with.Bytes()), stripOutcomes(t, alone.Bytes()); a != b {
			i := 0
			for i < len(a) && i < len(b) && a[i] == b[i] {
				i++
			}
			t.Errorf("%s: a second model changed the JSON beyond \"outcomes\" at byte %d: %.80q vs the default alone: %.80q", tc.domain, i, a[i:], b[i:])
		}
		// Its "outcomes" and names validate against the schema (the
		// line lacks the keys only the command adds: version, vantage).
		var raw struct {
			Outcomes json.RawMessage
			Names    []json.RawMessage
		}
		if err := json.Unmarshal(with.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		for i, part := range append([]json.RawMessage{raw.Outcomes}, raw.Names...) {
			s := outcomesSchema
			if i > 0 {
				s = nameSchema
			}
			if v, err := jsonschema.UnmarshalJSON(bytes.NewReader(part)); err != nil {
				t.Fatal(err)
			} else if err := s.Validate(v); err != nil {
				t.Errorf("%s: %s does not validate: %v", tc.domain, part, err)
			}
		}
		rec, err := runs.Decode(with.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Domain.Outcomes; len(got) != 2 || got["strict"] != tc.strict || len(rec.Domain.Names[0].Outcomes) != 2 {
			t.Errorf("%s: outcomes read back %v, names[0] %v", tc.domain, got, rec.Domain.Names[0].Outcomes)
		}
		if strings.Contains(alone.String(), `"outcomes"`) {
			t.Errorf("%s: \"outcomes\" in the JSON of the default alone", tc.domain)
		}
		if len(d.Outcomes) != 1 {
			t.Errorf("%s: outcomes %v after the default alone", tc.domain, d.Outcomes)
		}
	}
}

// stripOutcomes is a JSON line without its "outcomes" keys (the domain's
// and the names'), re-encoded with sorted keys.
func stripOutcomes(t *testing.T, line []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "outcomes")
	names, _ := m["names"].([]any)
	for _, n := range names {
		delete(n.(map[string]any), "outcomes")
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// compileSchema compiles a definition (ref) of docs/caaprobe.schema.json,
// the file added under its $id so that nothing is fetched.
func compileSchema(t *testing.T, ref string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("../../docs/caaprobe.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := doc.(map[string]any)["$id"].(string)
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id + ref)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
