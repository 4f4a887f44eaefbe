package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/explain"
	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render/jsonl"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// explain: read a CA's or an ACME client's message (probes/explain), say
// what it means, then run check's engine on the names it concerns and say
// whether the failure is reproduced from here (docs/explain.md).

type explainFlags struct {
	check   checkFlags
	file    string
	format  string
	noCheck bool
}

// explainSkips are check's flags that explain does not take: -f is the
// message file here; names come from the message.
var explainSkips = map[string]bool{"file": true, "cert": true, "shard": true, "summary": true, "only-failing": true,
	"format": true}

func newExplainCmd(env *cliEnv) *cobra.Command {
	var ef explainFlags
	cmd := &cobra.Command{
		Use:   "explain [flags] [MESSAGE...] | -f FILE | -",
		Short: "read a CA's or an ACME client's CAA error, say what it means, and check whether it happens from here",
		Long: `Read the message a CA or an ACME client gave about a CAA failure — Let's
Encrypt's text, an ACME problem document, a certbot, acme.sh, lego, Caddy or
cert-manager log, AWS ACM's CAA_ERROR, Google's FAILED_CAA_*, SSL.com's or
ZeroSSL's status — from the arguments, -f FILE or standard input. Say what
it means (the names, the lookup that failed and why the CA looked there,
the kind, the perspective, whether it lasts), then check those names as
check does and say whether the failure is reproduced (see docs/explain.md).

Exit status: 0 not reproduced (or --no-check); 1 caaprobe itself failed;
2 usage error, or a message with no domain to check (what it tells is still
printed); 3 reproduced: a server fault or a forbidding policy, every time
or intermittently; 4 a name could not be checked.`,
		Example: `  caaprobe explain "DNS problem: SERVFAIL looking up CAA for example.com - the domain's nameservers may be malfunctioning"
  caaprobe explain -f /var/log/letsencrypt/letsencrypt.log
  kubectl get order my-cert-1-123 -o yaml | caaprobe explain --repeat 10`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ef.check.command = env.args
			return runExplain(env.ctx, &ef, cmd.Flags(), args, env.stdin, env.stdout, env.stderr)
		},
	}
	// check's own flags (--root, --port, --trust-anchor, --ca, --ns, ...),
	// the same values and the same validation.
	tmp := pflag.NewFlagSet("check", pflag.ContinueOnError)
	ef.check.register(tmp)
	tmp.VisitAll(func(fl *pflag.Flag) {
		if !explainSkips[fl.Name] {
			cmd.Flags().AddFlag(fl)
		}
	})
	cmd.Flags().StringVarP(&ef.file, "file", "f", "", "read the message from `FILE` (- for stdin)")
	cmd.Flags().StringVar(&ef.format, "format", "table", "output format: table (or text), json (one object), markdown (for a ticket: the message, the answer, each name's evidence report) or html (one self-contained page)")
	cmd.Flags().BoolVar(&ef.noCheck, "no-check", false, "only say what the message means; send no query")
	return cmd
}

// readMessage takes the message from the arguments, -f FILE, or stdin.
func readMessage(args []string, file string, stdin io.Reader) (string, error) {
	read := func(r io.Reader, what string) (string, error) {
		data, err := io.ReadAll(io.LimitReader(r, explain.MaxInput+1))
		if err != nil {
			return "", usageErr("reading the message from %s: %v", what, err)
		}
		return string(data), nil
	}
	switch {
	case file == "-" || len(args) == 1 && args[0] == "-":
		if stdin == nil {
			return "", usageErr("no message on stdin")
		}
		return read(stdin, "stdin")
	case file != "":
		fh, err := os.Open(file)
		if err != nil {
			return "", usageErr("reading the message: %v", err)
		}
		defer fh.Close()
		return read(fh, file)
	case len(args) > 0:
		return strings.Join(args, " "), nil
	case stdin != nil && !isTerminal(stdin):
		if fh, ok := stdin.(*os.File); ok && !pipedOrFile(fh) {
			break
		}
		return read(stdin, "stdin")
	}
	return "", nil
}

// explainCheck is the answer for one problem of the message.
type explainCheck struct {
	Problem int    `json:"problem"` // index into parse.problems
	Status  string `json:"status"`  // reproduced, intermittent, not-reproduced, not-checked
	Answer  string `json:"answer"`
	Domain  string `json:"domain,omitempty"` // the name checked
	Name    string `json:"name,omitempty"`   // the relevant name looked at
	Tries   int    `json:"tries"`
	Failed  int    `json:"failed"` // tries in which it was seen
	// Servers: per server, each finding code and in how many tries.
	Servers []serverCount `json:"servers,omitempty"`
}

type serverCount struct {
	Server string `json:"server"`
	Code   string `json:"code"`
	Tries  int    `json:"tries"`
	// First is the first try (counting from 1) in which it appeared;
	// Probe and Detail are that exchange's.
	First  int    `json:"first_try"`
	Probe  string `json:"probe,omitempty"`
	Detail string `json:"detail,omitempty"`
}

type explainOutput struct {
	Message string            `json:"message"`
	Parse   explain.Result    `json:"parse"`
	Checks  []explainCheck    `json:"checks"`
	Advice  []string          `json:"advice,omitempty"`
	Repeat  int               `json:"repeat"`
	Domains []json.RawMessage `json:"domains"` // the last try's check result per name, as check --format json writes it
}

func runExplain(ctx context.Context, ef *explainFlags, fs *pflag.FlagSet, args []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	switch ef.format {
	case "table", "text", "json", "markdown", "html":
	default:
		return usageErr("--format %q: want table, text, json, markdown or html", ef.format)
	}
	f := &ef.check
	f.format = "table"
	f.portSet = fs.Changed("port")
	msg, err := readMessage(args, ef.file, stdin)
	if err != nil {
		return err
	}
	if strings.TrimSpace(msg) == "" {
		return usageErr("no message to explain: give it as arguments, -f FILE, or pipe it on stdin")
	}
	res := explain.Parse(msg)
	if !fs.Changed("ca") {
		for _, p := range res.Problems {
			if p.CA != "" {
				f.ca = p.CA
				break
			}
		}
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	// explain makes the tries itself, one over all the message's names
	// each, to compare each try with the message's lookups.
	repeat := max(1, cfg.Repeat)
	cfg.Repeat = 0
	stdout, stderr, closeOut, err := f.streams(stdout, stderr)
	if err != nil {
		return err
	}
	defer closeOut(&err)
	out := &explainOutput{Message: msg, Parse: res, Repeat: repeat, Checks: []explainCheck{}, Domains: []json.RawMessage{}}
	run := &model.Run{Version: recordedVersion(), Command: f.command, Started: time.Now().UTC(), Vantage: vantageOf(f.vantage, cfg)}
	// An evidence directory that cannot be written is a usage error found
	// before any query, as in check.
	ev, err := newEvidenceSink(f, run)
	if err != nil {
		return err
	}
	defer ev.close()
	var runs [][]*model.Domain // per try, per name
	switch {
	case len(res.Names) == 0:
		out.Advice = noDomainAdvice(res)
	case ef.noCheck:
	default:
		if err := preflight(ctx, &cfg, stderr); err != nil {
			return err
		}
		checkResolver(ctx, &cfg, stderr)
		if err := resolvePins(ctx, &cfg); err != nil {
			return err
		}
		var warned sync.Once // said once, not once per try
		cfg.OnNoAnchor = func(w string) { warned.Do(func() { fmt.Fprintln(stderr, "caaprobe: warning: "+w) }) }
		for try := 0; try < repeat && ctx.Err() == nil; try++ {
			runs = append(runs, checkNames(ctx, cfg, f, res.Names, stderr))
		}
		if ctx.Err() != nil {
			return &exitError{exitInternal, "interrupted"}
		}
		out.Checks = answer(res, runs, f.ca)
	}
	shown := shownDomains(runs)
	for _, d := range shown {
		var b bytes.Buffer
		if err := jsonl.Write(&b, d); err == nil {
			out.Domains = append(out.Domains, json.RawMessage(bytes.TrimSpace(b.Bytes())))
		}
	}
	switch ef.format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(out)
	case "markdown":
		err = writeExplainMarkdown(stdout, out, shown, run, ef.noCheck)
	case "html":
		err = writeExplainHTML(stdout, out, shown, ef.noCheck)
	default:
		err = writeExplainText(stdout, out, runs, shown, f, ef)
	}
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	result := explainExit(out, runs, ef.noCheck)
	if ev.w != nil {
		if everr := writeExplainEvidence(ev, out, shown, ef.noCheck); everr != nil {
			// caaprobe's own failure (a full disk): exit 1, saying what
			// the explanation alone would give, as check does.
			if c := exitOf(result); c != exitOK {
				fmt.Fprintf(stderr, "caaprobe: the report alone would exit %d (%s)\n", c, exitMeaning(c))
			}
			return &exitError{exitInternal, strings.ReplaceAll(everr.Error(), "\n", "; ")}
		}
	}
	return result
}

// shownDomains is each name's check as the output shows it: the one try,
// or over several tries the first of the worst with the tally of them all
// (check.Merge, as check --repeat shows it).
func shownDomains(runs [][]*model.Domain) []*model.Domain {
	if len(runs) == 0 {
		return nil
	}
	if len(runs) == 1 {
		return runs[0]
	}
	var out []*model.Domain
	for i := range runs[len(runs)-1] {
		var tries []*model.Domain
		for _, r := range runs {
			if i < len(r) {
				tries = append(tries, r[i])
			}
		}
		out = append(out, check.Merge(tries))
	}
	return out
}

// checkNames is one try: a new Checker (cold caches), the names through
// check's input stream, every domain kept in input order.
func checkNames(ctx context.Context, cfg check.Config, f *checkFlags, names []string, stderr io.Writer) []*model.Domain {
	c := check.New(cfg)
	defer c.Close()
	var readErr error
	items, err := inputStream(names, nil, nil, nil, &readErr, nil)
	if err != nil {
		fmt.Fprintf(stderr, "caaprobe: %v\n", err)
		return nil
	}
	var out []*model.Domain
	c.Run(ctx, noteInput(items, io.Discard), f.concurrency, func(_ input.Item, d *model.Domain) {
		out = append(out, d)
	})
	return out
}

func explainExit(out *explainOutput, runs [][]*model.Domain, noCheck bool) error {
	if len(out.Parse.Names) == 0 {
		return &exitError{exitUsage, ""}
	}
	if noCheck {
		return nil
	}
	code := exitOK
	for _, c := range out.Checks {
		if c.Status == "reproduced" || c.Status == "intermittent" {
			code = exitFindings
		}
	}
	if code == exitOK && len(runs) > 0 {
		for _, d := range runs[len(runs)-1] {
			if d.Verdict == model.VerdictError {
				return &exitError{exitIncomplete, fmt.Sprintf("%s could not be checked: %s", d.Domain, d.Err)}
			}
		}
	}
	if code == exitOK {
		return nil
	}
	return &exitError{code, ""}
}

// noDomainAdvice is the answer to a message that names no domain.
func noDomainAdvice(res explain.Result) []string {
	adv := []string{"The message names no domain, so there is nothing to check from it alone."}
	if len(res.Problems) == 0 {
		adv = append(adv, "It holds none of the CAA failure texts caaprobe knows (docs/explain.md lists them).")
	}
	return append(adv,
		"Check every certificate's names instead: caaprobe check --cert /etc/letsencrypt/live (the certificates on this host; any PEM or DER file or folder works).",
		"Or put the names in a file, one a line — those of the CA account's orders, or of your certificates in the Certificate Transparency logs (for example crt.sh's list for your domain, saved to a file) — and run caaprobe check -f names.txt.",
		"The ACME client's own log names the identifier: certbot's /var/log/letsencrypt/letsencrypt.log, acme.sh --debug, lego's output, Caddy's log, kubectl get order,challenge -o yaml; give that to caaprobe explain.")
}

// answer compares each problem with what the tries found.
func answer(res explain.Result, runs [][]*model.Domain, ca string) []explainCheck {
	var out []explainCheck
	for i, p := range res.Problems {
		d := domainFor(p, runs[len(runs)-1])
		if d == nil {
			out = append(out, explainCheck{Problem: i, Status: "not-checked", Answer: "no name of this problem could be checked", Tries: len(runs)})
			continue
		}
		idx := slices.Index(runs[len(runs)-1], d)
		var tries []*model.Domain
		for _, r := range runs {
			if idx < len(r) {
				tries = append(tries, r[idx])
			}
		}
		out = append(out, answerOne(i, p, tries, ca))
	}
	return out
}

// domainFor is the checked domain a problem concerns: one of its names,
// else its lookup name, else the first.
func domainFor(p explain.Problem, ds []*model.Domain) *model.Domain {
	for _, want := range append(slices.Clone(p.Names), p.Lookup) {
		for _, d := range ds {
			if want != "" && d.Domain == want {
				return d
			}
		}
	}
	for _, d := range ds {
		for _, n := range p.Names {
			if strings.TrimPrefix(d.Domain, "*.") == strings.TrimPrefix(n, "*.") {
				return d
			}
		}
	}
	if len(ds) > 0 && len(p.Names) == 0 && p.Lookup == "" {
		return ds[0]
	}
	return nil
}

// focus says whether a finding belongs to the lookup the message names:
// at that name, at a name it is an alias of, or anywhere when the message
// names no lookup.
func focus(d *model.Domain, lookup string, f model.Finding) bool {
	if lookup == "" || f.Name == "" {
		return true
	}
	if f.Name == lookup {
		return true
	}
	for _, n := range d.Names {
		if n.Name.Display() == f.Name && n.AliasOf.Display() == lookup {
			return true
		}
	}
	return false
}

func nameOf(d *model.Domain, name string) *model.Name {
	for _, n := range d.Names {
		if n.Name.Display() == name {
			return n
		}
	}
	return nil
}

func answerOne(i int, p explain.Problem, tries []*model.Domain, ca string) explainCheck {
	last := tries[len(tries)-1]
	c := explainCheck{Problem: i, Domain: last.Domain, Name: p.Lookup, Tries: len(tries)}
	if c.Name == "" {
		c.Name = strings.TrimPrefix(last.Domain, "*.")
	}
	keep := func(d *model.Domain, f model.Finding) bool { return focus(d, p.Lookup, f) }
	for _, f := range check.Tally(tries, keep) {
		server := f.Server.String()
		if f.Server.IsZero() {
			server = f.Zone
		}
		c.Servers = append(c.Servers, serverCount{Server: server, Code: string(f.Code), Tries: f.Seen, First: f.First,
			Probe: string(f.Probe), Detail: f.Detail})
	}
	for _, d := range tries {
		failed := len(check.Tally([]*model.Domain{d}, keep)) > 0
		if n := nameOf(d, c.Name); n != nil && (n.Outcome == model.OutcomeServfail || n.Outcome == model.OutcomeIntermittent) {
			failed = true
		}
		if failed {
			c.Failed++
		}
	}
	if last.Err != "" && c.Failed == 0 {
		c.Status, c.Answer = "not-checked", fmt.Sprintf("%s could not be checked from here: %s", last.Domain, last.Err)
		return c
	}
	if p.Kind == explain.KindPolicy || p.Kind == explain.KindUnknown {
		if a, ok := policyAnswer(p, tries, ca); ok {
			c.Status, c.Answer = "reproduced", a
			return c
		}
		if p.Kind == explain.KindPolicy && c.Failed == 0 {
			c.Status = "not-reproduced"
			c.Answer = fmt.Sprintf("not reproduced: the CAA records that apply to %s now permit %s%s; they were changed since, or the CA read another answer (a remote perspective, a server with old records: see the table)",
				last.Domain, ca, policyWhere(last))
			if p.Perspective == explain.PerspectiveRemote {
				c.Answer += "; " + remoteAdvice
			}
			return c
		}
	}
	n := nameOf(last, c.Name)
	switch {
	case c.Failed == len(tries) && c.Failed > 0:
		c.Status = "reproduced"
		c.Answer = "reproduced: " + faultWords(c.Servers, n, len(tries))
		if len(tries) > 1 {
			c.Answer += fmt.Sprintf(" (in every one of %d tries)", len(tries))
		}
	case c.Failed > 0:
		c.Status = "intermittent"
		c.Answer = fmt.Sprintf("reproduced in %d of %d tries: intermittent: %s", c.Failed, len(tries), faultWords(c.Servers, n, len(tries)))
	case p.Perspective == explain.PerspectiveRemote:
		c.Status = "not-reproduced"
		c.Answer = "not reproduced from here: the failure was at a remote perspective; " + remoteAdvice
	case len(tries) > 1:
		c.Status = "not-reproduced"
		c.Answer = fmt.Sprintf("not reproduced in %d tries: intermittent (or fixed since): every server of %s answered CAA correctly each time", len(tries), c.Name)
	default:
		c.Status = "not-reproduced"
		c.Answer = fmt.Sprintf("not reproduced from here: every server of %s answered CAA correctly; the failure may come and go (run again with --repeat 20)", c.Name)
		if p.Kind == explain.KindResolver {
			c.Answer += ", or was in the CA's own resolver or network, as the message suggests"
		}
	}
	return c
}

const remoteAdvice = "run check --format json --vantage NAME on hosts in other networks and compare them with caaprobe report --perspectives (docs/history.md)"

// faultWords says the fault: the servers, what they did, and what a CA's
// resolver makes of it.
func faultWords(servers []serverCount, n *model.Name, tries int) string {
	var parts []string
	for _, s := range servers {
		w := strings.TrimSuffix(catalog.Info(model.Code(s.Code)).Summary, ".")
		w = strings.TrimPrefix(w, "The server ")
		if tries > 1 {
			parts = append(parts, fmt.Sprintf("%s %s [%s, in %d of %d tries]", s.Server, w, s.Code, s.Tries, tries))
		} else {
			parts = append(parts, fmt.Sprintf("%s %s [%s]", s.Server, w, s.Code))
		}
		if len(parts) == 3 {
			if len(servers) > 3 {
				parts = append(parts, fmt.Sprintf("and %d more", len(servers)-3))
			}
			break
		}
	}
	text := strings.Join(parts, "; ")
	if text == "" {
		text = "the CA's validating resolver fails the lookup"
	}
	if n != nil {
		switch n.Outcome {
		case model.OutcomeServfail:
			text += fmt.Sprintf(", so every CA's resolver fails the CAA lookup of %s", n.Name.Display())
		case model.OutcomeIntermittent:
			text += fmt.Sprintf(", so a CA's resolver fails the CAA lookup of %s some of the time", n.Name.Display())
		case model.OutcomeOK:
			text += "; a CA's resolver usually routes around it (another server answers), so the failure comes and goes with the server asked"
		}
	}
	return text
}

// policyAnswer says a forbidding (or varying) policy when one try found
// it.
func policyAnswer(p explain.Problem, tries []*model.Domain, ca string) (string, bool) {
	for _, d := range tries {
		pol := d.Policy
		if pol == nil {
			continue
		}
		decision := pol.Issue
		if strings.HasPrefix(d.Domain, "*.") {
			decision = pol.Wildcard
		}
		switch decision {
		case model.PermissionForbidden:
			at := pol.Relevant
			if at == "" {
				at = strings.TrimPrefix(d.Domain, "*.")
			}
			return fmt.Sprintf("the policy at %s forbids %s: %s", at, pol.CA, pol.Reason), true
		case model.PermissionVaries:
			return fmt.Sprintf("the policy of %s varies with the server asked, so %s is forbidden some of the time: %s", d.Domain, pol.CA, pol.Reason), true
		}
	}
	return "", false
}

func policyWhere(d *model.Domain) string {
	if d.Policy == nil || d.Policy.Relevant == "" {
		return " (no CAA records on the climb)"
	}
	return " (the RRset at " + d.Policy.Relevant + ")"
}

// writeExplainText is the table/text form: the message quoted, what it
// says, what the check found, then check's own table of each name.
func writeExplainText(w io.Writer, out *explainOutput, runs [][]*model.Domain, shown []*model.Domain, f *checkFlags, ef *explainFlags) error {
	var b strings.Builder
	b.WriteString("Message:\n")
	lines := strings.Split(strings.TrimRight(out.Message, "\n"), "\n")
	for i, l := range lines {
		if i == 20 {
			fmt.Fprintf(&b, "  > … (%d more lines)\n", len(lines)-20)
			break
		}
		fmt.Fprintf(&b, "  > %s\n", report.Clean(strings.TrimRight(l, "\r")))
	}
	fmt.Fprintf(&b, "\nWhat it says (read as %s):\n", out.Parse.Format)
	if len(out.Parse.Problems) == 0 {
		b.WriteString("  none of the CAA failure texts caaprobe knows (docs/explain.md)")
		if len(out.Parse.Names) > 0 {
			fmt.Fprintf(&b, "; it names %s, checked below", strings.Join(out.Parse.Names, ", "))
		}
		b.WriteString("\n")
	}
	for i, p := range out.Parse.Problems {
		fmt.Fprintf(&b, "  %d. %s.\n", i+1, p.Meaning)
		names := strings.Join(p.Names, ", ")
		if names == "" {
			names = "not given"
		}
		fmt.Fprintf(&b, "     certificate names: %s\n", names)
		if p.Lookup != "" {
			fmt.Fprintf(&b, "     failing lookup:    CAA %s\n", p.Lookup)
		}
		if p.Climb != "" {
			fmt.Fprintf(&b, "     why there:         %s\n", p.Climb)
		}
		fmt.Fprintf(&b, "     kind:              %s\n", kindWords(p.Kind))
		fmt.Fprintf(&b, "     perspective:       %s\n", p.Perspective)
		fmt.Fprintf(&b, "     permanence:        %s: %s\n", p.Permanence, p.Reason)
	}
	for _, a := range out.Advice {
		fmt.Fprintf(&b, "\n%s", a)
	}
	if len(out.Advice) > 0 {
		b.WriteString("\n")
	}
	if ef.noCheck && len(out.Parse.Names) > 0 {
		fmt.Fprintf(&b, "\nNot checked (--no-check): caaprobe check %s\n", strings.Join(out.Parse.Names, " "))
	}
	if len(runs) > 0 {
		tries := "1 try"
		if len(runs) > 1 {
			tries = fmt.Sprintf("%d tries, each with cold caches", len(runs))
		}
		fmt.Fprintf(&b, "\nChecked from here (%s: %s):\n", tries, strings.Join(out.Parse.Names, ", "))
		for _, c := range out.Checks {
			fmt.Fprintf(&b, "  %d. %s\n", c.Problem+1, c.Answer)
			if len(c.Servers) > 0 {
				b.WriteString("     per server, the tries in which each fault appeared:\n")
				for _, s := range c.Servers {
					fmt.Fprintf(&b, "       %s  %s  %d/%d (first in try %d: %s %s)\n", s.Server, s.Code, s.Tries, c.Tries, s.First, s.Probe, report.Clean(s.Detail))
				}
			}
		}
		if len(out.Checks) == 0 {
			b.WriteString("  the message reports no failure; the check of its names is below\n")
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if len(runs) == 0 {
		return nil
	}
	color := f.color == "always" || f.color != "never" && !f.noColor && os.Getenv("NO_COLOR") == "" && isTerminal(w)
	for _, d := range shown {
		fmt.Fprintln(w)
		if err := report.WriteTable(w, d, report.TableOptions{Color: color, Width: tableWidth(w)}); err != nil {
			return err
		}
	}
	return nil
}

func kindWords(k explain.Kind) string {
	switch k {
	case explain.KindServer:
		return "server: a fault at the authoritative side"
	case explain.KindDNSSEC:
		return "dnssec: the chain of trust does not validate"
	case explain.KindPolicy:
		return "policy: the CAA records forbid the CA"
	case explain.KindResolver:
		return "resolver: the CA's own resolver or network"
	}
	return "unknown: the message does not say"
}
