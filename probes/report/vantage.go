package report

import (
	"encoding/json"
	"io"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
)

// WriteJSONRun writes d as one line of JSON with the run's version, time
// and vantage.
func WriteJSONRun(w io.Writer, d *model.Domain, run *model.Run) error {
	j := toJSON(d)
	if run != nil {
		j.Vantage = run.Vantage
		j.Version = run.Version
		if j.CheckedAt == "" && !run.Started.IsZero() {
			j.CheckedAt = run.Started.UTC().Format(time.RFC3339Nano)
		}
	}
	// The encoder writes the same bytes as json.Marshal and the newline,
	// from a buffer it reuses: a full-plan line is tens of KB, and
	// Marshal's fresh buffer (copied again to append the newline) was a
	// tenth of a bulk run's allocation.
	return json.NewEncoder(w).Encode(j)
}

// checkedAt is when the domain's first query went out, in RFC 3339 UTC;
// empty when no query was sent (an input error). A diff measures RRSIG
// expiry from it.
func checkedAt(d *model.Domain) string {
	var first time.Time
	for _, s := range d.Servers {
		for _, r := range s.Results {
			if ex := r.Exchange; ex != nil && !ex.Start.IsZero() && (first.IsZero() || ex.Start.Before(first)) {
				first = ex.Start
			}
		}
	}
	if first.IsZero() {
		return ""
	}
	return first.UTC().Format(time.RFC3339Nano)
}
