package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestCheckWarnsOnceWithoutAnchor: checking the lab with IANA's anchor (the
// default) reaches a root no anchor names, so every name's DNSSEC is
// indeterminate and stderr says so once per run, with the fix; with the
// lab's anchor the warning is gone and the signed zone is secure.
func TestCheckWarnsOnceWithoutAnchor(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	base := []string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "500ms",
		"--format", "json"}
	anchor := anchorFile(t, lab)
	for _, tc := range []struct {
		args     []string
		warnings int
		want     string // DNSSEC of signed.test
	}{
		{nil, 1, "indeterminate"},
		{[]string{"--trust-anchor", anchor}, 0, "secure"},
	} {
		var stdout, stderr bytes.Buffer
		args := append(append(append([]string{}, base...), tc.args...), "signed.test", "ok.test", "expired.test")
		_ = run(context.Background(), args, nil, &stdout, &stderr)
		if got := strings.Count(stderr.String(), "matches no trust anchor"); got != tc.warnings {
			t.Errorf("%v: %d warnings, want %d:\n%s", tc.args, got, tc.warnings, stderr.String())
		}
		if tc.warnings > 0 && !strings.Contains(stderr.String(), "--trust-anchor FILE") {
			t.Errorf("the warning does not name the fix:\n%s", stderr.String())
		}
		dec := json.NewDecoder(&stdout)
		found := false
		for dec.More() {
			var d struct {
				Domain string
				Names  []struct{ Name, DNSSEC string }
			}
			if err := dec.Decode(&d); err != nil {
				t.Fatal(err)
			}
			for _, n := range d.Names {
				if strings.TrimSuffix(n.Name, ".") == "signed.test" {
					found = true
					if n.DNSSEC != tc.want {
						t.Errorf("%v: signed.test dnssec %q, want %q", tc.args, n.DNSSEC, tc.want)
					}
				}
			}
		}
		if !found {
			t.Errorf("%v: no names[].dnssec for signed.test in the JSON", tc.args)
		}
	}
}
