package jsonl_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/internal/sample"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render/internal/rendertest"
	"github.com/caaprobe/caaprobe/probes/render/jsonl"
)

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := jsonl.Write(&b, sample.Split(t)); err != nil {
		t.Fatal(err)
	}
	rendertest.Golden(t, *update, "split.json.golden", b.Bytes())
}

// TestJSONFailingAndCAA: failing servers as objects beside the old text
// list, and each CAA answer decoded beside its bytes.
func TestJSONFailingAndCAA(t *testing.T) {
	var b bytes.Buffer
	if err := jsonl.WriteRun(&b, sample.Split(t), &model.Run{Version: "v1", Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Vantage: &model.Vantage{Label: "here"}}); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{
		`"failing_servers":["ns2.split.test (127.0.0.29)"],"failing":[{"ns":"ns2.split.test","addr":"127.0.0.29"}]`,
		`"caa":[{"name":"split.test","flags":0,"tag":"issue","value":"letsencrypt.org"}]`,
		`"caaprobe_version":"v1"`, `"checked_at":"2026-01-02T03:04:05Z"`, `"vantage":{"label":"here"}`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s:\n%s", want, s)
		}
	}
	if strings.Count(s, `"caa":[]`) != 0 {
		t.Errorf("a NOTIMP reply shows an empty CAA RRset:\n%s", s)
	}
}

// TestDecodeRoundTrip: the decoder beside the encoder reads a line
// back into a domain that encodes to the same line, and refuses a line
// that is not a result with jsonl.ErrNotResult.
func TestDecodeRoundTrip(t *testing.T) {
	var b bytes.Buffer
	run := &model.Run{Version: "v1.2.3", Vantage: &model.Vantage{Label: "eu-1"}, Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := jsonl.WriteRun(&b, sample.Split(t), run); err != nil {
		t.Fatal(err)
	}
	dec, err := jsonl.Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if dec.Version != "v1.2.3" || dec.Vantage.Label != "eu-1" || !dec.CheckedAt.Equal(run.Started) {
		t.Errorf("decoded run: version %q vantage %q checked %v", dec.Version, dec.Vantage.Label, dec.CheckedAt)
	}
	var again bytes.Buffer
	if err := jsonl.WriteRun(&again, dec.Domain, &model.Run{Version: dec.Version, Vantage: &dec.Vantage, Started: dec.CheckedAt}); err != nil {
		t.Fatal(err)
	}
	if again.String() != b.String() {
		t.Errorf("re-encoded:\n%s\nwant:\n%s", again.String(), b.String())
	}
	for _, line := range []string{`[1]`, `{"verdict":"pass"}`, `{"domain":"x.test","verdict":"maybe"}`, `not json`} {
		if _, err := jsonl.Decode([]byte(line)); !errors.Is(err, jsonl.ErrNotResult) {
			t.Errorf("%s: error %v, want jsonl.ErrNotResult", line, err)
		}
	}
}

// TestDecodeServerRefs: the decoder builds the failing servers and a
// finding's server from the objects; a run from before the objects
// existed is read from the text; an address that is not one is an error
// naming it.
func TestDecodeServerRefs(t *testing.T) {
	ns2 := model.ServerRef{NS: "ns2.split.test", Addr: netip.MustParseAddr("127.0.0.29")}
	var b bytes.Buffer
	if err := jsonl.Write(&b, sample.Split(t)); err != nil {
		t.Fatal(err)
	}
	dec, err := jsonl.Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f := dec.Domain.Names[0].Failing; len(f) != 1 || f[0] != ns2 {
		t.Errorf("failing %v, want [%v]", f, ns2)
	}
	at := false
	for _, f := range dec.Domain.Findings {
		at = at || f.Server == ns2
	}
	if !at {
		t.Errorf("no finding decoded at %v: %+v", ns2, dec.Domain.Findings)
	}
	old := `{"domain":"split.test","verdict":"fail","names":[{"name":"split.test","failing_servers":["ns2.split.test (127.0.0.29)"]}]}`
	if dec, err := jsonl.Decode([]byte(old)); err != nil {
		t.Error(err)
	} else if f := dec.Domain.Names[0].Failing; len(f) != 1 || f[0] != ns2 {
		t.Errorf("old run: failing %v, want [%v]", f, ns2)
	}
	bad := `{"domain":"split.test","verdict":"fail","names":[{"name":"split.test","failing":[{"ns":"ns2","addr":"not-an-ip"}]}]}`
	if _, err := jsonl.Decode([]byte(bad)); !errors.Is(err, jsonl.ErrNotResult) || !strings.Contains(err.Error(), "not-an-ip") {
		t.Errorf("bad address: error %v, want jsonl.ErrNotResult naming it", err)
	}
}

// TestDecodeNames: the names of a line read back as DomainNames, in
// either spelling of the trailing dot, octets a name may hold kept and
// shown escaped, and a line whose name field no name can be is no result,
// with the field and the text said.
func TestDecodeNames(t *testing.T) {
	t.Parallel()
	line := `{"domain":"www.x.test","verdict":"pass","names":[{"name":"WWW.x.test","zone":"x.test.","cname":"y.test"},` +
		`{"name":"y.test","zone":"test","alias_of":"www.x.test"}],"servers":[{"ns":"ns.x.test","addr":"192.0.2.1","zone":"x.test","results":[]}]}`
	dec, err := jsonl.Decode([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	ns := dec.Domain.Names
	if len(ns) != 2 || ns[0].Name != model.MustName("www.x.test") || ns[0].Zone != model.MustName("x.test") ||
		ns[0].CNAME != ns[1].Name || ns[1].AliasOf != ns[0].Name || !ns[0].AliasOf.IsZero() {
		t.Errorf("names read back as %+v %+v", ns[0], ns[1])
	}
	if s := dec.Domain.Servers; len(s) != 1 || s[0].Zone != ns[0].Zone {
		t.Errorf("servers read back as %+v", s)
	}
	// Octets presentation form escapes are kept, escaped.
	for in, want := range map[string]string{"x\u001b[2J.test": `x\027[2j.test`, "b\u00fc.test": `b\195\188.test`, "a b.test": `a\032b.test`} {
		n, _ := json.Marshal(map[string]string{"name": in})
		dec, err := jsonl.Decode([]byte(`{"domain":"x.test","verdict":"pass","names":[` + string(n) + `]}`))
		if err != nil || len(dec.Domain.Names) != 1 || dec.Domain.Names[0].Name.Display() != want {
			t.Errorf("name %q read back as %+v, %v; want %s", in, dec, err, want)
		}
	}
	for field, bad := range map[string]string{"name": "a..b", "zone": strings.Repeat("a", 64) + ".test", "cname": ".x.test", "alias_of": strings.Repeat("abcdefghi.", 26)} {
		n, _ := json.Marshal(map[string]string{field: bad})
		_, err := jsonl.Decode([]byte(`{"domain":"x.test","verdict":"pass","names":[` + string(n) + `]}`))
		if !errors.Is(err, jsonl.ErrNotResult) || !strings.Contains(err.Error(), field+": domain name") {
			t.Errorf("%s %q: error %v, want jsonl.ErrNotResult naming the field and the name", field, bad, err)
		}
	}
}
