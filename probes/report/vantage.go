package report

import (
	"encoding/json"
	"io"
	"time"
)

// Vantage is where a run was made from: a label the user chose (check
// --vantage, default the host name), the host name, and the source
// addresses the host's routing picks toward the DNS. Runs of the same
// names from several vantage points are judged together the way a CA's
// multi-perspective check is (caaprobe report --perspectives).
type Vantage struct {
	Label   string   `json:"label"`
	Host    string   `json:"host,omitempty"`
	Sources []string `json:"sources,omitempty"`
}

// WriteJSONFrom writes d as one line of JSON with the vantage it was
// checked from; v nil leaves the key out, as WriteJSON does.
func WriteJSONFrom(w io.Writer, d *Domain, v *Vantage) error {
	j := toJSON(d)
	j.Vantage = v
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// checkedAt is when the domain's first query went out, in RFC 3339 UTC;
// empty when no query was sent (an input error). A diff measures RRSIG
// expiry from it.
func checkedAt(d *Domain) string {
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
