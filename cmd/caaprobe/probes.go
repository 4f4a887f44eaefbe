package main

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/caaprobe/caaprobe/probes"
)

// runProbes lists the probe catalog and the finding codes.
func runProbes(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("probes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROBE\tTYPE\tSPELLING\tTRANSPORT\tEDNS\tPURPOSE")
	for _, p := range probes.Catalog {
		edns := "no"
		switch {
		case p.DO:
			edns = "DO"
		case p.EDNS:
			edns = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, probes.TypeString(p.Type), p.Spelling, p.Transport, edns, p.Purpose)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "FINDING\tSEVERITY\tMARK\tMEANING")
	for _, f := range probes.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Code, f.Severity, f.Mark, f.Summary)
	}
	return tw.Flush()
}
