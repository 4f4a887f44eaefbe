package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/discovery"
	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/report"
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
}

func (f *checkFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.root, "root", "", "root server addresses, comma-separated (default: the IANA root servers)")
	fs.IntVar(&f.port, "port", 53, "port of every DNS server (the lab uses a high port)")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Second, "time to wait for each reply")
	fs.IntVar(&f.retries, "retries", 2, "further attempts after a timeout")
	fs.StringVar(&f.format, "format", "table", "output format: table or json (JSON Lines, one object per input name)")
	fs.BoolVar(&f.noColor, "no-color", false, "no colour in the table (also when NO_COLOR is set or stdout is not a terminal)")
	fs.BoolVar(&f.strict, "strict", false, "exit 3 on warnings too")
	fs.Var(&f.files, "f", "read names from `FILE`, one per line (# comments allowed; - for stdin; repeatable)")
	fs.StringVar(&f.ca, "ca", "letsencrypt.org", "issuer domain name of the CA for the policy line")
	fs.BoolVar(&f.ipv4, "4", false, "probe IPv4 server addresses only")
	fs.BoolVar(&f.ipv6, "6", false, "probe IPv6 server addresses only")
	fs.Var(&f.pins, "ns", "pin a zone's servers instead of discovering them: `ZONE=NAME/ADDR` (repeatable)")
	fs.StringVar(&f.probeList, "probes", "", "probe IDs to send, comma-separated (default: all; see 'caaprobe probes')")
	fs.IntVar(&f.concurrency, "concurrency", 64, "domains checked at once")
	fs.DurationVar(&f.deadline, "deadline", time.Minute, "the most time one domain may take")
}

// config validates the flags and builds the engine's configuration.
func (f *checkFlags) config() (check.Config, error) {
	cfg := check.Config{Port: f.port, Timeout: f.timeout, Retries: f.retries, CA: f.ca, IPv4: f.ipv4, IPv6: f.ipv6,
		DomainTimeout: f.deadline}
	switch f.format {
	case "table", "json":
	default:
		return cfg, usageErr("--format %q: want table or json", f.format)
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
		for _, id := range strings.Split(f.probeList, ",") {
			id = strings.TrimSpace(id)
			if _, ok := probes.ProbeByID(probes.ProbeID(id)); !ok {
				return cfg, usageErr("--probes: unknown probe %q (see 'caaprobe probes')", id)
			}
			cfg.Probes = append(cfg.Probes, probes.ProbeID(id))
		}
	}
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
	items, err := readInput(fs.Args(), f.files, stdin, stderr)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return usageErr("no names to check: give names as arguments, -f FILE, or - for stdin")
	}
	return checkAndReport(ctx, cfg, &f, items, stdout)
}

// readInput gathers names from arguments, files and stdin, reporting each
// bad line on stderr (it also appears in the output with verdict error).
func readInput(args []string, files []string, stdin io.Reader, stderr io.Writer) ([]input.Item, error) {
	var r input.Reader
	var names []string
	for _, a := range args {
		if a == "-" {
			if err := r.AddReader("stdin", stdin); err != nil {
				return nil, usageErr("reading stdin: %v", err)
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
			return nil, usageErr("%v", err)
		}
	}
	items := r.Items()
	for _, it := range items {
		if it.Err != nil {
			fmt.Fprintf(stderr, "caaprobe: %v\n", it.Err)
		}
	}
	return items, nil
}

// checkAndReport runs the check and renders each domain as it completes.
func checkAndReport(ctx context.Context, cfg check.Config, f *checkFlags, items []input.Item, stdout io.Writer) error {
	c := check.New(cfg)
	color := !f.noColor && os.Getenv("NO_COLOR") == "" && isTerminal(stdout)
	var failed, warned, badInput, index int
	var writeErr error
	c.Run(ctx, items, f.concurrency, func(d *report.Domain) {
		// Domains arrive in input order, so index names their item.
		bad := items[index].Err != nil
		index++
		switch {
		case bad:
			badInput++
		case d.Verdict == report.VerdictFail, d.Verdict == report.VerdictError:
			failed++
		case d.Verdict == report.VerdictWarn:
			warned++
		}
		var err error
		if f.format == "json" {
			err = report.WriteJSON(stdout, d)
		} else {
			err = report.WriteTable(stdout, d, report.TableOptions{Color: color})
		}
		if err != nil && writeErr == nil {
			writeErr = err
		}
	})
	if writeErr != nil {
		return fmt.Errorf("writing the report: %w", writeErr)
	}
	if ctx.Err() != nil {
		return &exitError{exitInternal, "interrupted: domains not yet checked are marked error: interrupted"}
	}
	switch {
	case failed > 0 || (f.strict && warned > 0):
		return &exitError{exitFindings, ""}
	case badInput > 0:
		return &exitError{exitUsage, fmt.Sprintf("%d input line(s) could not be used", badInput)}
	}
	return nil
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
