package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

// The command line is built with spf13/cobra and spf13/pflag (see
// docs/architecture.md for why): GNU long options, options anywhere on the
// line, help per command, shell completion and man pages from the same
// definitions.

// cliEnv is what every command's RunE needs beyond its flags.
type cliEnv struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	// args is the command line as given (without the program name).
	args []string
}

// newRoot builds the command tree.
func newRoot(env *cliEnv) *cobra.Command {
	root := &cobra.Command{
		Use:   "caaprobe",
		Short: "ask every authoritative DNS server of a domain for CAA, the way a CA's resolver does",
		Long: `caaprobe asks every authoritative DNS server of a domain for CAA, the way a
certificate authority's validating resolver does, and shows which server fails.

Exit status: 0 all pass; 1 caaprobe itself failed (including a network
that blocks or intercepts DNS); 2 usage or input error, nothing checked;
3 a server fault, or a CAA policy that forbids the --ca or varies with the
server asked; 4 some domain could not be checked and none failed.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		// No subcommand: usage on stderr and exit 2; an unknown one: a
		// short error with suggestions.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				cmd.SetOut(env.stderr)
				cmd.Usage()
				return &exitError{exitUsage, ""}
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
			}
			return usageErr("%s\nRun 'caaprobe --help' for the commands.", msg)
		},
	}
	root.SuggestionsMinimumDistance = 2
	root.SetIn(env.stdin)
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	root.SetContext(env.ctx)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	// -v is the version, as in dig -v: caaprobe has no verbose mode (its
	// output is already the detail; --format json has all of it).
	root.Flags().BoolP("version", "v", false, "print the version (module version, VCS revision, Go version) and exit")
	root.AddCommand(
		newCheckCmd(env), newDemoCmd(env), newServeCmd(env), newLabCmd(env), newProbesCmd(env), newBenchLabCmd(env),
		newReportCmd(env), newDiffCmd(env), newExplainCmd(env), newVersionCmd(env), newManCmd(),
		newAgentCmd(env),
	)
	for _, c := range root.Commands() {
		c.SilenceUsage, c.SilenceErrors = true, true
	}
	return root
}

// run is the whole program, driven by arguments and streams so tests can
// run it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	env := &cliEnv{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, args: args}
	root := newRoot(env)
	root.SetArgs(longForms(root, args))
	err := root.ExecuteContext(ctx)
	if err != nil {
		var coded interface{ ExitCode() int }
		if !errors.As(err, &coded) {
			// Cobra's own errors (bad arguments to help, completion) are
			// usage errors.
			if strings.HasPrefix(err.Error(), "unknown ") || strings.Contains(err.Error(), "arg(s)") {
				return usageErr("%v", err)
			}
		}
	}
	return err
}

// longForms keeps the single-dash long options of earlier versions
// working (-root, -ca, -format json): an argument "-name" or "-name=v"
// whose name is a long flag of the command is rewritten to "--name".
// Single letters (-f, -4, -n) are pflag's own shorthands; "-" is stdin;
// nothing after "--" is touched.
func longForms(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		cmd = root
	}
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if len(name) > 1 && cmd.Flags().Lookup(name) != nil {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// flagError turns pflag's errors into one short line with a suggestion,
// instead of the whole usage.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	name := ""
	switch {
	case strings.HasPrefix(msg, "unknown flag: --"):
		name = strings.TrimPrefix(msg, "unknown flag: --")
		msg = "unknown flag --" + name
	case strings.HasPrefix(msg, "unknown shorthand flag: "):
		// "unknown shorthand flag: 'x' in -xyz"
		if _, word, ok := strings.Cut(msg, " in -"); ok {
			name = word
			msg = "unknown flag -" + word
		}
	}
	if name != "" {
		if s := closestFlag(cmd, name); s != "" {
			msg += fmt.Sprintf(" (did you mean --%s?)", s)
		}
	}
	return usageErr("%s\nRun '%s --help' for its flags.", msg, cmd.CommandPath())
}

// closestFlag is the flag name nearest to name (edit distance at most 2,
// or one contains the other), or "".
func closestFlag(cmd *cobra.Command, name string) string {
	best, bestD := "", 3
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := levenshtein(name, f.Name)
		if len(name) >= 3 && (strings.Contains(f.Name, name) || strings.Contains(name, f.Name)) && len(f.Name) >= 3 {
			d = min(d, 2)
		}
		if d < bestD {
			best, bestD = f.Name, d
		}
	})
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// version and revision are set with -ldflags "-X main.version=…
// -X main.revision=…" where the build has no VCS information to embed
// (the Dockerfile builds from a context without .git).
var version, revision string

// versionString is the module version, the VCS revision and the Go
// version, from the build information the Go tool embeds.
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "caaprobe (no build information)"
	}
	v := bi.Main.Version
	if (v == "" || v == "(devel)") && version != "" {
		v = version
	}
	if v == "" {
		v = "(devel)"
	}
	var rev, when string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		rev = revision
	}
	out := "caaprobe " + v
	if rev != "" {
		out += " revision " + rev
		if modified {
			out += " (modified)"
		}
		if when != "" {
			out += " of " + when
		}
	} else {
		out += " revision unknown"
	}
	return out + " built with " + bi.GoVersion
}

func newVersionCmd(env *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version (module version, VCS revision, Go version)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(env.stdout, versionString())
			return err
		},
	}
}

// newManCmd writes the man pages, generated from the same definitions as
// the help (make man).
func newManCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "man [DIR]",
		Short: "write the man pages (caaprobe.1, caaprobe-check.1, …) into DIR (default: man)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "man"
			if len(args) == 1 {
				dir = args[0]
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			hdr := &doc.GenManHeader{Title: "CAAPROBE", Section: "1", Source: "caaprobe", Manual: "caaprobe manual"}
			if err := doc.GenManTree(root, hdr, dir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "man pages written to %s (read with: man -l %s/caaprobe-check.1)\n", dir, dir)
			return nil
		},
	}
}

// seconds is a duration flag that also accepts plain seconds ("2",
// "0.5") besides Go durations ("2s", "500ms", "1m").
type seconds struct{ d *time.Duration }

func (s seconds) String() string {
	if s.d == nil {
		return ""
	}
	return s.d.String()
}

func (s seconds) Set(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		*s.d = time.Duration(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q: want seconds (2, 0.5) or a duration (500ms, 2s, 1m)", v)
	}
	*s.d = d
	return nil
}

func (s seconds) Type() string { return "duration" }

// durationVar registers a duration flag that accepts plain seconds.
func durationVar(fs *pflag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var(seconds{p}, name, usage)
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
func (l *listFlag) Type() string       { return "strings" }

// setDefault changes a registered flag's default (demo and bench-lab use
// shorter waits than check).
func setDefault(fs *pflag.FlagSet, name, value string) {
	f := fs.Lookup(name)
	if err := f.Value.Set(value); err != nil {
		panic(err)
	}
	f.DefValue = value
}
