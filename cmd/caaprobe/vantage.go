package main

import (
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/htmlreport"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/caaprobe/caaprobe/probes/summary"
	"github.com/caaprobe/caaprobe/probes/transport"
)

// vantageOf says where this run is made from: the --vantage label
// (default the host name), the host name, and the source address the
// kernel picks toward the first root server of each address family.
// transport.SourceToward asks the routing table; it sends nothing.
func vantageOf(label string, cfg check.Config) *report.Vantage {
	host, _ := os.Hostname()
	v := &report.Vantage{Label: label, Host: host}
	if v.Label == "" {
		v.Label = host
	}
	if v.Label == "" {
		v.Label = "unknown"
	}
	seen := map[bool]bool{}
	for _, r := range cfg.Roots {
		is4 := r.Unmap().Is4()
		if seen[is4] || (cfg.IPv4 && !is4) || (cfg.IPv6 && is4) {
			continue
		}
		seen[is4] = true
		src, ok := transport.SourceToward(netip.AddrPortFrom(r, uint16(cfg.Port)))
		if !ok {
			continue // no route in this family: no source address to name
		}
		v.Sources = append(v.Sources, src.String())
	}
	return v
}

// checkOutput holds what check's output formats need beyond a writer: the
// run (version, command line, start, vantage) recorded in each JSON line
// and evidence bundle, and the HTML page being built.
type checkOutput struct {
	run  *report.Run
	html *htmlreport.Writer
}

func newCheckOutput(f *checkFlags, cfg check.Config, stdout io.Writer) (*checkOutput, error) {
	o := &checkOutput{run: &report.Run{Version: recordedVersion(), Command: f.command, Started: time.Now().UTC(),
		Vantage: vantageOf(f.vantage, cfg)}}
	if f.format == "html" {
		h, err := htmlreport.New(stdout, htmlreport.Options{Title: "caaprobe check", Generated: time.Now()})
		if err != nil {
			return nil, err
		}
		o.html = h
	}
	return o, nil
}

// close finishes the HTML page, with the provider view when there is one.
func (o *checkOutput) close(sum *summary.Summary) error {
	if o.html == nil {
		return nil
	}
	if sum != nil {
		o.html.SetSummary(sum)
	}
	return o.html.Close()
}
