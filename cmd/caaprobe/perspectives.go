package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caaprobe/caaprobe/probes/agent"
	"github.com/caaprobe/caaprobe/probes/evidence"
	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/mpic"
	"github.com/caaprobe/caaprobe/probes/render"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// perspectivesFile is the file of check --perspectives: the remote agents
// (docs/perspectives.md). JSON, or YAML when the name ends in .yaml/.yml.
type perspectivesFile struct {
	Agents []agentEntry `json:"agents" yaml:"agents"`
}

type agentEntry struct {
	URL   string `json:"url" yaml:"url"`
	Label string `json:"label" yaml:"label"`
	RIR   string `json:"rir" yaml:"rir"`
	// The bearer token: from a file (one line) or an environment variable,
	// never in this file.
	TokenFile string `json:"token_file" yaml:"token_file"`
	TokenEnv  string `json:"token_env" yaml:"token_env"`
	// CAFile verifies the agent's certificate (default: the system's
	// roots); CertFile and KeyFile are this primary's client certificate,
	// for an agent that takes mutual TLS.
	CAFile   string `json:"ca_file" yaml:"ca_file"`
	CertFile string `json:"cert_file" yaml:"cert_file"`
	KeyFile  string `json:"key_file" yaml:"key_file"`
}

// maxPerspectiveNames bounds the names of one --perspectives run: they
// are read before the check starts, to be sent to the agents in batches
// while the local check runs.
const maxPerspectiveNames = 10000

// loadPerspectives reads and validates FILE; every error names the file
// and the field.
func loadPerspectives(path string) ([]agent.Remote, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr("--perspectives: %v", err)
	}
	var pf perspectivesFile
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		err = dec.Decode(&pf)
	} else {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		err = dec.Decode(&pf)
	}
	if err != nil {
		return nil, usageErr("--perspectives %s: %v", path, err)
	}
	if len(pf.Agents) == 0 {
		return nil, usageErr("--perspectives %s: agents: no agent listed", path)
	}
	bad := func(i int, field, format string, args ...any) error {
		return usageErr("--perspectives %s: agents[%d].%s: %s", path, i, field, fmt.Sprintf(format, args...))
	}
	var out []agent.Remote
	seen := map[string]bool{}
	for i, a := range pf.Agents {
		switch {
		case a.URL == "":
			return nil, bad(i, "url", "missing")
		case !strings.HasPrefix(a.URL, "https://") && !strings.HasPrefix(a.URL, "http://"):
			return nil, bad(i, "url", "%q: want https://HOST:PORT", a.URL)
		case a.Label == "":
			return nil, bad(i, "label", "missing")
		case seen[a.Label]:
			return nil, bad(i, "label", "%q is given twice", a.Label)
		case !mpic.ValidRIR(a.RIR):
			return nil, bad(i, "rir", "%q: want one of %s", a.RIR, strings.Join(mpic.RIRs, ", "))
		case a.TokenFile != "" && a.TokenEnv != "":
			return nil, bad(i, "token_file", "give token_file or token_env, not both")
		case (a.CertFile == "") != (a.KeyFile == ""):
			return nil, bad(i, "cert_file", "cert_file and key_file go together")
		case a.TokenFile == "" && a.TokenEnv == "" && a.CertFile == "":
			return nil, bad(i, "token_file", "no credentials: give token_file, token_env or cert_file and key_file")
		}
		seen[a.Label] = true
		r := agent.Remote{URL: a.URL, Vantage: model.Vantage{Label: a.Label, RIR: a.RIR}}
		switch {
		case a.TokenFile != "":
			toks, err := readTokens(a.TokenFile)
			if err != nil {
				return nil, bad(i, "token_file", "%v", err)
			}
			if len(toks) > 1 {
				return nil, bad(i, "token_file", "%s holds %d tokens; a primary sends one", a.TokenFile, len(toks))
			}
			r.Token = toks[0]
		case a.TokenEnv != "":
			if r.Token = strings.TrimSpace(os.Getenv(a.TokenEnv)); r.Token == "" {
				return nil, bad(i, "token_env", "$%s is not set", a.TokenEnv)
			}
		}
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if a.CAFile != "" {
			pool, err := agent.LoadCA(a.CAFile)
			if err != nil {
				return nil, bad(i, "ca_file", "%v", err)
			}
			tc.RootCAs = pool
		}
		if a.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(a.CertFile, a.KeyFile)
			if err != nil {
				return nil, bad(i, "cert_file", "%v", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		r.TLS = tc
		out = append(out, r)
	}
	return out, nil
}

// parseMPICDate reads --mpic-date (YYYY-MM-DD); empty is today.
func parseMPICDate(s string) (time.Time, error) {
	if s == "" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return t, usageErr("--mpic-date %q: want YYYY-MM-DD", s)
	}
	return t, nil
}

// livePerspectives is one check --perspectives run: the agents' answers,
// asked while the local (primary) check runs, and the decision per domain
// as each local result comes in.
type livePerspectives struct {
	client  *agent.Client
	date    time.Time
	primary model.Vantage
	stderr  io.Writer

	done    chan struct{}
	answers [][]agent.Answer // per remote, per batch

	evDir string
	evMu  sync.Mutex
	evs   map[string]*evidence.Writer // remote label -> its bundles
}

// options are the decision's options: the primary and every configured
// remote, with their regions.
func (p *livePerspectives) options() mpic.Options {
	vs := []model.Vantage{p.primary}
	for _, r := range p.client.Remotes {
		vs = append(vs, r.Vantage)
	}
	return mpic.Options{Primary: p.primary.Label, Vantages: vs, Date: p.date}
}

// start reads the whole input (at most maxPerspectiveNames entries),
// sends its usable names to every agent and returns the entries for the
// local check. It says on stderr when the configuration cannot reproduce
// the CA's decision.
func (p *livePerspectives) start(ctx context.Context, items iter.Seq[input.Item]) (iter.Seq[input.Item], error) {
	for _, r := range p.client.Remotes {
		if r.Vantage.Label == p.primary.Label {
			return nil, usageErr("--perspectives: agent %q has the primary's label (--vantage)", r.Vantage.Label)
		}
	}
	if note := mpic.Judge("", nil, p.options()).Note; note != "" {
		fmt.Fprintf(p.stderr, "caaprobe: %s\n", note)
	}
	var all []input.Item
	var names []string
	for it := range items {
		if len(all) == maxPerspectiveNames {
			return nil, usageErr("--perspectives: more than %d names: split the input", maxPerspectiveNames)
		}
		all = append(all, it)
		if it.Err == nil {
			names = append(names, it.Name)
		}
	}
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		p.answers = p.client.Check(ctx, names)
		p.client.Close()
	}()
	return slices.Values(all), nil
}

// judge waits for the agents and decides domain d (the primary's result).
func (p *livePerspectives) judge(d *model.Domain) *mpic.Result {
	<-p.done
	var answers []agent.Answer
	for _, per := range p.answers {
		answers = append(answers, answerFor(per, d.Domain))
	}
	return judgeLive(d, p.primary, answers, p.options())
}

// answerFor is the answer of one remote's batches that holds domain, or
// the batch's fault when the batch that held it failed.
func answerFor(batches []agent.Answer, domain string) agent.Answer {
	var fault *agent.Answer
	for i := range batches {
		if batches[i].Fault == "" {
			if _, ok := batches[i].Records[domain]; ok {
				return batches[i]
			}
		} else if fault == nil {
			fault = &batches[i]
		}
	}
	if fault != nil {
		return *fault
	}
	if len(batches) > 0 {
		return batches[0] // Input says it has no result for the domain
	}
	return agent.Answer{Fault: mpic.FaultBadResponse, Detail: "not asked"}
}

// judgeLive is the live path's decision: the primary's own result and
// each agent's answer, to probes/mpic's Judge, as report --perspectives
// gives it the saved records (TestLiveAndOfflineDecideAlike).
func judgeLive(d *model.Domain, primary model.Vantage, answers []agent.Answer, opt mpic.Options) *mpic.Result {
	ins := []mpic.Input{{Vantage: primary, Domain: report.CleanDomain(d)}}
	for i := range answers {
		in := answers[i].Input(d.Domain)
		if in.Vantage.Label == "" {
			continue
		}
		ins = append(ins, in)
	}
	return mpic.Judge(d.Domain, ins, opt)
}

// write renders one domain's decision in the run's format: the primary's
// own report, then the decision (table, markdown); the decision's JSON
// line; in HTML every perspective's section and the decision. Remote
// results also go to the evidence, one folder of bundles per remote.
func (p *livePerspectives) write(out render.Sink, format string, run *model.Run, d *model.Domain) (*mpic.Result, error) {
	m := p.judge(d)
	p.evidence(m)
	switch format {
	case "json":
		// One decision line per domain, as report --perspectives writes.
	case "markdown", "html":
		// Every perspective's report, each stamped with its vantage.
		for _, ps := range m.Perspectives {
			if ps.Domain == nil {
				continue
			}
			r := render.Record{Domain: ps.Domain, Run: run, Vantage: ps.Vantage.Label}
			if !ps.Primary {
				r.Run = &model.Run{Version: run.Version, Started: run.Started, Vantage: &ps.Vantage}
			}
			if err := out.Domain(r); err != nil {
				return m, err
			}
		}
	default:
		// The primary's table, then the decision.
		if err := out.Domain(render.Record{Domain: d, Run: run}); err != nil {
			return m, err
		}
	}
	return m, out.MPIC(m)
}

// evidence writes each remote's result for the domain as a bundle stamped
// with that remote's vantage and source addresses, under
// DIR/perspective-LABEL/ (the primary's go where check puts them).
func (p *livePerspectives) evidence(m *mpic.Result) {
	if p.evDir == "" {
		return
	}
	p.evMu.Lock()
	defer p.evMu.Unlock()
	for _, ps := range m.Perspectives {
		if ps.Primary || ps.Domain == nil {
			continue
		}
		w := p.evs[ps.Vantage.Label]
		if w == nil {
			v := ps.Vantage
			var err error
			w, err = evidence.NewWriter(filepath.Join(p.evDir, "perspective-"+evidence.FolderName(v.Label)),
				&model.Run{Version: p.versionOf(v.Label), Started: time.Now().UTC(), Vantage: &v})
			if err != nil {
				fmt.Fprintf(p.stderr, "caaprobe: evidence of %s: %v\n", report.Clean(v.Label), err)
				continue
			}
			p.evs[ps.Vantage.Label] = w
		}
		if _, err := w.Write(ps.Domain); err != nil {
			fmt.Fprintf(p.stderr, "caaprobe: %v\n", err)
		}
	}
}

func (p *livePerspectives) versionOf(label string) string {
	for _, per := range p.answers {
		for _, a := range per {
			if a.Vantage.Label == label && a.Version != "" {
				return a.Version
			}
		}
	}
	return ""
}

// close writes the remotes' evidence indexes.
func (p *livePerspectives) close() {
	p.evMu.Lock()
	defer p.evMu.Unlock()
	for label, w := range p.evs {
		if err := w.Close(); err != nil {
			fmt.Fprintf(p.stderr, "caaprobe: evidence of %s: %v\n", report.Clean(label), err)
		}
	}
	p.evs = map[string]*evidence.Writer{}
}

// perspectiveFlags are check's flags of the live multi-perspective check.
type perspectiveFlags struct {
	file     string
	date     string
	deadline time.Duration
	remotes  []agent.Remote // read from file by config
	when     time.Time
}

func (pf *perspectiveFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&pf.file, "perspectives", "", "also check from the remote agents listed in `FILE` (JSON, or YAML as .yaml) and decide as a CA's multi-perspective check does; see docs/perspectives.md")
	fs.StringVar(&pf.date, "mpic-date", "", "with --perspectives: the `YYYY-MM-DD` whose Baseline Requirements phase-in applies (default: today)")
	durationVar(fs, &pf.deadline, "perspective-deadline", agent.DefaultDeadline, "with --perspectives: the most time one agent may take to answer a batch of names")
}

// config reads the file and the date; called from checkFlags.config.
func (pf *perspectiveFlags) config() error {
	if pf.file == "" {
		if pf.date != "" {
			return usageErr("--mpic-date only applies with --perspectives")
		}
		return nil
	}
	var err error
	if pf.when, err = parseMPICDate(pf.date); err != nil {
		return err
	}
	if pf.deadline <= 0 {
		return usageErr("--perspective-deadline must be positive")
	}
	pf.remotes, err = loadPerspectives(pf.file)
	return err
}

// live is the run's livePerspectives, nil without --perspectives.
func (pf *perspectiveFlags) live(primary *model.Vantage, evidenceDir string, stderr io.Writer) *livePerspectives {
	if pf.file == "" {
		return nil
	}
	return &livePerspectives{client: &agent.Client{Remotes: pf.remotes, Deadline: pf.deadline}, date: pf.when,
		primary: *primary, stderr: stderr, evDir: evidenceDir, evs: map[string]*evidence.Writer{}}
}
