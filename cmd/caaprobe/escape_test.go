package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// hostile is what TestSavedJSONEscapes puts in every string of a saved
// run: a screen clear and a bell.
const hostile = "\x1b[2J\x07"

// poisonJSON appends hostile to every string value of a JSON line but
// those a reader parses and refuses when they are not well-formed (an
// address, the bytes, times, the verdict); with empty, to empty strings
// too.
func poisonJSON(t *testing.T, line []byte, empty bool) []byte {
	t.Helper()
	keep := map[string]bool{"addr": true, "verdict": true, "query": true, "response": true, "tcp_retry": true,
		"checked_at": true, "sent": true, "time": true, "source_addr": true, "server": true}
	var walk func(key string, v any) any
	walk = func(key string, v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				v[k] = walk(k, x)
			}
		case []any:
			for i, x := range v {
				v[i] = walk(key, x)
			}
		case string:
			if !keep[key] && (v != "" || empty) {
				return v + hostile
			}
		}
		return v
	}
	var v any
	if err := json.Unmarshal(line, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(walk("", v))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawControl returns the first byte below 0x20 other than newline and tab
// (or DEL) in b, and where.
func rawControl(b []byte) (byte, int, bool) {
	for i, c := range b {
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			return c, i, true
		}
	}
	return 0, 0, false
}

// TestSavedJSONEscapes is issue 23's item 3: a saved run whose every
// string field carries ESC and BEL, rendered by report in every format
// (with the provider view and the perspectives) and by diff, puts no raw
// control byte on stdout or stderr; the text is shown escaped.
func TestSavedJSONEscapes(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	var stdout, stderr bytes.Buffer
	args := labArgs(lab, "--format", "json", "--vantage", "a", "--resolver", fmt.Sprintf("%s:%d", lab.Root, lab.Port),
		"split.test", "casesig.test", "alias.test", "drop.test", "*.wildonly.test")
	run(t.Context(), args, nil, &stdout, &stderr)
	if len(lines(stdout.Bytes())) != 5 {
		t.Fatalf("lab run: %s\n%s", stdout.String(), stderr.String())
	}
	for _, empty := range []bool{false, true} {
		var poisoned, other bytes.Buffer
		for i, l := range lines(stdout.Bytes()) {
			poisoned.Write(poisonJSON(t, l, empty))
			poisoned.WriteByte('\n')
			if i > 0 {
				// A second vantage, and a diff with a change per domain.
				other.Write(bytes.Replace(l, []byte(`"label":"a"`), []byte(`"label":"b"`), 1))
				other.WriteByte('\n')
			}
		}
		bad := writeFile(t, "poisoned.jsonl", poisoned.Bytes())
		good := writeFile(t, "other.jsonl", other.Bytes())
		var cmds [][]string
		for _, f := range []string{"table", "markdown", "html", "json"} {
			cmds = append(cmds, []string{"report", "--format", f, "--summary", bad},
				[]string{"report", "--format", f, "--perspectives", bad, good})
		}
		for _, f := range []string{"table", "markdown", "json"} {
			cmds = append(cmds, []string{"diff", "--format", f, good, bad}, []string{"diff", "--format", f, bad, good})
		}
		for _, c := range cmds {
			t.Run(fmt.Sprintf("empty=%v/%s", empty, strings.Join(c[:3], " ")), func(t *testing.T) {
				out, errOut, code := runCmd(t, c...)
				if code == exitUsage {
					t.Fatalf("exit %d: the poisoned lines were refused, so nothing is tested; stderr: %s", code, errOut)
				}
				for what, b := range map[string]string{"stdout": out, "stderr": errOut} {
					if c, i, ok := rawControl([]byte(b)); ok {
						from := max(0, i-80)
						t.Errorf("%s has raw byte 0x%02x at %d: %q", what, c, i, b[from:min(len(b), i+20)])
					}
				}
				if !strings.Contains(out+errOut, `\u001b`) {
					t.Errorf("the escaped text is not shown:\n%.500s", out)
				}
			})
		}
	}
}
