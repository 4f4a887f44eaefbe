package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/agent"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/mpic"
	"github.com/caaprobe/caaprobe/probes/runs"
)

// Timeouts are 1 s with one retry: a reply the loaded test machine
// delays past a shorter wait would make a healthy perspective fail.
//
// The multi-perspective tests give each agent its own source address in
// 127.0.1.0/24 (Linux routes all of 127/8 to lo); the primary's queries
// leave from the kernel's choice, 127.0.0.1.
func agentSource(i int) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 1, byte(i)}) }

var primarySource = netip.MustParseAddr("127.0.0.1")

const testToken = "t0ken-for-tests"

// remoteSpec is one agent of a test: its RIR and, when it is a fault
// rather than an agent, the handler that stands in for it.
type remoteSpec struct {
	label, rir string
	handler    http.Handler // nil: a real agent with its own source address
	url        string       // set: this URL instead of a server (an agent that is down)
	token      string       // "": testToken
}

// mpicLab starts the regional lab with the given sources broken, and the
// agents, and returns the check arguments of a --perspectives run (the
// primary labelled "primary").
func mpicLab(t *testing.T, bad map[netip.Addr]fixtures.Behaviour, remotes []remoteSpec, extra ...string) []string {
	t.Helper()
	lab, err := fixtures.Start(fixtures.Options{Cases: fixtures.RegionalCases(bad)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokFile, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var entries []map[string]string
	for i, r := range remotes {
		url := r.url
		if url == "" {
			h := r.handler
			if h == nil {
				h = agent.New(agent.Config{
					Check: check.Config{Roots: []netip.Addr{lab.Root}, Port: lab.Port, Timeout: time.Second,
						Retries: 1, DomainTimeout: 30 * time.Second, Source: agentSource(i + 1), TrustAnchor: lab.TrustAnchor()},
					Vantage: model.Vantage{Label: r.label, RIR: r.rir, Sources: []string{agentSource(i + 1).String()}},
					Version: "test", Tokens: []string{testToken}, Rate: 100, Burst: 100})
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			url = srv.URL
		}
		e := map[string]string{"url": url, "label": r.label, "rir": r.rir, "token_file": tokFile}
		if r.token != "" {
			f := filepath.Join(dir, "token-"+r.label)
			os.WriteFile(f, []byte(r.token), 0o600)
			e["token_file"] = f
		}
		entries = append(entries, e)
	}
	b, _ := json.Marshal(map[string]any{"agents": entries})
	conf := filepath.Join(dir, "perspectives.json")
	if err := os.WriteFile(conf, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return append([]string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "1",
		"--retries", "1", "--trust-anchor", anchorFile(t, lab), "--vantage", "primary", "--perspectives", conf}, extra...)
}

func fiveRemotes() []remoteSpec {
	return []remoteSpec{{label: "r1", rir: "ARIN"}, {label: "r2", rir: "RIPE"}, {label: "r3", rir: "APNIC"},
		{label: "r4", rir: "LACNIC"}, {label: "r5", rir: "AFRINIC"}}
}

type mpicLine struct {
	Domain         string        `json:"domain"`
	Decision       mpic.Decision `json:"ca_decision"`
	Outcome        mpic.Outcome  `json:"ca_outcome"`
	Reason         string        `json:"reason"`
	FailingRemotes []string      `json:"failing_remotes"`
	Note           string        `json:"note"`
	Reproducible   bool          `json:"reproducible"`
	Perspectives   []struct {
		Vantage model.Vantage `json:"vantage"`
		Primary bool          `json:"primary"`
		State   mpic.State    `json:"state"`
		Failing []string      `json:"failing_servers"`
		Fault   mpic.Fault    `json:"fault"`
		Detail  string        `json:"fault_detail"`
		Error   string        `json:"error"`
	} `json:"perspectives"`
	Servers []struct {
		Server   string   `json:"server"`
		FailFrom []string `json:"fail_from"`
	} `json:"failing_servers"`
	Differences []struct {
		Server  string            `json:"server"`
		Status  map[string]string `json:"status"`
		Sources map[string]string `json:"sources"`
	} `json:"differences"`
}

// runMPIC runs check --perspectives --format json and returns its lines by
// domain, with the exit status.
func runMPIC(t *testing.T, args []string) (map[string]mpicLine, int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, append(args, "--format", "json", "ok.test", "regional.test"), nil, &stdout, &stderr)
	if ctx.Err() != nil {
		t.Fatalf("the run stalled: %v\n%s", ctx.Err(), stderr.String())
	}
	out := map[string]mpicLine{}
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var m mpicLine
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not an mpic line: %v: %q\n%s", err, l, stderr.String())
		}
		out[m.Domain] = m
	}
	if len(out) != 2 {
		t.Fatalf("%d domains in the output, want ok.test and regional.test (exit %d, %v):\n%s\n%s", len(out), exitOf(err), err, stdout.String(), stderr.String())
	}
	return out, exitOf(err), stderr.String()
}

func (m mpicLine) perspective(label string) (state mpic.State, fault mpic.Fault, detail string, failing []string) {
	for _, p := range m.Perspectives {
		if p.Vantage.Label == label {
			return p.State, p.Fault, p.Detail, p.Failing
		}
	}
	return "absent", "", "", nil
}

// TestPerspectivesQuorum: a primary and five agents on loopback, against
// a server that answers by the client's source address. One bad remote:
// the CA issues and the report names the vantage and the server; two bad
// remotes: it refuses; a bad primary: it refuses, the remotes still
// shown; the control ok.test passes throughout.
func TestPerspectivesQuorum(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		bad      map[netip.Addr]fixtures.Behaviour
		decision mpic.Decision
		failing  []string   // failing remotes
		primary  mpic.State // the primary's state
	}{
		{"one bad remote", map[netip.Addr]fixtures.Behaviour{agentSource(3): fixtures.RefusedCAA}, mpic.Issue, []string{"r3"}, mpic.StateOK},
		{"two bad remotes", map[netip.Addr]fixtures.Behaviour{agentSource(2): fixtures.RefusedCAA, agentSource(4): fixtures.DropCAA}, mpic.Refuse, []string{"r2", "r4"}, mpic.StateOK},
		{"bad primary", map[netip.Addr]fixtures.Behaviour{primarySource: fixtures.RefusedCAA}, mpic.Refuse, nil, mpic.StateFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, code, stderr := runMPIC(t, mpicLab(t, tc.bad, fiveRemotes()))
			ok, reg := out["ok.test"], out["regional.test"]
			if ok.Decision != mpic.Issue || len(ok.FailingRemotes) != 0 {
				t.Errorf("ok.test: %s, failing %v: the control must pass from everywhere", ok.Decision, ok.FailingRemotes)
			}
			if reg.Decision != tc.decision || !slices.Equal(reg.FailingRemotes, tc.failing) {
				t.Errorf("regional.test: %s, failing %v; want %s, %v (%s; perspectives %+v)\n%s", reg.Decision, reg.FailingRemotes, tc.decision, tc.failing, reg.Reason, reg.Perspectives, stderr)
			}
			if st, _, _, _ := reg.perspective("primary"); st != tc.primary {
				t.Errorf("primary state %q, want %q", st, tc.primary)
			}
			if len(reg.Perspectives) != 6 {
				t.Errorf("%d perspectives shown, want the primary and 5 remotes", len(reg.Perspectives))
			}
			wantCode := exitOK
			if tc.decision == mpic.Refuse {
				wantCode = exitFindings
			}
			if code != wantCode && !(tc.primary == mpic.StateFail && code == exitFindings) {
				t.Errorf("exit %d, want %d", code, wantCode)
			}
			// The failing server is named with the vantages it fails from,
			// and the matrix shows each side's status and source address.
			for _, l := range tc.failing {
				if _, _, _, f := reg.perspective(l); len(f) != 1 || !strings.HasPrefix(f[0], "ns1.regional.test (") {
					t.Errorf("%s: failing servers %v, want ns1.regional.test", l, f)
				}
			}
			if len(tc.failing) > 0 {
				if len(reg.Servers) != 1 || !slices.Equal(reg.Servers[0].FailFrom, tc.failing) {
					t.Errorf("failing servers %+v, want ns1.regional.test failing from %v", reg.Servers, tc.failing)
				}
				if len(reg.Differences) == 0 {
					t.Fatal("no differences shown")
				}
				d := reg.Differences[0]
				bad := tc.failing[0]
				if d.Status["r1"] != "NOERROR" || d.Status[bad] == "NOERROR" || d.Sources[bad] != agentSource(int(bad[1]-'0')).String() {
					t.Errorf("difference %+v: want r1 NOERROR, %s failing from %s", d, bad, agentSource(int(bad[1]-'0')))
				}
			}
		})
	}
}

// TestPerspectivesRegionsOnly: the quorum holds (one remote of five fails)
// but the corroborating remotes are all in ARIN: only the RIR-diversity
// rule refuses.
func TestPerspectivesRegionsOnly(t *testing.T) {
	t.Parallel()
	remotes := []remoteSpec{{label: "r1", rir: "ARIN"}, {label: "r2", rir: "ARIN"}, {label: "r3", rir: "ARIN"},
		{label: "r4", rir: "ARIN"}, {label: "r5", rir: "RIPE"}}
	out, _, _ := runMPIC(t, mpicLab(t, map[netip.Addr]fixtures.Behaviour{agentSource(5): fixtures.RefusedCAA}, remotes))
	reg := out["regional.test"]
	if reg.Decision != mpic.Refuse || !slices.Equal(reg.FailingRemotes, []string{"r5"}) || !strings.Contains(reg.Reason, "span 1 RIR region") {
		t.Errorf("regional.test: %s, failing %v, %q; want refuse for one region only", reg.Decision, reg.FailingRemotes, reg.Reason)
	}
	if !reg.Reproducible {
		t.Errorf("5 remotes in 2 regions marked not reproducible: %s", reg.Note)
	}
	if ok := out["ok.test"]; ok.Decision != mpic.Issue {
		t.Errorf("ok.test: %s (%s), want issue: 5 remotes in 2 regions all corroborate", ok.Decision, ok.Reason)
	}
}

// TestPerspectivesTooFew: 2 remotes in one region on a date that needs 5
// cannot reproduce the CA's decision, and the run says so.
func TestPerspectivesTooFew(t *testing.T) {
	t.Parallel()
	args := mpicLab(t, nil, []remoteSpec{{label: "r1", rir: "ARIN"}, {label: "r2", rir: "ARIN"}}, "--mpic-date", "2027-01-01")
	out, _, stderr := runMPIC(t, args)
	const want = "cannot reproduce the CA's decision: 2 remotes in 1 region"
	for d, m := range out {
		if m.Reproducible || !strings.Contains(m.Note, want) || !strings.Contains(m.Note, "at least 5 remotes on 2027-01-01") {
			t.Errorf("%s: reproducible %v, note %q; want %q", d, m.Reproducible, m.Note, want)
		}
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, stderr)
	}
}

// TestPerspectivesFaults: an agent that is down, one that hangs past the
// deadline, one that answers garbage, one that refuses the token and one
// of another protocol version each count as a non-corroborating
// perspective with its reason; none stalls the primary and no domain is
// lost.
func TestPerspectivesFaults(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	remotes := []remoteSpec{
		{label: "good", rir: "ARIN"},
		{label: "down", rir: "RIPE", url: downURL},
		{label: "hangs", rir: "APNIC", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The body read, the server notices the client leave (the
			// request's context ends); the test's end bounds it too.
			io.Copy(io.Discard, r.Body)
			select {
			case <-hang:
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
		})},
		{label: "garbage", rir: "LACNIC", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<html>a login page</html>"))
		})},
		{label: "badtoken", rir: "AFRINIC", token: "wrong"},
		{label: "v2", rir: "RIPE", handler: agent.New(agent.Config{Tokens: []string{testToken}, Vantage: model.Vantage{Label: "v2"}, Versions: []int{2}})},
	}
	start := time.Now()
	out, code, stderr := runMPIC(t, mpicLab(t, nil, remotes, "--perspective-deadline", "5s"))
	if el := time.Since(start); el > 45*time.Second {
		t.Errorf("the run took %v with a 5 s perspective deadline", el)
	}
	for _, d := range []string{"ok.test", "regional.test"} {
		m := out[d]
		want := map[string]struct {
			fault  mpic.Fault
			detail string
		}{
			"down":     {mpic.FaultUnreachable, "connect"},
			"hangs":    {mpic.FaultTimeout, "5s"},
			"garbage":  {mpic.FaultBadResponse, "a login page"},
			"badtoken": {mpic.FaultAuth, "401"},
			"v2":       {mpic.FaultVersion, "the agent speaks 2"},
		}
		for label, w := range want {
			st, fault, detail, _ := m.perspective(label)
			if st != mpic.StateFail || fault != w.fault || !strings.Contains(detail, w.detail) {
				t.Errorf("%s from %s: %s, %q: %q; want fail, %q with %q", d, label, st, fault, detail, w.fault, w.detail)
			}
		}
		if st, _, _, _ := m.perspective("good"); st != mpic.StateOK {
			t.Errorf("%s from good: %s", d, st)
		}
		if m.Decision != mpic.Refuse {
			t.Errorf("%s: %s with 5 of 6 remotes failing", d, m.Decision)
		}
	}
	if code != exitFindings {
		t.Errorf("exit %d, want %d (refused)\n%s", code, exitFindings, stderr)
	}
}

// TestLiveAndOfflineDecideAlike: the same records give the same decision
// through the live path (judgeLive over the agents' answers) and the
// offline merge (report --perspectives over the same lines saved).
func TestLiveAndOfflineDecideAlike(t *testing.T) {
	t.Parallel()
	args := mpicLab(t, map[netip.Addr]fixtures.Behaviour{agentSource(2): fixtures.RefusedCAA}, fiveRemotes())
	conf := args[len(args)-1]
	remotes, err := loadPerspectives(conf)
	if err != nil {
		t.Fatal(err)
	}
	// The primary's lines, as check --format json writes them.
	var primary, stderr bytes.Buffer
	plain := slices.Clone(args[:len(args)-2])
	if err := run(context.Background(), append(plain, "--format", "json", "ok.test", "regional.test"), nil, &primary, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	c := &agent.Client{Remotes: remotes, Deadline: 20 * time.Second}
	answers := c.Check(context.Background(), []string{"ok.test", "regional.test"})
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "primary.jsonl")}
	os.WriteFile(files[0], primary.Bytes(), 0o600)
	for i, per := range answers {
		if len(per) != 1 || per[0].Fault != "" {
			t.Fatalf("remote %d: %+v", i, per)
		}
		var lines []byte
		for _, d := range []string{"ok.test", "regional.test"} {
			lines = append(append(lines, per[0].Records[d].Raw...), '\n')
		}
		f := filepath.Join(dir, remotes[i].Vantage.Label+".jsonl")
		os.WriteFile(f, lines, 0o600)
		files = append(files, f)
	}
	var offline bytes.Buffer
	stderr.Reset()
	err = run(context.Background(), append([]string{"report", "--perspectives", "--primary", "primary", "--format", "json"}, files...), nil, &offline, &stderr)
	if exitOf(err) != exitOK && exitOf(err) != exitFindings {
		t.Fatalf("report: %v\n%s", err, stderr.String())
	}
	lp := &livePerspectives{client: c, date: time.Now().UTC(), answers: answers, done: make(chan struct{})}
	close(lp.done)
	var live bytes.Buffer
	for _, l := range strings.Split(strings.TrimSpace(primary.String()), "\n") {
		rec, err := runs.Decode([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		lp.primary = rec.Vantage
		if err := runs.WriteMPICJSON(&live, lp.judge(rec.Domain)); err != nil {
			t.Fatal(err)
		}
	}
	if live.String() != offline.String() {
		t.Errorf("live and offline differ:\nlive:    %s\noffline: %s", live.String(), offline.String())
	}
	if !strings.Contains(live.String(), `"failing_remotes":["r2"]`) {
		t.Errorf("the records do not show r2 failing: the comparison proves little:\n%s", live.String())
	}
}

// TestPerspectivesFileErrors: a bad file is a usage error naming the
// file and the field.
func TestPerspectivesFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok := filepath.Join(dir, "tok")
	os.WriteFile(tok, []byte("x"), 0o600)
	for _, tc := range []struct{ name, body, want string }{
		{"a.json", `{"agents":[{"url":"https://a:1","label":"a","rir":"EU","token_file":"` + tok + `"}]}`, `agents[0].rir: "EU"`},
		{"b.json", `{"agents":[{"url":"https://a:1","label":"a","rir":"ARIN"}]}`, "agents[0].token_file: no credentials"},
		{"c.json", `{"agents":[{"url":"https://a:1","label":"a","rir":"ARIN","token_file":"` + tok + `"},{"url":"https://b:1","label":"a","rir":"RIPE","token_file":"` + tok + `"}]}`, `agents[1].label: "a" is given twice`},
		{"d.json", `{"agents":[{"url":"ftp://a","label":"a","rir":"ARIN","token_file":"` + tok + `"}]}`, "agents[0].url"},
		{"e.json", `{"agents":[{"url":"https://a:1","label":"a","rir":"ARIN","token":"secret"}]}`, `unknown field "token"`},
		{"f.yaml", "agents:\n  - url: https://a:1\n    label: a\n    rir: ARIN\n    token_env: CAAPROBE_TEST_UNSET_ENV\n", "agents[0].token_env: $CAAPROBE_TEST_UNSET_ENV is not set"},
	} {
		path := filepath.Join(dir, tc.name)
		os.WriteFile(path, []byte(tc.body), 0o600)
		_, err := loadPerspectives(path)
		if exitOf(err) != exitUsage || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want a usage error naming the file and %q", tc.name, err, tc.want)
		}
	}
	// A good YAML file reads.
	path := filepath.Join(dir, "good.yml")
	os.WriteFile(path, []byte("agents:\n  - url: https://a:1\n    label: a\n    rir: ARIN\n    token_file: "+tok+"\n"), 0o600)
	if r, err := loadPerspectives(path); err != nil || len(r) != 1 || r[0].Token != "x" || r[0].Vantage.RIR != "ARIN" {
		t.Errorf("good YAML: %+v, %v", r, err)
	}
}

// TestPerspectivesFormats: table, Markdown and HTML each show the
// decision, the bad vantage and the server it fails from; --evidence
// holds a bundle per remote stamped with its vantage and source address.
func TestPerspectivesFormats(t *testing.T) {
	t.Parallel()
	args := mpicLab(t, map[netip.Addr]fixtures.Behaviour{agentSource(3): fixtures.RefusedCAA}, fiveRemotes())
	server := regexp.MustCompile(`ns1\.regional\.test \(127\.0\.0\.\d+\)`)
	for _, tc := range []struct {
		format string
		want   []string
	}{
		{"table", []string{"regional.test  CA outcome: PASS (CA would issue)", "remote  r3 [APNIC]   ✗ fail", "fails from r3; works from primary, r1, r2, r4, r5", "r1=NOERROR r2=NOERROR r3=REFUSED"}},
		{"markdown", []string{"| r3 | remote | APNIC | 127.0.1.3 | ✗ fail |", "| Vantage point | r3 (", "REFUSED from 127.0.1.3"}},
		{"html", []string{"r3", "127.0.1.3", "REFUSED"}},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append(slices.Clone(args), "--format", tc.format, "regional.test"), nil, &stdout, &stderr)
		if exitOf(err) != exitOK {
			t.Errorf("%s: exit %d (%v)\n%s", tc.format, exitOf(err), err, stderr.String())
		}
		out := stdout.String()
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no %q in the output", tc.format, w)
			}
		}
		if !server.MatchString(out) {
			t.Errorf("%s: the failing server is not named", tc.format)
		}
	}
	dir := t.TempDir()
	var stderr bytes.Buffer
	if err := run(context.Background(), append(slices.Clone(args), "--format", "json", "--evidence", dir, "regional.test"), nil, &bytes.Buffer{}, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	reports, _ := filepath.Glob(filepath.Join(dir, "perspective-r3", "*", "regional.test", "report.md"))
	pcaps, _ := filepath.Glob(filepath.Join(dir, "perspective-r3", "*", "regional.test", "exchanges.pcap"))
	if len(reports) != 1 || len(pcaps) != 1 {
		t.Fatalf("r3's bundle: %v %v", reports, pcaps)
	}
	md, _ := os.ReadFile(reports[0])
	if !strings.Contains(string(md), "| Vantage point | r3 (") || !strings.Contains(string(md), "127.0.1.3") {
		t.Errorf("r3's report.md is not stamped with its vantage and source:\n%s", md)
	}
	if all, _ := filepath.Glob(filepath.Join(dir, "perspective-*")); len(all) != 5 {
		t.Errorf("%d remote evidence folders, want 5: %v", len(all), all)
	}
}
