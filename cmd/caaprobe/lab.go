package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/spf13/cobra"
)

func newDemoCmd(env *cliEnv) *cobra.Command {
	var f checkFlags
	var labPort int
	cmd := &cobra.Command{
		Use:   "demo [flags] [NAME...]",
		Short: "start the built-in lab and check every lab domain (loopback only)",
		RunE: func(cmd *cobra.Command, args []string) error {
			f.command = env.args // recorded in the evidence
			return runDemo(env.ctx, &f, labPort, args, env.stdout, env.stderr)
		},
	}
	fs := cmd.Flags()
	f.register(fs)
	fs.IntVar(&labPort, "lab-port", 0, "port for the lab (default: a free high port)")
	// The lab answers in microseconds or never: short timeouts keep the
	// demo quick without hiding anything.
	setDefault(fs, "timeout", "1s")
	setDefault(fs, "retries", "1")
	return cmd
}

// runDemo starts the lab in this process and checks every lab domain: the
// main job on built-in data, with no network beyond the loopback.
func runDemo(ctx context.Context, f *checkFlags, labPort int, args []string, stdout, stderr io.Writer) (err error) {
	stdout, stderr, closeOut, err := f.streams(stdout, stderr)
	if err != nil {
		return err
	}
	defer closeOut(&err)
	lab, err := fixtures.Start(fixtures.Options{Port: labPort})
	if err != nil {
		return fmt.Errorf("starting the lab: %w", err)
	}
	defer lab.Close()
	f.root = lab.Root.String()
	f.port = lab.Port
	cfg, err := f.config()
	if err != nil {
		return err
	}
	if err := resolvePins(ctx, &cfg); err != nil {
		return err
	}
	if cfg.TrustAnchor == nil {
		// The lab's root key is its own: validate the lab's signed zones
		// from it, as a CA's resolver does from IANA's.
		cfg.TrustAnchor = lab.TrustAnchor()
	}
	fmt.Fprintf(stderr, "caaprobe demo: lab of %d domains on 127.0.0.x port %d\n\n", len(lab.Cases), lab.Port)
	var r input.Reader
	r.AddArgs(append(lab.Domains(), args...))
	// In the demo, --evidence DIR writes bundles for the domains that show
	// a problem; the conformant control zones would only be noise.
	f.evidenceOnlyBad = true
	f.stderr = stderr
	_, err = checkAndReport(ctx, cfg, f, slices.Values(r.Items()), stdout)
	return err
}

func newLabCmd(env *cliEnv) *cobra.Command {
	var port int
	var bad []string
	cmd := &cobra.Command{
		Use:   "lab [--port N]",
		Short: "serve the lab until interrupted, for dig and check",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLab(env.ctx, port, bad, env.stdout, env.stderr)
		},
	}
	cmd.Flags().IntVar(&port, "port", 0, "port for every lab server (default: a free high port)")
	cmd.Flags().StringArrayVar(&bad, "bad-source", nil, "serve the regional lab instead (ok.test, regional.test): regional.test answers queries from `ADDR` with FAULT (ADDR=refused, drop or stale; repeatable; docs/perspectives.md)")
	return cmd
}

// runLab serves the lab until interrupted.
func runLab(ctx context.Context, port int, badSources []string, stdout, stderr io.Writer) error {
	opts := fixtures.Options{Port: port}
	if len(badSources) > 0 {
		bad := map[netip.Addr]fixtures.Behaviour{}
		for _, s := range badSources {
			a, b, err := fixtures.ParseBadSource(s)
			if err != nil {
				return usageErr("--bad-source: %v", err)
			}
			bad[a] = b
		}
		opts.Cases = fixtures.RegionalCases(bad)
	}
	lab, err := fixtures.Start(opts)
	if err != nil {
		return fmt.Errorf("starting the lab: %w", err)
	}
	defer lab.Close()
	lab.WriteTable(stdout)
	// The lab's keys are derived from zone names, so this anchor holds for
	// every run of the lab; it is written to a file for check --trust-anchor.
	var anchor strings.Builder
	for _, rr := range lab.TrustAnchor() {
		anchor.WriteString(rr.String() + "\n")
	}
	anchorFile := filepath.Join(os.TempDir(), "caaprobe-lab-anchor.txt")
	if err := os.WriteFile(anchorFile, []byte(anchor.String()), 0o644); err != nil {
		fmt.Fprintf(stderr, "caaprobe: writing the lab's trust anchor: %v\n", err)
		anchorFile = "FILE"
	}
	fmt.Fprintf(stdout, "\nTrust anchor of the lab's signed root (written to %s):\n  %s\n", anchorFile,
		strings.ReplaceAll(strings.TrimSpace(anchor.String()), "\n", "\n  "))
	zone, names := "notimp.test", "notimp.test casesig.test"
	if len(badSources) > 0 {
		zone, names = "regional.test", "regional.test ok.test"
	}
	notimp := "127.0.0.13"
	for _, srv := range lab.Servers {
		for _, z := range srv.Zones {
			if z.Origin == zone+"." {
				notimp = srv.Addr.String()
			}
		}
	}
	fmt.Fprintf(stdout, "\nTry:\n  dig @%s -p %d +norec %s CAA\n  caaprobe check --root %s --port %d --trust-anchor %s %s\n\nServing until interrupted (Ctrl-C).\n",
		notimp, lab.Port, zone, lab.Root, lab.Port, anchorFile, names)
	if s, ok := stdout.(interface{ Sync() error }); ok {
		s.Sync()
	}
	<-ctx.Done()
	return nil
}
