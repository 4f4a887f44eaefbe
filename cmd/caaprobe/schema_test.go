package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

const schemaFile = "../../docs/caaprobe.schema.json"

// compileSchema compiles docs/caaprobe.schema.json, or one of its $defs
// (ref "#/$defs/providerView"), with formats and base64 content asserted.
// The file is added under its $id, so nothing is fetched.
func compileSchema(t *testing.T, ref string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
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
	c.AssertFormat()
	c.AssertContent()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id + ref)
	if err != nil {
		t.Fatalf("compiling %s%s: %v", schemaFile, ref, err)
	}
	return s
}

func validate(s *jsonschema.Schema, line []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// TestSchemaDemo: every lab domain's `demo --format json` line validates
// against docs/caaprobe.schema.json, which allows no undocumented key; so
// do an input error's line and the provider view --summary writes; and a
// line with a key removed or a wrong value does not.
func TestSchemaDemo(t *testing.T) {
	t.Parallel()
	s := compileSchema(t, "")
	ls := lines(demoJSON(t))
	if len(ls) < 40 {
		t.Fatalf("demo wrote %d lines", len(ls))
	}
	for i, l := range ls {
		if err := validate(s, l); err != nil {
			t.Errorf("demo line %d: %v\n%.300s", i+1, err, l)
		}
	}

	lab := startLab(t)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "500ms",
		"--retries", "0", "--format", "json", "--summary", "notimp.test", "bad..name"}, nil, &stdout, &stderr)
	if exitOf(err) == exitInternal {
		t.Fatalf("check failed: %v\n%s", err, stderr.String())
	}
	checked := lines(stdout.Bytes())
	if len(checked) != 2 {
		t.Fatalf("%d lines for two inputs", len(checked))
	}
	for _, l := range checked {
		if err := validate(s, l); err != nil {
			t.Errorf("check line: %v\n%.300s", err, l)
		}
	}
	pv := compileSchema(t, "#/$defs/providerView")
	views := 0
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(l, "{") {
			views++
			if err := validate(pv, []byte(l)); err != nil {
				t.Errorf("provider view: %v\n%s", err, l)
			}
		}
	}
	if views != 1 {
		t.Errorf("%d provider views on stderr, want 1:\n%s", views, stderr.String())
	}

	// The schema can fail: a missing required key, an unknown key, a
	// verdict outside the enum.
	var obj map[string]any
	if err := json.Unmarshal(ls[1], &obj); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(map[string]any){
		"no checked_at": func(m map[string]any) { delete(m, "checked_at") },
		"unknown key":   func(m map[string]any) { m["surprise"] = 1 },
		"bad verdict":   func(m map[string]any) { m["verdict"] = "maybe" },
		"bad time":      func(m map[string]any) { m["checked_at"] = "yesterday" },
	} {
		m := map[string]any{}
		for k, v := range obj {
			m[k] = v
		}
		mutate(m)
		b, _ := json.Marshal(m)
		if validate(s, b) == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}

// TestSchemaFindingCodes: every finding code of the catalog matches the
// schema's pattern for codes.
func TestSchemaFindingCodes(t *testing.T) {
	t.Parallel()
	s := compileSchema(t, "#/$defs/finding")
	for _, f := range catalog.Findings {
		b, _ := json.Marshal(map[string]string{"code": string(f.Code), "severity": string(f.Severity), "name": "", "zone": "", "ns": "", "addr": "", "probe": "", "detail": ""})
		if err := validate(s, b); err != nil {
			t.Errorf("%s: %v", f.Code, err)
		}
	}
}
