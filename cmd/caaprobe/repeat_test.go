package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render/jsonl"
	"github.com/caaprobe/caaprobe/probes/runs"
)

// TestCheckRepeat: check --repeat 4 on a server that fails one CAA query
// over TCP in 3 (tries 1 and 4) reports the domain as fail, shows try 1,
// and counts the fault at that server 2 of 4 times, in JSON (read back by
// report as written), the table and the Markdown report.
func TestCheckRepeat(t *testing.T) {
	t.Parallel()
	lab, err := fixtures.Start(fixtures.Options{Cases: []fixtures.Case{{Zone: "flaky.test", Behaviours: []fixtures.Behaviour{flakyCAA(3)}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	server := labServer(t, lab, "flaky.test")
	base := []string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "1", "--no-color", "--repeat", "4", "flaky.test"}
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), append(base, "--format", "json"), nil, &stdout, &stderr)
	if exitOf(err) != exitFindings {
		t.Fatalf("exit %d (%v); stderr %s", exitOf(err), err, stderr.String())
	}
	if err := validate(compileSchema(t, ""), bytes.TrimSpace(stdout.Bytes())); err != nil {
		t.Errorf("the repeated domain's line does not match %s: %v", schemaFile, err)
	}
	var j jsonl.Domain
	if err := json.Unmarshal(stdout.Bytes(), &j); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, stdout.String())
	}
	rep := j.Repeat
	if rep == nil || rep.Tries != 4 || rep.Failed != 2 || rep.Shown != 1 || j.Verdict != model.VerdictFail {
		t.Fatalf("verdict %s, repeat %+v", j.Verdict, rep)
	}
	var fault *jsonl.RepeatFault
	for i, f := range rep.Faults {
		if f.Code == "rcode-servfail" && f.Server != nil && f.Server.NS+" ("+f.Server.Addr+")" == server {
			fault = &rep.Faults[i]
		}
	}
	if fault == nil || fault.Seen != 2 || fault.First != 1 || fault.Result != nil {
		t.Fatalf("rcode-servfail at %s: %+v (all: %+v)", server, fault, rep.Faults)
	}
	rec, err := runs.Decode(stdout.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Domain.Repeat; got == nil || got.Tries != 4 || len(got.Faults) != len(rep.Faults) || got.Faults[0].Seen != rep.Faults[0].Seen {
		t.Errorf("read back: %+v", got)
	}
	// The lab's counter runs on, so later runs fail in other tries: the
	// count is checked above; here, that each format says it.
	for format, want := range map[string]string{
		"table":    `[12]/4 ` + regexp.QuoteMeta(server) + ` rcode-servfail for flaky\.test \(first in try [1-4]: caa-tcp`,
		"markdown": `\| ` + regexp.QuoteMeta(server) + ` \| flaky\.test \| rcode-servfail \| [12]/4 \| [1-4] \| caa-tcp \|`,
	} {
		stdout.Reset()
		err = run(context.Background(), append(base, "--format", format), nil, &stdout, &stderr)
		if exitOf(err) != exitFindings || !regexp.MustCompile(want).MatchString(stdout.String()) || !strings.Contains(stdout.String(), "intermittent") {
			t.Errorf("--format %s: exit %d, want %q and \"intermittent\" in:\n%s", format, exitOf(err), want, stdout.String())
		}
	}
	stderr.Reset()
	err = run(context.Background(), []string{"check", "--repeat", "0", "flaky.test"}, nil, &stdout, &stderr)
	if exitOf(err) != exitUsage || !strings.Contains(err.Error(), "--repeat 0") {
		t.Errorf("--repeat 0: %v", err)
	}
}
