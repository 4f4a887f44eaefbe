package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/listen"
	"github.com/caaprobe/caaprobe/probes/metrics"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/serve"
	"github.com/caaprobe/caaprobe/probes/store"
	"github.com/caaprobe/caaprobe/probes/watch"
	"github.com/miekg/dns"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// serveFlags are serve's own flags; the engine's come from checkFlags.
type serveFlags struct {
	listen, db, tokenFile    string
	public, lab              bool
	workers, queue, maxNames int
	retainRuns, retainDays   int
	shutdownWait             time.Duration
	watch                    string        // a watch-list file, checked on a schedule
	watchEvery               time.Duration // between two rounds of the watch list
	check                    checkFlags
}

// serveEngineFlags are the check flags that apply to serve: how the
// engine asks, not what it reads or writes. --ns is left out: the
// servers asked are those discovery finds.
var serveEngineFlags = []string{"root", "port", "timeout", "retries", "ca", "ipv4", "ipv6", "probes", "concurrency", "deadline",
	"max-referrals", "max-cname", "max-ns", "max-bytes", "resolver", "resolver-timeout", "trust-anchor", "rate", "vantage"}

func newServeCmd(env *cliEnv) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "a web page and JSON API that check domains and keep their history (loopback unless --public)",
		Long: `Serve a web page and a JSON API (/api/v1/) that check the names clients
submit, keep every run in a SQLite file (--db) and show each domain's
history with what changed between runs. See docs/serve.md.`,
		Example: `  caaprobe serve --lab
  caaprobe serve --listen 127.0.0.1:8053 --db /var/lib/caaprobe/runs.db --retain-runs 1000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.check.command = []string{"serve"}
			return runServe(env.ctx, &f, cmd.Flags().Changed("port"), env.stdout, env.stderr)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8053", "`ADDR:PORT` to listen on (an IP address or localhost; port 0 picks one)")
	fs.BoolVar(&f.public, "public", false, "allow a --listen address other than loopback")
	fs.StringVar(&f.db, "db", "caaprobe.db", "SQLite database `FILE` of runs and results (created if missing)")
	fs.StringVar(&f.tokenFile, "token-file", "", "require a bearer token from `FILE` (one a line, any of them accepted) for the API; the form then takes no submissions")
	fs.BoolVar(&f.lab, "lab", false, "start the built-in lab (loopback only) and check against it: no network needed")
	fs.IntVar(&f.workers, "workers", serve.DefaultWorkers, "runs checked at once")
	fs.IntVar(&f.queue, "queue", serve.DefaultQueue, "runs that may wait for a worker (then 429)")
	fs.IntVar(&f.maxNames, "max-names", serve.DefaultMaxNames, "most names in one submission")
	fs.IntVar(&f.retainRuns, "retain-runs", 0, "keep only the newest `N` finished runs (0: all)")
	fs.IntVar(&f.retainDays, "retain-days", 0, "delete finished runs older than `D` days (0: never)")
	fs.StringVar(&f.watch, "watch", "", "check the names in `FILE` (one per line, re-read when it changes) every --watch-every, as stored runs")
	fs.DurationVar(&f.watchEvery, "watch-every", time.Hour, "time between two rounds of the --watch list (±10 % jitter)")
	durationVar(fs, &f.shutdownWait, "shutdown-wait", 10*time.Second, "on SIGINT or SIGTERM, how long running checks may finish before they are marked incomplete")
	all := pflag.NewFlagSet("check", pflag.ContinueOnError)
	f.check.register(all)
	for _, name := range serveEngineFlags {
		fs.AddFlag(all.Lookup(name))
	}
	setDefault(fs, "concurrency", fmt.Sprint(serve.DefaultConcurrency))
	return cmd
}

func runServe(ctx context.Context, f *serveFlags, portSet bool, stdout, stderr io.Writer) error {
	stderr = &lockedWriter{w: stderr}
	f.check.stderr = stderr
	if f.workers < 1 || f.queue < 1 || f.maxNames < 1 {
		return usageErr("--workers, --queue and --max-names must be at least 1")
	}
	if f.retainRuns < 0 || f.retainDays < 0 {
		return usageErr("--retain-runs and --retain-days must not be negative")
	}
	if _, err := listen.Check(f.listen, listen.Options{Public: f.public}); err != nil {
		return usageErr("--listen: %v", err)
	}
	var tokens []string
	if f.tokenFile != "" {
		var err error
		if tokens, err = readTokens(f.tokenFile); err != nil {
			return usageErr("--token-file: %v", err)
		}
	}
	var suggest []string
	note := ""
	var anchor []dns.RR
	if f.lab {
		lab, err := fixtures.Start(fixtures.Options{})
		if err != nil {
			return fmt.Errorf("starting the lab: %w", err)
		}
		defer lab.Close()
		f.check.root, f.check.port, portSet = lab.Root.String(), lab.Port, false
		suggest, anchor = lab.Domains(), lab.TrustAnchor()
		note = fmt.Sprintf(" (lab of %d domains on 127.0.0.x port %d)", len(lab.Cases), lab.Port)
	}
	f.check.portSet = portSet
	cfg, err := f.check.config()
	if err != nil {
		return err
	}
	if f.lab {
		if cfg.TrustAnchor == nil {
			// The lab's root key is its own, as in demo.
			cfg.TrustAnchor = anchor
		}
	} else {
		if err := preflight(ctx, &cfg, stderr); err != nil {
			return err
		}
		checkResolver(ctx, &cfg, stderr)
	}
	cfg.OnNoAnchor = func(w string) { fmt.Fprintln(stderr, "caaprobe: warning: "+w) }
	st, err := store.Open(f.db)
	if err != nil {
		return usageErr("--db: %v", err)
	}
	defer st.Close()
	if n, err := st.MarkRunningIncomplete(ctx); err != nil {
		return err
	} else if n > 0 {
		fmt.Fprintf(stderr, "caaprobe serve: %d run(s) left unfinished by an earlier process marked incomplete\n", n)
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "caaprobe serve: "+format+"\n", args...) }
	// Prometheus: every checked domain (runs, watch rounds, /probe) feeds
	// /metrics; /probe checks one name now, outside the queue.
	m := metrics.New()
	var srv *serve.Server
	probe := metrics.ProbeHandler(func(ctx context.Context, name string) (*model.Domain, time.Duration, error) {
		return srv.CheckOne(ctx, name)
	}, metrics.ProbeOptions{})
	srv, err = serve.New(serve.Options{Observer: m, Metrics: m.Handler(), Probe: probe, Store: st, Check: cfg, Version: recordedVersion(), Vantage: vantageOf(f.check.vantage, cfg),
		Workers: f.workers, Queue: f.queue, MaxNames: f.maxNames, Concurrency: f.check.concurrency, Tokens: tokens,
		Retain:  store.Retention{Runs: f.retainRuns, Age: time.Duration(f.retainDays) * 24 * time.Hour},
		Suggest: suggest, Logf: logf})
	if err != nil {
		return err
	}
	ln, err := listen.TCP(ctx, f.listen, listen.Options{Public: f.public})
	if err != nil {
		srv.Shutdown(context.Background())
		return usageErr("--listen: %v", err)
	}
	hs := srv.HTTPServer()
	fmt.Fprintf(stdout, "caaprobe serve: http://%s/%s; database %s\n", ln.Addr(), note, f.db)
	if s, ok := stdout.(interface{ Sync() error }); ok {
		s.Sync()
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if f.watch != "" {
		w, err := watch.New(watch.Config{File: f.watch, Every: f.watchEvery,
			Check: func(ctx context.Context, names []string) {
				for _, id := range srv.SubmitAll(ctx, names, "watch "+f.watch, logf) {
					logf("watch list %s: run %s queued", f.watch, id)
				}
			},
			OnError:  func(err error) { logf("watch list: %v", err) },
			OnChange: func(_, removed []string) { forget(m, removed) },
		})
		if err != nil {
			hs.Close()
			srv.Shutdown(context.Background())
			return usageErr("--watch: %v", err)
		}
		go w.Run(ctx)
	}
	select {
	case err := <-errc:
		srv.Shutdown(context.Background())
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	// Stop accepting, let the running checks finish for a bound, then
	// mark what is left incomplete; the database closes last (defer).
	fmt.Fprintf(stderr, "caaprobe serve: stopping: running checks have %v to finish\n", f.shutdownWait)
	wait, cancel := context.WithTimeout(context.Background(), f.shutdownWait)
	defer cancel()
	herr := hs.Shutdown(wait)
	if errors.Is(herr, context.DeadlineExceeded) {
		hs.Close() // progress streams still open
		herr = nil
	}
	serr := srv.Shutdown(wait)
	if errors.Is(serr, context.DeadlineExceeded) {
		fmt.Fprintln(stderr, "caaprobe serve: checks still running were marked incomplete")
		serr = nil
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return errors.Join(err, herr, serr)
	}
	return errors.Join(herr, serr)
}

// forget drops the metrics of the names taken off the watch list.
func forget(m *metrics.Metrics, names []string) {
	for _, n := range names {
		m.Forget(n)
	}
}
