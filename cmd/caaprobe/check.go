package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/discovery"
	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/mpic"
	"github.com/caaprobe/caaprobe/probes/predict/boulder"
	"github.com/caaprobe/caaprobe/probes/render"
	"github.com/caaprobe/caaprobe/probes/resolver"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// checkFlags are the flags of check (and of demo, which runs check on the lab).
type checkFlags struct {
	root        string
	port        int
	timeout     time.Duration
	retries     int
	repeat      int  // --repeat: tries per domain, each with cold caches
	portSet     bool // --port was given
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
	// onlyFailing keeps only domains and rows with findings in the table.
	onlyFailing bool
	// command is the command line (without the program name), recorded in
	// the evidence; set by runCheck and runDemo.
	command []string
	// --format, -o, --summary, --color: the output flags every rendering
	// command shares (output.go).
	outputFlags
	// persp is the live multi-perspective check (perspectives.go).
	persp perspectiveFlags
}

func (f *checkFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.root, "root", "", "root server addresses, comma-separated: `ADDR`, ADDR:PORT or [V6]:PORT (default: the IANA root servers)")
	fs.IntVar(&f.port, "port", 53, "port of every DNS server (the lab uses a high port)")
	durationVar(fs, &f.timeout, "timeout", 2*time.Second, "time to wait for each reply (seconds, or a duration: 500ms, 2s)")
	fs.IntVar(&f.retries, "retries", 2, "further attempts after a timeout")
	f.outputFlags.register(fs, outputFlagsUse{
		formatHelp:  "output format: table, json (JSON Lines, one object per input name), markdown (the evidence report of each domain, for a support ticket) or html (one self-contained page)",
		outputHelp:  "write the report to `FILE` instead of standard output (replaced whole, or left as it was; for a container without a shell)",
		summaryHelp: "print the provider view: findings by nameserver and by provider (always at the end of a table run of more than 20 domains)",
		color:       true,
	})
	fs.StringVar(&f.evidence, "evidence", "", "write an evidence bundle per domain (report.md, exchanges.pcap, result.json) under `DIR`; see docs/evidence.md")
	fs.BoolVar(&f.force, "force", false, "no longer needed, accepted for old scripts: each run writes its evidence into a new folder under DIR and replaces nothing")
	fs.BoolVar(&f.strict, "strict", false, "exit 3 on warnings too")
	fs.VarP(&f.files, "file", "f", "read names from `FILE`, one per line (# comments allowed; - for stdin; repeatable); names piped on stdin are read without it")
	fs.StringVar(&f.ca, "ca", "letsencrypt.org", "issuer domain name of the CA for the policy line")
	fs.BoolVarP(&f.ipv4, "ipv4", "4", false, "probe IPv4 server addresses only")
	fs.BoolVarP(&f.ipv6, "ipv6", "6", false, "probe IPv6 server addresses only")
	fs.Var(&f.pins, "ns", "pin a zone's servers instead of discovering them: `ZONE=ADDR`, ZONE=NAME (its addresses looked up from the roots) or ZONE=NAME/ADDR (repeatable; ADDR may carry no port: --port applies)")
	fs.StringVar(&f.probeList, "probes", "", "probe IDs or probe sets (caa, edns, id) to send, comma-separated (default: all; see 'caaprobe probes')")
	fs.IntVar(&f.concurrency, "concurrency", 64, "domains checked at once")
	durationVar(fs, &f.deadline, "deadline", time.Minute, "the most time one domain may take (seconds or a duration)")
	fs.IntVar(&f.maxReferrals, "max-referrals", discovery.DefaultLimits.MaxReferrals, "most referrals followed for one name (then limit-reached)")
	fs.IntVar(&f.maxCNAME, "max-cname", 8, "most CNAME links followed from one relevant name (then limit-reached)")
	fs.IntVar(&f.maxNS, "max-ns", discovery.DefaultLimits.MaxNS, "most NS names used per zone (then limit-reached)")
	fs.IntVar(&f.maxBytes, "max-bytes", 65535, "largest reply accepted from one exchange, 512 to 65535 (then limit-reached)")
	fs.StringVar(&f.resolver, "resolver", "", "also ask this validating resolver (`ADDR[:PORT]`) for each relevant name's CAA and show its RCODE, AD and EDE")
	durationVar(fs, &f.resolverTimeout, "resolver-timeout", resolver.DefaultTimeout, "time to wait for the --resolver's reply (it waits for slow authoritative servers itself)")
	fs.Var(&f.certs, "cert", "check the DNS names of the certificates in `FILE` or DIR (PEM or DER; a /etc/letsencrypt/live tree works; repeatable)")
	fs.StringVar(&f.shard, "shard", "", "check only shard `K/N` of the input (K counts from 0; names of one registrable domain stay together)")
	fs.StringVar(&f.trustAnchor, "trust-anchor", "", "validate DNSSEC from the DS or DNSKEY records in `FILE` (zone-file syntax): the root's replace IANA's root anchors; another zone's make it validate from its own anchor (for pinned --ns servers before the DS is published)")
	fs.Float64Var(&f.rate, "rate", check.DefaultRate, "most queries a second to any one server address, root and TLD included (0: no limit)")
	fs.BoolVar(&f.onlyFailing, "only-failing", false, "table: show only domains with findings and, of those, only the rows with findings")
	fs.IntVar(&f.repeat, "repeat", 1, "check each domain `N` times, each with cold caches, and count per server how often each fault appeared (the report shows the first of the worst tries; one domain at a time)")
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
	if err := f.outputFlags.validate(); err != nil {
		return cfg, err
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
	if f.repeat < 1 || f.repeat > check.MaxRepeat {
		return cfg, usageErr("--repeat %d: want 1 to %d", f.repeat, check.MaxRepeat)
	}
	cfg.Repeat = f.repeat
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
	rootPort := 0
	for _, r := range roots {
		ap, err := parseRoot(r)
		if err != nil {
			return cfg, err
		}
		cfg.Roots = append(cfg.Roots, ap.Addr())
		if p := int(ap.Port()); p != 0 {
			if rootPort != 0 && p != rootPort {
				return cfg, usageErr("--root %q: every root must use the same port (%d and %d given)", f.root, rootPort, p)
			}
			rootPort = p
		}
	}
	if rootPort != 0 && rootPort != cfg.Port {
		// One port for every server: a lab serves them all on one.
		if f.portSet {
			return cfg, usageErr("--root port %d differs from --port %d: caaprobe asks every server on one port; give one of them", rootPort, cfg.Port)
		}
		cfg.Port = rootPort
	}
	if f.probeList != "" {
		plan, err := catalog.ParsePlan(f.probeList)
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
	if err := f.persp.config(); err != nil {
		return cfg, err
	}
	if len(f.pins) > 0 {
		cfg.Pins = map[model.DomainName][]discovery.NS{}
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

// parseRoot reads one --root address: ADDR, ADDR:PORT, [V6] or [V6]:PORT
// (port 0: not given).
func parseRoot(s string) (netip.AddrPort, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return ap, usageErr("--root %q: port 0", s)
		}
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.AddrPort{}, usageErr("--root %q: want ADDR, ADDR:PORT or [V6]:PORT", s)
	}
	return netip.AddrPortFrom(a.Unmap(), 0), nil
}

func newCheckCmd(env *cliEnv) *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check [flags] NAME... | -f FILE | --cert FILE | -",
		Short: "check domains: every authoritative server, every probe",
		Long: `Check domains: ask every authoritative server of each name's CAA climb for
CAA, in every spelling and over every transport, judge the replies and
predict what a CA's validating resolver concludes. Options may come
anywhere on the line. Names come from arguments, -f FILE, --cert, or
standard input when it is not a terminal.`,
		Example: `  caaprobe check example.com
  caaprobe check --format json -f names.txt > run.jsonl
  caaprobe check notimp.test --root 127.0.0.1:5353 --timeout 1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.command = env.args // recorded in the evidence
			return runCheck(env.ctx, &f, cmd.Flags().Changed("port"), args, env.stdin, env.stdout, env.stderr)
		},
	}
	f.register(cmd.Flags())
	f.persp.register(cmd.Flags()) // check's only: the live multi-perspective check
	return cmd
}

func runCheck(ctx context.Context, f *checkFlags, portSet bool, args []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	f.portSet = portSet
	cfg, err := f.config()
	if err != nil {
		return err
	}
	if len(args) == 0 && len(f.files) == 0 && len(f.certs) == 0 && stdin != nil && !isTerminal(stdin) {
		// Names piped in: read them without "-".
		if fh, ok := stdin.(*os.File); !ok || pipedOrFile(fh) {
			args = []string{"-"}
		}
	}
	if len(args) == 0 && len(f.files) == 0 && len(f.certs) == 0 {
		return usageErr("no names to check: give names as arguments, -f FILE, --cert FILE, or pipe them on stdin")
	}
	stdout, stderr, closeOut, err := f.streams(stdout, stderr)
	if err != nil {
		return err
	}
	defer closeOut(&err)
	if err := preflight(ctx, &cfg, stderr); err != nil {
		return err
	}
	checkResolver(ctx, &cfg, stderr)
	if err := resolvePins(ctx, &cfg); err != nil {
		return err
	}
	var readErr error
	items, err := inputStreamCtx(ctx, args, f.files, f.certs, stdin, &readErr, func(path string, st input.CertStats) {
		fmt.Fprintf(stderr, "caaprobe: --cert %s: %v\n", path, st)
	})
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
	// Bad lines and repeats are said on stderr by the shard that owns them.
	items = noteInput(items, stderr)
	cfg.OnNoAnchor = func(w string) { fmt.Fprintln(stderr, "caaprobe: warning: "+w) }
	checked, err := checkAndReport(ctx, cfg, f, items, stdout)
	if readErr != nil && ctx.Err() == nil {
		return usageErr("%v", readErr)
	}
	if checked == 0 && f.shard == "" && err == nil {
		return usageErr("no names to check: give names as arguments, -f FILE, --cert FILE, or pipe them on stdin")
	}
	return err
}

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// pipedOrFile says whether stdin is a pipe or a regular file (names
// piped or redirected in), not /dev/null or a character device.
func pipedOrFile(fh *os.File) bool {
	st, err := fh.Stat()
	if err != nil {
		return false
	}
	m := st.Mode()
	return m&os.ModeNamedPipe != 0 || m.IsRegular() && st.Size() > 0
}

// noteInput says each unusable entry on stderr as it passes (it also
// appears in the output with verdict error), and drops repeats with a
// note: a name is checked once, whichever source repeats it.
func noteInput(items iter.Seq[input.Item], stderr io.Writer) iter.Seq[input.Item] {
	return func(yield func(input.Item) bool) {
		for it := range items {
			if it.Duplicate {
				fmt.Fprintf(stderr, "caaprobe: note: %v: checked once\n", it.Err)
				continue
			}
			if it.Err != nil {
				fmt.Fprintf(stderr, "caaprobe: %v\n", it.Err)
			}
			if !yield(it) {
				return
			}
		}
	}
}

// inputStream checks that every file named can be opened, then returns the
// names from arguments, files and stdin as a stream, read while the run
// goes on (so a list of millions of names is never held whole). Each bad
// line is reported on stderr as it is read (it also appears in the output
// with verdict error). A source that fails part-way sets *readErr.
func inputStream(args, files, certs []string, stdin io.Reader, readErr *error, certNote func(string, input.CertStats)) (iter.Seq[input.Item], error) {
	return inputStreamCtx(context.Background(), args, files, certs, stdin, readErr, certNote)
}

// inputStreamCtx is inputStream whose sources stop being opened and read
// when ctx ends (an interrupt): a FIFO without a writer, or a pipe that
// stays open, would otherwise hold the run forever (inputs.go).
func inputStreamCtx(ctx context.Context, args, files, certs []string, stdin io.Reader, readErr *error, certNote func(string, input.CertStats)) (iter.Seq[input.Item], error) {
	for _, path := range files {
		if path == "-" {
			continue
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, usageErr("reading names: %v", err)
		}
		if st.IsDir() {
			return nil, usageErr("reading names: %s is a directory", path)
		}
		if !st.Mode().IsRegular() {
			// A FIFO is opened once, when it is read: opening it here
			// would wait for a writer, and take its data.
			continue
		}
		fh, err := os.Open(path)
		if err != nil {
			return nil, usageErr("reading names: %v", err)
		}
		fh.Close()
	}
	stdin = interruptible(ctx, stdin)
	for _, path := range certs {
		if _, err := os.Stat(path); err != nil {
			return nil, usageErr("--cert %s: reading certificates: %v", path, err)
		}
	}
	return input.Stream(stdin, func(r *input.Reader) error {
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
				var fh *os.File
				if fh, err = openInput(ctx, path); err != nil {
					return fmt.Errorf("reading names: %w", err)
				}
				err = r.AddReader(path, interruptible(ctx, fh))
				fh.Close()
			}
			if err != nil {
				return err
			}
		}
		for _, path := range certs {
			if err := r.AddCerts(path); err != nil {
				return fmt.Errorf("--cert %s: %w", path, err)
			}
			if certNote != nil {
				certNote(path, r.CertStats())
			}
		}
		return nil
	}, readErr), nil
}

// checkAndReport runs the check and renders each domain as it completes;
// it returns how many input entries it reported.
func checkAndReport(ctx context.Context, cfg check.Config, f *checkFlags, items iter.Seq[input.Item], stdout io.Writer) (int, error) {
	if f.stderr != nil {
		parallel := cfg.Parallel
		if parallel == 0 {
			parallel = check.DefaultParallel
		}
		f.concurrency = capConcurrency(f.concurrency, parallel, f.stderr)
	}
	if cfg.Repeat > 1 {
		// Each try has its own Checker and so its own rate limiter: one
		// domain at a time keeps the per-server rate what --rate says.
		f.concurrency = 1
	}
	c := check.New(cfg)
	defer c.Close()
	limitMemory(c.LiveEstimate(f.concurrency))
	var failed, warned, badInput, unchecked, index int
	var local int         // domains not judged for a local error (model.ErrLocal)
	var firstLocal string // the first one's message
	var writeErr error
	run := newRun(f, cfg)
	stderr := f.stderr
	if stderr == nil {
		stderr = io.Discard
	}
	// The provider view: asked for, or by default at the end of a table
	// run long enough that one domain's table no longer shows the pattern
	// (render.SummaryAuto); JSON and Markdown keep stdout for their own
	// format, so there it goes to stderr.
	out, err := f.outputFlags.sink(stdout, stderr, render.Options{OnlyFailing: f.onlyFailing, Title: "caaprobe check", Generated: time.Now()})
	if err != nil {
		return 0, err
	}
	// An evidence directory that cannot be written is found here, before
	// any domain is probed.
	ev, err := newEvidenceSink(f, run)
	if err != nil {
		out.Close()
		return 0, err
	}
	defer ev.close()
	// The input is a stream of unknown length: the bar counts domains.
	bar := newProgress(stderr, stdout, -1, c.X.Sent)
	pins := newPinUse(cfg.Pins)
	live := f.persp.live(run.Vantage, f.evidence, stderr)
	if live != nil {
		if items, err = live.start(ctx, items); err != nil {
			return 0, err
		}
		defer live.close()
	}
	c.Run(ctx, items, f.concurrency, func(it input.Item, d *model.Domain) {
		bar.beforeOutput()
		defer bar.done(d)
		pins.see(d)
		index++
		switch {
		case it.Err != nil:
			badInput++
		case d.Verdict == model.VerdictError:
			// Could not be checked: a deadline, a discovery error, a
			// local error of this host.
			unchecked++
			if check.IsLocalError(d) {
				local++
				if firstLocal == "" {
					firstLocal = d.Err
				}
			}
		case d.Verdict == model.VerdictFail:
			failed++
		case boulder.PolicyFails(d):
			failed++
		case d.Verdict == model.VerdictWarn:
			warned++
		}
		var err error
		if live != nil && it.Err == nil {
			var m *mpic.Result
			if m, err = live.write(out, f.format, run, d); m.Decision == mpic.Refuse {
				failed++
			}
		} else {
			err = out.Domain(render.Record{Domain: d, Run: run})
		}
		if err != nil && writeErr == nil {
			writeErr = err
		}
		ev.add(d)
	})
	bar.finish()
	if err := out.Close(); err != nil && writeErr == nil {
		writeErr = err
	}
	if writeErr != nil {
		return index, fmt.Errorf("writing the report: %w", writeErr)
	}
	closeErr := ev.close()
	if ctx.Err() != nil {
		return index, &exitError{exitInternal, "interrupted: domains not yet checked are marked error: interrupted"}
	}
	if local > 0 {
		if local == index-badInput {
			// Nothing could be checked: caaprobe's failure, not the
			// servers' (exit 1, as a preflight failure).
			return index, &exitError{exitInternal, fmt.Sprintf("no domain could be checked: %s", firstLocal)}
		}
		fmt.Fprintf(stderr, "caaprobe: %d domain(s) not judged (verdict error): %s\n", local, firstLocal)
	}
	res := reportUnusedPins(pins, stderr, exitFor(f, stderr, index, badInput, failed, warned, unchecked))
	if err := errors.Join(ev.err(), closeErr); err != nil {
		// Evidence that could not be written (a full disk) is caaprobe's
		// failure: exit 1, whatever the servers did. What they did is in
		// the report, and the status it alone would give is said.
		if c := exitOf(res); c != exitOK {
			fmt.Fprintf(stderr, "caaprobe: the report alone would exit %d (%s)\n", c, exitMeaning(c))
		}
		return index, &exitError{exitInternal, strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	return index, res
}

// exitMeaning is the short meaning of an exit status (main.go).
func exitMeaning(code int) string {
	switch code {
	case exitFindings:
		return "findings"
	case exitIncomplete:
		return "domains not checked"
	case exitUsage:
		return "input not usable"
	}
	return "failure"
}

// exitFor maps a run's counts to its exit status (run.go).
func exitFor(f *checkFlags, stderr io.Writer, index, badInput, failed, warned, unchecked int) error {
	if badInput > 0 {
		msg := fmt.Sprintf("%d input line(s) could not be used", badInput)
		if index == badInput {
			return &exitError{exitUsage, msg + "; nothing was checked"}
		}
		// The good names decide the exit status; the bad ones are said.
		fmt.Fprintf(stderr, "caaprobe: %s (listed above; the other %d were checked)\n", msg, index-badInput)
	}
	switch {
	case failed > 0 || (f.strict && warned > 0):
		return &exitError{exitFindings, ""}
	case unchecked > 0:
		return &exitError{exitIncomplete, fmt.Sprintf("%d domain(s) could not be checked (verdict error)", unchecked)}
	}
	return nil
}

// exitOf is the exit status an error from run maps to (main.go).
func exitOf(err error) int {
	if err == nil {
		return exitOK
	}
	var c interface{ ExitCode() int }
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return exitInternal
}

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

func isTerminal(w any) bool {
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
