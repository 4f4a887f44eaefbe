package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"iter"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/discovery"
	"github.com/caaprobe/caaprobe/probes/evidence"
	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/predict"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/caaprobe/caaprobe/probes/resolver"
	"github.com/caaprobe/caaprobe/probes/summary"
	"github.com/mattn/go-isatty"
)

// checkFlags are the flags of check (and of demo, which runs check on the lab).
type checkFlags struct {
	root        string
	port        int
	timeout     time.Duration
	retries     int
	format      string
	noColor     bool
	strict      bool
	files       listFlag
	ca          string
	ipv4, ipv6  bool
	pins        listFlag
	probeList   string
	concurrency int
	deadline    time.Duration
	// Safety limits (docs/limits.md).
	maxReferrals, maxNS, maxBytes int
	maxCNAME                      int
	resolver                      string
	resolverTimeout               time.Duration
	certs                         listFlag
	shard                         string
	summary                       bool
	rate                          float64
	// trustAnchor is a file of root DS/DNSKEY records (--trust-anchor).
	trustAnchor string
	// Evidence bundles (probes/evidence); stderr gets a line per bundle.
	evidence        string
	force           bool
	evidenceOnlyBad bool
	stderr          io.Writer
	// vantage labels this run's JSON lines (see vantage.go).
	vantage string
}

func (f *checkFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.root, "root", "", "root server addresses, comma-separated (default: the IANA root servers)")
	fs.IntVar(&f.port, "port", 53, "port of every DNS server (the lab uses a high port)")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Second, "time to wait for each reply")
	fs.IntVar(&f.retries, "retries", 2, "further attempts after a timeout")
	fs.StringVar(&f.format, "format", "table", "output format: table, json (JSON Lines, one object per input name), markdown (the evidence report of each domain, for a support ticket) or html (one self-contained page)")
	fs.StringVar(&f.evidence, "evidence", "", "write an evidence bundle per domain (report.md, exchanges.pcap, result.json) under `DIR`; see docs/evidence.md")
	fs.BoolVar(&f.force, "force", false, "replace evidence bundles that already exist")
	fs.BoolVar(&f.noColor, "no-color", false, "no colour in the table (also when NO_COLOR is set or stdout is not a terminal)")
	fs.BoolVar(&f.strict, "strict", false, "exit 3 on warnings too")
	fs.Var(&f.files, "f", "read names from `FILE`, one per line (# comments allowed; - for stdin; repeatable)")
	fs.StringVar(&f.ca, "ca", "letsencrypt.org", "issuer domain name of the CA for the policy line")
	fs.BoolVar(&f.ipv4, "4", false, "probe IPv4 server addresses only")
	fs.BoolVar(&f.ipv6, "6", false, "probe IPv6 server addresses only")
	fs.Var(&f.pins, "ns", "pin a zone's servers instead of discovering them: `ZONE=NAME/ADDR` (repeatable)")
	fs.StringVar(&f.probeList, "probes", "", "probe IDs or probe sets (edns, id) to send, comma-separated (default: all; see 'caaprobe probes')")
	fs.IntVar(&f.concurrency, "concurrency", 64, "domains checked at once")
	fs.DurationVar(&f.deadline, "deadline", time.Minute, "the most time one domain may take")
	fs.IntVar(&f.maxReferrals, "max-referrals", discovery.DefaultLimits.MaxReferrals, "most referrals followed for one name (then limit-reached)")
	fs.IntVar(&f.maxCNAME, "max-cname", 8, "most CNAME links followed from one relevant name (then limit-reached)")
	fs.IntVar(&f.maxNS, "max-ns", discovery.DefaultLimits.MaxNS, "most NS names used per zone (then limit-reached)")
	fs.IntVar(&f.maxBytes, "max-bytes", 65535, "largest reply accepted from one exchange, 512 to 65535 (then limit-reached)")
	fs.StringVar(&f.resolver, "resolver", "", "also ask this validating resolver (`ADDR[:PORT]`) for each relevant name's CAA and show its RCODE, AD and EDE")
	fs.DurationVar(&f.resolverTimeout, "resolver-timeout", resolver.DefaultTimeout, "time to wait for the --resolver's reply (it waits for slow authoritative servers itself)")
	fs.Var(&f.certs, "cert", "check the DNS names of the certificates in `FILE` or DIR (PEM or DER; a /etc/letsencrypt/live tree works; repeatable)")
	fs.StringVar(&f.shard, "shard", "", "check only shard `K/N` of the input (K counts from 0; names of one registrable domain stay together)")
	fs.StringVar(&f.trustAnchor, "trust-anchor", "", "validate DNSSEC from the DS or DNSKEY records in `FILE` (zone-file syntax): the root's replace IANA's root anchors; another zone's make it validate from its own anchor (for pinned --ns servers before the DS is published)")
	fs.BoolVar(&f.summary, "summary", false, "print the provider view: findings by nameserver and by provider (always at the end of a table run of more than 20 domains)")
	fs.Float64Var(&f.rate, "rate", check.DefaultRate, "most queries a second to any one server address, root and TLD included (0: no limit)")
	fs.StringVar(&f.vantage, "vantage", "", "label of this vantage point, recorded in each JSON line (default: the host name; see docs/history.md)")
}

// config validates the flags and builds the engine's configuration.
func (f *checkFlags) config() (check.Config, error) {
	cfg := check.Config{Port: f.port, Timeout: f.timeout, Retries: f.retries, CA: f.ca, IPv4: f.ipv4, IPv6: f.ipv6,
		DomainTimeout: f.deadline, MaxBytes: f.maxBytes,
		Limits: discovery.Limits{MaxReferrals: f.maxReferrals, MaxNS: f.maxNS, MaxDepth: discovery.DefaultLimits.MaxDepth}}
	if f.maxReferrals < 1 || f.maxReferrals > 64 {
		return cfg, usageErr("--max-referrals %d: want 1 to 64", f.maxReferrals)
	}
	if f.maxCNAME < 1 || f.maxCNAME > 32 {
		return cfg, usageErr("--max-cname %d: want 1 to 32", f.maxCNAME)
	}
	cfg.MaxCNAME = f.maxCNAME
	if f.maxNS < 1 || f.maxNS > 1000 {
		return cfg, usageErr("--max-ns %d: want 1 to 1000", f.maxNS)
	}
	if f.maxBytes < 512 || f.maxBytes > 65535 {
		return cfg, usageErr("--max-bytes %d: want 512 to 65535", f.maxBytes)
	}
	if f.deadline <= 0 {
		return cfg, usageErr("--deadline must be positive")
	}
	switch f.format {
	case "table", "json", "markdown", "html":
	default:
		return cfg, usageErr("--format %q: want table, json, markdown or html", f.format)
	}
	if f.force && f.evidence == "" {
		return cfg, usageErr("--force only applies with --evidence DIR")
	}
	if f.port < 1 || f.port > 65535 {
		return cfg, usageErr("--port %d: want 1 to 65535", f.port)
	}
	if f.timeout <= 0 {
		return cfg, usageErr("--timeout must be positive")
	}
	if f.retries < 0 || f.retries > 10 {
		return cfg, usageErr("--retries %d: want 0 to 10", f.retries)
	}
	if f.concurrency < 1 {
		return cfg, usageErr("--concurrency must be at least 1")
	}
	if f.rate < 0 {
		return cfg, usageErr("--rate %g: want 0 (no limit) or more", f.rate)
	}
	cfg.Rate, cfg.Burst = f.rate, check.DefaultBurst
	if f.shard != "" {
		if _, _, err := input.ParseShard(f.shard); err != nil {
			return cfg, usageErr("--shard: %v", err)
		}
	}
	roots := defaultRoots
	if f.root != "" {
		roots = strings.Split(f.root, ",")
	}
	for _, r := range roots {
		a, err := netip.ParseAddr(strings.TrimSpace(r))
		if err != nil {
			return cfg, usageErr("--root %q: not an IP address", r)
		}
		cfg.Roots = append(cfg.Roots, a)
	}
	if f.probeList != "" {
		plan, err := probes.ParsePlan(f.probeList)
		if err != nil {
			return cfg, usageErr("--probes: %v", err)
		}
		cfg.Probes = plan
	}
	if f.trustAnchor != "" {
		fh, err := os.Open(f.trustAnchor)
		if err != nil {
			return cfg, usageErr("--trust-anchor: %v", err)
		}
		anchor, err := check.ReadTrustAnchor(fh, f.trustAnchor)
		fh.Close()
		if err != nil {
			return cfg, usageErr("--trust-anchor: %v", err)
		}
		cfg.TrustAnchor = anchor
	}
	if f.resolver != "" {
		r, err := parseResolver(f.resolver)
		if err != nil {
			return cfg, err
		}
		cfg.Resolver = r
	}
	if f.resolverTimeout <= 0 {
		return cfg, usageErr("--resolver-timeout must be positive")
	}
	cfg.ResolverTimeout = f.resolverTimeout
	if len(f.pins) > 0 {
		cfg.Pins = map[string][]discovery.NS{}
	}
	for _, p := range f.pins {
		zone, ns, err := parsePin(p)
		if err != nil {
			return cfg, err
		}
		cfg.Pins[zone] = append(cfg.Pins[zone], ns)
	}
	return cfg, nil
}

// parsePin reads ZONE=NAME/ADDR.
func parsePin(s string) (string, discovery.NS, error) {
	zone, rest, ok := strings.Cut(s, "=")
	name, addr, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || zone == "" || name == "" {
		return "", discovery.NS{}, usageErr("--ns %q: want ZONE=NAME/ADDR", s)
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return "", discovery.NS{}, usageErr("--ns %q: %q is not an IP address", s, addr)
	}
	zn, err := input.Normalise(zone)
	if err != nil {
		return "", discovery.NS{}, usageErr("--ns %q: %v", s, err)
	}
	return zn + ".", discovery.NS{Name: strings.TrimSuffix(name, ".") + ".", Addrs: []netip.Addr{a}}, nil
}

func runCheck(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f checkFlags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: caaprobe check [flags] NAME... | -f FILE | -")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	var readErr error
	items, err := inputStream(fs.Args(), f.files, f.certs, stdin, stderr, &readErr)
	if err != nil {
		return err
	}
	var read, kept int
	if f.shard != "" {
		k, n, _ := input.ParseShard(f.shard) // validated in config
		items = shardItems(items, k, n, &read, &kept)
		defer func() {
			fmt.Fprintf(stderr, "caaprobe: shard %d/%d: %d of %d input entries\n", k, n, kept, read)
		}()
	}
	f.stderr = stderr
	cfg.OnNoAnchor = func(w string) { fmt.Fprintln(stderr, "caaprobe: warning: "+w) }
	checked, err := checkAndReport(ctx, cfg, &f, items, stdout)
	if readErr != nil {
		return usageErr("%v", readErr)
	}
	if checked == 0 && f.shard == "" && err == nil {
		return usageErr("no names to check: give names as arguments, -f FILE, --cert FILE, or - for stdin")
	}
	return err
}

// inputStream checks that every file named can be opened, then returns the
// names from arguments, files and stdin as a stream, read while the run
// goes on (so a list of millions of names is never held whole). Each bad
// line is reported on stderr as it is read (it also appears in the output
// with verdict error). A source that fails part-way sets *readErr.
func inputStream(args, files, certs []string, stdin io.Reader, stderr io.Writer, readErr *error) (iter.Seq[input.Item], error) {
	for _, path := range files {
		if path == "-" {
			continue
		}
		fh, err := os.Open(path)
		if err != nil {
			return nil, usageErr("reading names: %v", err)
		}
		fh.Close()
	}
	for _, path := range certs {
		if _, err := os.Stat(path); err != nil {
			return nil, usageErr("--cert %s: reading certificates: %v", path, err)
		}
	}
	all := input.Stream(stdin, func(r *input.Reader) error {
		var names []string
		for _, a := range args {
			if a == "-" {
				if err := r.AddReader("stdin", stdin); err != nil {
					return fmt.Errorf("reading stdin: %w", err)
				}
				continue
			}
			names = append(names, a)
		}
		r.AddArgs(names)
		for _, path := range files {
			var err error
			if path == "-" {
				err = r.AddReader("stdin", stdin)
			} else {
				err = r.AddFile(path)
			}
			if err != nil {
				return err
			}
		}
		for _, path := range certs {
			if err := r.AddCerts(path); err != nil {
				return fmt.Errorf("--cert %s: %w", path, err)
			}
		}
		return nil
	}, readErr)
	return func(yield func(input.Item) bool) {
		for it := range all {
			if it.Err != nil {
				fmt.Fprintf(stderr, "caaprobe: %v\n", it.Err)
			}
			if !yield(it) {
				return
			}
		}
	}, nil
}

// checkAndReport runs the check and renders each domain as it completes;
// it returns how many input entries it reported.
func checkAndReport(ctx context.Context, cfg check.Config, f *checkFlags, items iter.Seq[input.Item], stdout io.Writer) (int, error) {
	c := check.New(cfg)
	defer c.Close()
	color := !f.noColor && os.Getenv("NO_COLOR") == "" && isTerminal(stdout)
	var failed, warned, badInput, index int
	var writeErr error
	ev, err := newEvidenceSink(f)
	if err != nil {
		return 0, err
	}
	defer ev.close()
	out, err := newCheckOutput(f, cfg, stdout)
	if err != nil {
		return 0, err
	}
	stderr := f.stderr
	if stderr == nil {
		stderr = io.Discard
	}
	// The provider view: asked for, or by default at the end of a table
	// run long enough that one domain's table no longer shows the pattern.
	// JSON and Markdown keep stdout for their own format, so there it is
	// written to stderr and only when asked for.
	var sum *summary.Summary
	if f.summary || f.format == "table" {
		sum = summary.New()
	}
	// The input is a stream of unknown length: the bar counts domains.
	bar := newProgress(stderr, stdout, -1, c.X.Sent)
	c.Run(ctx, items, f.concurrency, func(it input.Item, d *report.Domain) {
		bar.beforeOutput()
		defer bar.done(d)
		if sum != nil {
			sum.Add(d)
		}
		index++
		switch {
		case it.Err != nil:
			badInput++
		case d.Verdict == report.VerdictFail, d.Verdict == report.VerdictError:
			failed++
		case d.Policy != nil && (d.Policy.Issue == predict.Varies || d.Policy.Wildcard == predict.Varies):
			// Whether the CA issues depends on the server it asks.
			failed++
		case d.Verdict == report.VerdictWarn:
			warned++
		}
		var err error
		switch f.format {
		case "json":
			err = report.WriteJSONFrom(stdout, d, out.vantage)
		case "markdown":
			err = evidence.WriteMarkdown(stdout, d)
		case "html":
			err = out.html.Add(d, "")
		default:
			err = report.WriteTable(stdout, d, report.TableOptions{Color: color})
		}
		if err != nil && writeErr == nil {
			writeErr = err
		}
		ev.add(d)
	})
	bar.finish()
	if sum != nil && writeErr == nil && (f.summary || index > summaryDefaultAbove) {
		w := stdout
		if f.format != "table" {
			w = stderr
		}
		if f.format != "html" { // the page shows it itself
			fmt.Fprintln(w)
			if err := sum.Write(w); err != nil {
				writeErr = err
			}
		}
	}
	if err := out.close(sum); err != nil && writeErr == nil {
		writeErr = err
	}
	if writeErr != nil {
		return index, fmt.Errorf("writing the report: %w", writeErr)
	}
	if err := ev.err(); err != nil {
		return index, err
	}
	if ctx.Err() != nil {
		return index, &exitError{exitInternal, "interrupted: domains not yet checked are marked error: interrupted"}
	}
	switch {
	case failed > 0 || (f.strict && warned > 0):
		return index, &exitError{exitFindings, ""}
	case badInput > 0:
		return index, &exitError{exitUsage, fmt.Sprintf("%d input line(s) could not be used", badInput)}
	}
	return index, nil
}

// summaryDefaultAbove is the number of domains above which a table run
// ends with the provider view without --summary.
const summaryDefaultAbove = 20

// shardItems keeps the entries of shard k of n, in input order, counting
// the entries read and kept.
func shardItems(items iter.Seq[input.Item], k, n int, read, kept *int) iter.Seq[input.Item] {
	return func(yield func(input.Item) bool) {
		for it := range items {
			*read++
			if !it.InShard(k, n) {
				continue
			}
			*kept++
			if !yield(it) {
				return
			}
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// defaultRoots are the IANA root servers' IPv4 and IPv6 addresses
// (root-servers.org, as of 2026).
var defaultRoots = []string{
	"198.41.0.4", "170.247.170.2", "192.33.4.12", "199.7.91.13", "192.203.230.10", "192.5.5.241", "192.112.36.4",
	"198.97.190.53", "192.36.148.17", "192.58.128.30", "193.0.14.129", "199.7.83.42", "202.12.27.33",
	"2001:503:ba3e::2:30", "2801:1b8:10::b", "2001:500:2::c", "2001:500:2d::d", "2001:500:a8::e", "2001:500:2f::f",
	"2001:500:12::d0d", "2001:500:1::53", "2001:7fe::53", "2001:503:c27::2:30", "2001:7fd::1", "2001:500:9f::42",
	"2001:dc3::35",
}
