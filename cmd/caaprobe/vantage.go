package main

import (
	"net/netip"
	"os"
	"time"

	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/transport"
)

// vantageOf says where this run is made from: the --vantage label
// (default the host name), the host name, and the source address the
// kernel picks toward the first root server of each address family.
// transport.SourceToward asks the routing table; it sends nothing.
func vantageOf(label string, cfg check.Config) *model.Vantage {
	host, _ := os.Hostname()
	v := &model.Vantage{Label: label, Host: host}
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

// newRun is the run (version, command line, start, vantage) recorded in
// each JSON line and evidence bundle of a check.
func newRun(f *checkFlags, cfg check.Config) *model.Run {
	return &model.Run{Version: recordedVersion(), Command: f.command, Started: time.Now().UTC(), Vantage: vantageOf(f.vantage, cfg)}
}
