package jsonl

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
)

// Domain is one line: a checked domain as docs/json.md defines it.
type Domain struct {
	Domain  string        `json:"domain"`
	Verdict model.Verdict `json:"verdict"`
	Outcome model.Outcome `json:"outcome"`
	// Outcomes is the domain's outcome under each resolver model, by
	// model name, when the run has more than one (outcome is the
	// default's); absent otherwise.
	Outcomes    map[string]model.Outcome `json:"outcomes,omitempty"`
	Findings    []Finding                `json:"findings"`
	Servers     []Server                 `json:"servers"`
	Policy      *Policy                  `json:"policy"`
	Error       string                   `json:"error"`
	Source      string                   `json:"source,omitempty"`
	Names       []Name                   `json:"names"`
	Explanation string                   `json:"explanation"`
	Resolver    []Resolver               `json:"resolver,omitempty"`
	// Vantage and Time say where and when the domain was checked (see
	// vantage.go); absent from runs before they were recorded.
	Vantage *model.Vantage `json:"vantage,omitempty"`
	Time    string         `json:"time,omitempty"`
	// Version is the caaprobe that wrote the object (version and VCS
	// revision); CheckedAt is Time, or when the run began for a domain
	// that sent no query. Both are set by check (WriteRun).
	Version   string `json:"caaprobe_version,omitempty"`
	CheckedAt string `json:"checked_at,omitempty"`
	// Failing is every server whose CAA path fails for some relevant
	// name, as objects; names[].failing_servers says it per name as text.
	Failing []ServerRef `json:"failing"`
	// Repeat is present when the domain was checked several times
	// (check --repeat N): the rest of the object is the try it names.
	Repeat *Repeat `json:"repeat,omitempty"`
}

// Repeat is model.Repeat: every fail finding over the tries, with
// how many showed it and the first that did.
type Repeat struct {
	Tries  int           `json:"tries"`
	Shown  int           `json:"shown_try"`
	Failed int           `json:"failed_tries"`
	Faults []RepeatFault `json:"faults"`
}

type RepeatFault struct {
	Server *ServerRef `json:"server,omitempty"` // absent for a zone-level finding
	Zone   string     `json:"zone"`
	Name   string     `json:"name"`
	Code   string     `json:"code"`
	Seen   int        `json:"seen"`
	First  int        `json:"first_try"`
	Probe  string     `json:"probe"`
	Detail string     `json:"detail"`
	// Result is the exchange of the first try that showed it, when that
	// is not the try shown (whose servers hold it).
	Result *Result `json:"result,omitempty"`
}

// ServerRef names one server address.
type ServerRef struct {
	NS   string `json:"ns"`
	Addr string `json:"addr"`
}

// CAA is one decoded CAA record of a reply.
type CAA struct {
	Name  string `json:"name"`
	Flags uint8  `json:"flags"`
	Tag   string `json:"tag"`
	Value string `json:"value"`
}

type Finding struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Name     string `json:"name"`
	Zone     string `json:"zone"`
	NS       string `json:"ns"`
	Addr     string `json:"addr"`
	Probe    string `json:"probe"`
	Detail   string `json:"detail"`
}

type Server struct {
	NS      string   `json:"ns"`
	Addr    string   `json:"addr"`
	Port    int      `json:"port,omitempty"` // only when not 53 (a lab), so dig commands read back right
	Zone    string   `json:"zone"`
	Results []Result `json:"results"`
}

type Result struct {
	Probe     string   `json:"probe"`
	QName     string   `json:"qname"`
	QType     string   `json:"qtype"`
	Transport string   `json:"transport"`
	Rcode     string   `json:"rcode"`
	RTTms     float64  `json:"rtt_ms"`
	Attempts  int      `json:"attempts"`
	Findings  []string `json:"findings"`
	Query     []byte   `json:"query"`
	Response  []byte   `json:"response"`
	TCPRetry  []byte   `json:"tcp_retry_response,omitempty"`
	// Rejected counts datagrams that came from the server's address and
	// port but did not answer the query (wrong ID or question): an
	// off-path spoofing race shows here even when the real reply won.
	Rejected int `json:"rejected,omitempty"`
	// Sent is when the last attempt went out (RFC 3339, UTC), so a report
	// read back from JSON times its transcripts as the run did.
	Sent string `json:"sent,omitempty"`
	// Source is the local address and port the query went out from, as
	// the server logged it (read from the socket).
	Source string `json:"source,omitempty"`
	// CAA is the reply's CAA RRset decoded (the TCP retry's when the UDP
	// reply was truncated): on CAA probes answered NOERROR or NXDOMAIN,
	// [] when the answer has none; absent otherwise.
	CAA *[]CAA `json:"caa,omitempty"`
	// NSID is the server instance that answered (RFC 5001), as
	// probes/runs reads it from the response: the text when printable,
	// else hex; NSIDHex is always the hex of the option's bytes. Absent
	// when the reply carried no NSID.
	NSID    string `json:"nsid,omitempty"`
	NSIDHex string `json:"nsid_hex,omitempty"`
}

type Policy struct {
	CA       string           `json:"ca"`
	Name     string           `json:"name"`
	Issue    model.Permission `json:"issue"`
	Wildcard model.Permission `json:"wildcard"`
	Relevant string           `json:"relevant"`
	Reason   string           `json:"reason"`
}

type Name struct {
	Name    string        `json:"name"`
	Zone    string        `json:"zone"`
	Exists  bool          `json:"exists"`
	CNAME   string        `json:"cname,omitempty"`
	AliasOf string        `json:"alias_of,omitempty"`
	Outcome model.Outcome `json:"outcome"`
	// Outcomes: as Domain.Outcomes, for this name.
	Outcomes map[string]model.Outcome `json:"outcomes,omitempty"`
	// Ignored: the CA's walk stops at a CAA RRset below this name, so its
	// outcome does not decide (docs/prediction.md C2).
	Ignored bool `json:"ignored,omitempty"`
	// Failing is deprecated text ("ns (addr)"), kept for readers of older
	// runs; FailingRefs says the same as objects.
	Failing     []string           `json:"failing_servers"`
	FailingRefs []ServerRef        `json:"failing"`
	Error       string             `json:"error,omitempty"`
	DNSSEC      model.DNSSECStatus `json:"dnssec,omitempty"`
}

// byModel is the outcomes by resolver model for the JSON: only when there
// is more than the default's, which "outcome" already holds.
func byModel(m map[string]model.Outcome) map[string]model.Outcome {
	if len(m) < 2 {
		return nil
	}
	return m
}

// Write writes d as one line of JSON.
func Write(w io.Writer, d *model.Domain) error {
	b, err := json.Marshal(toJSON(d))
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func toJSON(d *model.Domain) Domain {
	out := Domain{Domain: d.Domain, Verdict: d.Verdict, Outcome: d.Outcome, Error: d.Err, Source: d.Source,
		Explanation: d.Explanation, Findings: []Finding{}, Servers: []Server{}, Names: []Name{}, Failing: []ServerRef{},
		Outcomes: byModel(d.Outcomes)}
	for _, f := range d.Findings {
		out.Findings = append(out.Findings, Finding{Code: string(f.Code), Severity: string(f.Severity), Name: f.Name,
			Zone: f.Zone, NS: f.Server.NS, Addr: f.Server.AddrText(), Probe: string(f.Probe), Detail: f.Detail})
	}
	for _, s := range d.Servers {
		js := Server{NS: model.TrimDot(s.NS), Addr: s.Addr.String(), Zone: s.Zone.Display(), Results: []Result{}}
		for _, r := range s.Results {
			if ex := r.Exchange; ex != nil && js.Port == 0 && ex.Server.Port() != 53 && ex.Server.Port() != 0 {
				js.Port = int(ex.Server.Port())
			}
			js.Results = append(js.Results, resultJSON(r))
		}
		out.Servers = append(out.Servers, js)
	}
	out.Resolver = resolverJSON(d)
	out.Repeat = repeatJSON(d.Repeat)
	out.Time = checkedAt(d)
	out.CheckedAt = out.Time
	if p := d.Policy; p != nil {
		out.Policy = &Policy{CA: p.CA, Name: p.Name, Issue: p.Issue, Wildcard: p.Wildcard, Relevant: p.Relevant, Reason: p.Reason}
	}
	for _, n := range d.Names {
		jn := Name{Name: n.Name.Display(), Zone: n.Zone.Display(), Exists: n.Exists, CNAME: n.CNAME.Display(), AliasOf: n.AliasOf.Display(),
			Outcome: n.Outcome, Outcomes: byModel(n.Outcomes), Ignored: n.Ignored, Failing: model.Labels(n.Failing), Error: n.Err, DNSSEC: n.DNSSEC}
		jn.FailingRefs = []ServerRef{}
		for _, f := range n.Failing {
			ref := refJSON(f)
			jn.FailingRefs = append(jn.FailingRefs, ref)
			if !slices.Contains(out.Failing, ref) {
				out.Failing = append(out.Failing, ref)
			}
		}
		out.Names = append(out.Names, jn)
	}
	return out
}

// resultJSON is one probe's result as the JSON contract writes it.
func resultJSON(r *model.Result) Result {
	jr := Result{Probe: string(r.Probe), QName: model.TrimDot(r.QName), QType: catalog.TypeString(r.QType),
		Transport: string(r.Transport), Rcode: string(r.Status), Findings: []string{}}
	if ex := r.Exchange; ex != nil {
		jr.RTTms = math.Round(float64(ex.RTT.Microseconds())/10) / 100
		jr.Attempts = ex.Attempts
		jr.Rejected = ex.RejectedCount
		jr.Query, jr.Response = ex.Query, ex.Reply
		if !ex.Start.IsZero() {
			jr.Sent = ex.Start.UTC().Format(time.RFC3339Nano)
		}
		if jr.Response == nil && len(ex.Rejected) > 0 {
			jr.Response = ex.Rejected[0]
		}
		if ex.Source.IsValid() {
			jr.Source = ex.Source.String()
		}
	}
	jr.CAA = caaOf(r)
	if r.Fallback != nil {
		jr.TCPRetry = r.Fallback.Reply
	}
	nsid := r.NSID
	if nsid == nil {
		nsid = model.NSIDOf(r.Msg) // a result read back from JSON
	}
	if nsid != nil {
		jr.NSID, jr.NSIDHex = model.InstanceName(nsid), hex.EncodeToString(nsid)
	}
	for _, is := range r.Issues {
		jr.Findings = append(jr.Findings, string(is.Code))
	}
	return jr
}

// refJSON is a server reference's fields in the JSON (the instance is
// not part of the contract).
func refJSON(r model.ServerRef) ServerRef {
	return ServerRef{NS: r.NS, Addr: r.AddrText()}
}

// caaOf decodes the CAA records of the reply that counts for r (the TCP
// retry's after a truncated UDP reply): nil when r is not a CAA query or
// got no usable NOERROR or NXDOMAIN reply (a NOTIMP reply has no RRset to
// show, not an empty one).
func caaOf(r *model.Result) *[]CAA {
	if r.QType != dns.TypeCAA {
		return nil
	}
	if !r.Answered() {
		return nil
	}
	m := r.Msg
	out := []CAA{}
	for _, rr := range m.Answer {
		if c, ok := rr.(*dns.CAA); ok {
			out = append(out, CAA{Name: model.TrimDot(c.Hdr.Name), Flags: c.Flag, Tag: c.Tag, Value: c.Value})
		}
	}
	return &out
}

func repeatJSON(rep *model.Repeat) *Repeat {
	if rep == nil {
		return nil
	}
	out := &Repeat{Tries: rep.Tries, Shown: rep.Shown, Failed: rep.Failed, Faults: []RepeatFault{}}
	for _, f := range rep.Faults {
		jf := RepeatFault{Zone: model.TrimDot(f.Zone), Name: f.Name, Code: string(f.Code), Seen: f.Seen, First: f.First,
			Probe: string(f.Probe), Detail: f.Detail}
		if !f.Server.IsZero() {
			ref := refJSON(f.Server)
			jf.Server = &ref
		}
		if f.Result != nil {
			jr := resultJSON(f.Result)
			jf.Result = &jr
		}
		out.Faults = append(out.Faults, jf)
	}
	return out
}

type Resolver struct {
	Name      string  `json:"name"`
	Server    string  `json:"server"`
	Rcode     string  `json:"rcode"`
	AD        bool    `json:"ad"`
	EDECode   *uint16 `json:"ede_code"` // null when the resolver sent no EDE
	EDEText   string  `json:"ede_text"`
	Records   int     `json:"caa_records"`
	Error     string  `json:"error,omitempty"`
	Predicted string  `json:"predicted"`
	Agrees    bool    `json:"agrees"`
}

func resolverJSON(d *model.Domain) []Resolver {
	var out []Resolver
	for _, c := range d.Resolver {
		j := Resolver{Name: model.TrimDot(c.Name), Server: c.Server.String(), Rcode: c.Rcode, AD: c.AD,
			Records: c.Records, Error: c.Err, Predicted: c.Predicted, Agrees: c.Agrees}
		if len(c.EDE) > 0 {
			// The first EDE is the resolver's main reason; the text of every
			// one is kept so none is lost.
			code := c.EDE[0].Code
			j.EDECode = &code
			j.EDEText = c.EDE[0].Text
			for _, e := range c.EDE[1:] {
				j.EDEText += fmt.Sprintf("; EDE %d: %s", e.Code, e.Text)
			}
		}
		out = append(out, j)
	}
	return out
}

// WriteRun writes d as one line of JSON with the run's version, time
// and vantage.
func WriteRun(w io.Writer, d *model.Domain, run *model.Run) error {
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
