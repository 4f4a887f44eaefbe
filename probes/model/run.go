package model

import "time"

// Vantage is where a run was made from: a label the user chose (check
// --vantage, default the host name), the host name, and the source
// addresses the host's routing picks toward the DNS. Runs of the same
// names from several vantage points are judged together the way a CA's
// multi-perspective check is (caaprobe report --perspectives).
type Vantage struct {
	Label   string   `json:"label"`
	Host    string   `json:"host,omitempty"`
	Sources []string `json:"sources,omitempty"`
	// RIR is the Regional Internet Registry region of the vantage (ARIN,
	// RIPE, APNIC, LACNIC, AFRINIC), as configured for a caaprobe agent
	// (docs/perspectives.md); the Baseline Requirements' diversity rule
	// counts regions. Empty when not recorded.
	RIR string `json:"rir,omitempty"`
}

// Run says which caaprobe made a result, how and from where: every JSON
// object and every evidence bundle carries it, so a provider can match a
// report to its logs.
type Run struct {
	// Version is caaprobe's version and VCS revision ("v1.2.0",
	// "(devel) rev 1a2b3c4d5e6f, modified").
	Version string
	// Command is the command line as given (argv without the program).
	Command []string
	// Started is when the run began; the checked_at of a domain that sent
	// no query (an input error).
	Started time.Time
	Vantage *Vantage
}
