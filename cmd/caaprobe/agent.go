package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/agent"
	"github.com/caaprobe/caaprobe/probes/listen"
	"github.com/caaprobe/caaprobe/probes/mpic"
)

// agentFlags are the flags of `caaprobe agent`: where it listens and how it
// authenticates, its vantage, and the check engine's flags that apply to a
// check made for someone else (agentCheckFlags). Nothing of the engine's
// configuration comes from a request.
type agentFlags struct {
	check        checkFlags
	listen       string
	public       bool
	tlsCert      string
	tlsKey       string
	clientCA     string
	tokenFile    string
	label        string
	rir          string
	source       string
	insecureHTTP bool
	lab          bool
	maxDomains   int
	clientRate   float64
	clientBurst  int
}

// agentCheckFlags are the check flags an agent takes. The others (output
// format and file, evidence, input files, --ns pins, --resolver, --repeat,
// shards) are the primary's business: the agent answers JSON records.
var agentCheckFlags = []string{"root", "port", "timeout", "retries", "ca", "ipv4", "ipv6", "probes", "concurrency",
	"deadline", "max-referrals", "max-cname", "max-ns", "max-bytes", "rate", "trust-anchor"}

func newAgentCmd(env *cliEnv) *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "agent --label LABEL --rir RIR --token-file FILE --tls-cert FILE --tls-key FILE [flags]",
		Short: "serve checks to a primary as a remote perspective (caaprobe check --perspectives)",
		Long: `Serve the check engine over HTTPS to a primary (caaprobe check --perspectives
FILE), as one remote perspective of a CA's multi-perspective check: POST
/v1/check with a bearer token (--token-file) or a client certificate
(--client-ca). The agent checks the names it is sent with its own roots,
limits and source address, and answers the check --format json records
tagged with its label, RIR region, version and source addresses. It
listens on loopback unless --public; it refuses to start without TLS
unless --insecure-http on loopback (tests and the demo). See
docs/perspectives.md.`,
		Example: `  caaprobe agent --label fra1 --rir RIPE --token-file /etc/caaprobe/token \
      --tls-cert /etc/caaprobe/cert.pem --tls-key /etc/caaprobe/key.pem \
      --listen 0.0.0.0:8443 --public`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.check.portSet = cmd.Flags().Changed("port")
			return runAgent(env.ctx, &f, env.stderr)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8443", "`ADDR:PORT` to listen on (a literal IP address; loopback unless --public)")
	fs.BoolVar(&f.public, "public", false, "allow a --listen address other than loopback")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "the server's certificate chain (PEM `FILE`)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "the server's private key (PEM `FILE`)")
	fs.StringVar(&f.clientCA, "client-ca", "", "accept clients whose certificate this CA (PEM `FILE`) signed (mutual TLS), beside the token")
	fs.StringVar(&f.tokenFile, "token-file", "", "accept the bearer tokens in `FILE`, one a line (a token is never given on the command line)")
	fs.StringVar(&f.label, "label", "", "this perspective's vantage label, in every answer")
	fs.StringVar(&f.rir, "rir", "", "this perspective's RIR region: ARIN, RIPE, APNIC, LACNIC or AFRINIC")
	fs.StringVar(&f.source, "source", "", "send every query from this local `ADDR`")
	fs.BoolVar(&f.insecureHTTP, "insecure-http", false, "serve plain HTTP (loopback only: tests and the demo)")
	fs.BoolVar(&f.lab, "lab", false, "the --root is a caaprobe lab: validate DNSSEC from the lab's own root key (the demo)")
	fs.IntVar(&f.maxDomains, "max-domains", agent.DefaultMaxDomains, "most domains in one request")
	fs.Float64Var(&f.clientRate, "client-rate", agent.DefaultRate, "requests a second accepted from one client address")
	fs.IntVar(&f.clientBurst, "client-burst", agent.DefaultBurst, "requests one client may make at once before --client-rate applies")
	var all pflag.FlagSet
	f.check.register(&all)
	for _, name := range agentCheckFlags {
		fs.AddFlag(all.Lookup(name))
	}
	setDefault(fs, "concurrency", "8")
	return cmd
}

// agentConfig validates the flags and builds the handler's configuration
// and the server's TLS configuration (nil with --insecure-http).
func (f *agentFlags) config() (agent.Config, *tls.Config, error) {
	var cfg agent.Config
	bind, err := listen.Check(f.listen, listen.Options{Public: f.public})
	if err != nil {
		return cfg, nil, usageErr("--listen: %v", err)
	}
	if f.label == "" {
		return cfg, nil, usageErr("--label: the agent needs a vantage label (the primary's report names it)")
	}
	if !mpic.ValidRIR(f.rir) {
		return cfg, nil, usageErr("--rir %q: want one of %s", f.rir, strings.Join(mpic.RIRs, ", "))
	}
	if f.maxDomains < 1 || f.clientRate <= 0 || f.clientBurst < 1 {
		return cfg, nil, usageErr("--max-domains, --client-rate and --client-burst must be positive")
	}
	cc, err := f.check.config()
	if err != nil {
		return cfg, nil, err
	}
	if f.source != "" {
		a, err := netip.ParseAddr(f.source)
		if err != nil {
			return cfg, nil, usageErr("--source %q: want a local IP address", f.source)
		}
		cc.Source = a.Unmap()
	}
	if f.lab {
		if f.check.root == "" {
			return cfg, nil, usageErr("--lab: give the lab's --root ADDR:PORT (caaprobe lab prints it)")
		}
		if cc.TrustAnchor == nil {
			cc.TrustAnchor = labAnchor()
		}
	}
	cfg.Check = cc
	cfg.Version = recordedVersion()
	v := vantageOf(f.label, cc)
	v.RIR = f.rir
	if cc.Source.IsValid() {
		v.Sources = []string{cc.Source.String()}
	}
	cfg.Vantage = *v
	cfg.MaxDomains, cfg.Rate, cfg.Burst, cfg.Concurrency = f.maxDomains, f.clientRate, f.clientBurst, f.check.concurrency
	if f.tokenFile != "" {
		if cfg.Tokens, err = readTokens(f.tokenFile); err != nil {
			return cfg, nil, usageErr("--token-file: %v", err)
		}
	}
	var tc *tls.Config
	switch {
	case f.insecureHTTP:
		host, _, _ := net.SplitHostPort(bind)
		if ip, err := netip.ParseAddr(host); err != nil || !ip.Unmap().IsLoopback() {
			return cfg, nil, usageErr("--insecure-http: only on a loopback --listen address (%s is not)", f.listen)
		}
		if f.clientCA != "" || f.tlsCert != "" {
			return cfg, nil, usageErr("--insecure-http with --tls-cert or --client-ca: choose one")
		}
	case f.tlsCert == "" || f.tlsKey == "":
		return cfg, nil, usageErr("the agent serves HTTPS: give --tls-cert and --tls-key (or --insecure-http on loopback, for tests)")
	default:
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return cfg, nil, usageErr("--tls-cert/--tls-key: %v", err)
		}
		tc = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		if f.clientCA != "" {
			pem, err := os.ReadFile(f.clientCA)
			if err != nil {
				return cfg, nil, usageErr("--client-ca: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return cfg, nil, usageErr("--client-ca %s: no PEM certificate in it", f.clientCA)
			}
			// Verified when given: a client may instead show the token.
			tc.ClientCAs, tc.ClientAuth = pool, tls.VerifyClientCertIfGiven
			cfg.ClientCerts = true
		}
	}
	if err := agent.Validate(cfg); err != nil {
		if errors.Is(err, agent.ErrNoAuth) {
			return cfg, nil, usageErr("give --token-file or --client-ca: %v", err)
		}
		return cfg, nil, usageErr("%v", err)
	}
	return cfg, tc, nil
}

// labAnchor is the lab's root trust anchor. The lab derives its keys
// from zone names, so every lab's root key is this one; an in-process lab
// (no socket) computes it.
func labAnchor() []dns.RR {
	lab, err := fixtures.Start(fixtures.Options{InProcess: true, Cases: fixtures.RegionalCases(nil)})
	if err != nil {
		return nil
	}
	defer lab.Close()
	return lab.TrustAnchor()
}

// runAgent serves until ctx ends, then shuts down gracefully: requests in
// flight get a few seconds to finish.
func runAgent(ctx context.Context, f *agentFlags, stderr io.Writer) error {
	cfg, tc, err := f.config()
	if err != nil {
		return err
	}
	ln, err := listen.TCP(ctx, f.listen, listen.Options{Public: f.public})
	if err != nil {
		return &exitError{exitInternal, err.Error()}
	}
	scheme := "http"
	if tc != nil {
		ln = tls.NewListener(ln, tc)
		scheme = "https"
	}
	mux := http.NewServeMux()
	mux.Handle("/", agent.New(cfg))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: time.Minute}
	auth := "token"
	if cfg.ClientCerts {
		auth = "token or client certificate"
		if len(cfg.Tokens) == 0 {
			auth = "client certificate"
		}
	}
	fmt.Fprintf(stderr, "caaprobe agent: %s [%s] listening on %s://%s (%s; sources %s)\n", cfg.Vantage.Label, cfg.Vantage.RIR,
		scheme, ln.Addr(), auth, strings.Join(cfg.Vantage.Sources, ", "))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return &exitError{exitInternal, fmt.Sprintf("agent: %v", err)}
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shut)
	<-done
	fmt.Fprintln(stderr, "caaprobe agent: stopped")
	if err != nil {
		return &exitError{exitInternal, fmt.Sprintf("agent: shutting down: %v", err)}
	}
	return nil
}
