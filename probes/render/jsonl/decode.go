package jsonl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
)

// Decoded is one line of a run read back: the domain as the renderers
// know it, and where the check ran from and when.
type Decoded struct {
	Domain  *model.Domain
	Vantage model.Vantage // Label is the file name when the run did not record one (runs sets it)
	Time    time.Time     // when the domain's first query went out; zero when not recorded
	// Version is the caaprobe that wrote the line (caaprobe_version);
	// CheckedAt its checked_at. Both are empty in runs from before they
	// were recorded.
	Version   string
	CheckedAt time.Time
}

// ErrNotResult is wrapped by Decode's error for a line that is JSON but not
// a caaprobe result (no "domain" key, or not an object).
var ErrNotResult = errors.New("not a caaprobe result")

// Decode reads one line of check's JSON output (WriteRun's), the
// other side of the same contract, kept beside it. It rebuilds the matrix
// from the servers' results (the raw replies are parsed again, so
// transcripts and dig commands come out as in the run) and takes the
// findings, verdict, outcome and policy as the run judged them: a report
// of an old run shows what that run said, not what this caaprobe would.
func Decode(line []byte) (*Decoded, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrNotResult)
	}
	var j Domain
	if err := json.Unmarshal(line, &j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotResult, err)
	}
	if j.Domain == "" {
		return nil, fmt.Errorf("%w: no \"domain\" key", ErrNotResult)
	}
	switch j.Verdict {
	case model.VerdictPass, model.VerdictWarn, model.VerdictFail, model.VerdictError:
	default:
		return nil, fmt.Errorf("%w: verdict %q", ErrNotResult, j.Verdict)
	}
	rec := &Decoded{}
	if j.Vantage != nil {
		rec.Vantage = *j.Vantage
	}
	rec.Version = j.Version
	if t, err := time.Parse(time.RFC3339Nano, j.CheckedAt); err == nil {
		rec.CheckedAt = t
	}
	if j.Time == "" {
		j.Time = j.CheckedAt
	}
	if j.Time != "" {
		if t, err := time.Parse(time.RFC3339Nano, j.Time); err == nil {
			rec.Time = t
		}
	}
	d := &model.Domain{Domain: j.Domain, Source: j.Source, Verdict: j.Verdict, Outcome: j.Outcome, Outcomes: j.Outcomes,
		Explanation: j.Explanation, Err: j.Error}
	rec.Domain = d
	if p := j.Policy; p != nil {
		d.Policy = &model.Policy{CA: p.CA, Name: p.Name, Issue: p.Issue, Wildcard: p.Wildcard, Relevant: p.Relevant, Reason: p.Reason}
	}
	var names nameReader
	for _, n := range j.Names {
		failing, err := failingRefs(n)
		if err != nil {
			return nil, fmt.Errorf("%w: name %q: %v", ErrNotResult, n.Name, err)
		}
		d.Names = append(d.Names, &model.Name{Name: names.read("name", n.Name), Zone: names.read("zone", n.Zone), Exists: n.Exists,
			CNAME: names.read("cname", n.CNAME), AliasOf: names.read("alias_of", n.AliasOf), Outcome: n.Outcome, Outcomes: n.Outcomes, Ignored: n.Ignored, Failing: failing,
			Err: n.Error, DNSSEC: n.DNSSEC})
	}
	// Details of each result's findings live in the findings list; a
	// result names only the codes. Match them by where they were seen.
	details := map[string][]int{}
	for i, f := range j.Findings {
		ref, err := serverRef(ServerRef{NS: f.NS, Addr: f.Addr})
		if err != nil {
			return nil, fmt.Errorf("%w: finding %q: %v", ErrNotResult, f.Code, err)
		}
		k := findingKey(f.Code, f.Name, f.NS, f.Addr, f.Probe)
		details[k] = append(details[k], i)
		d.Findings = append(d.Findings, model.Finding{Code: model.Code(f.Code), Severity: model.Severity(f.Severity),
			Name: f.Name, Zone: f.Zone, Server: ref, Probe: model.ProbeID(f.Probe), Detail: f.Detail})
	}
	for _, s := range j.Servers {
		addr, err := netip.ParseAddr(s.Addr)
		if err != nil {
			return nil, fmt.Errorf("%w: server %q: address %q: %v", ErrNotResult, s.NS, s.Addr, err)
		}
		port := uint16(53)
		if s.Port > 0 && s.Port < 65536 {
			port = uint16(s.Port)
		}
		srv := &model.Server{Zone: names.read("server zone", s.Zone), NS: fqdn(s.NS), Addr: addr}
		for _, jr := range s.Results {
			r := result(jr, netip.AddrPortFrom(addr, port), &names)
			if p, ok := catalog.ProbeByID(r.Probe); ok && p.QName != "" {
				// A fixed-name probe (CH TXT hostname.bind) sits on its
				// zone's apex row, not under its query name.
				r.Name = srv.Zone
			}
			for _, code := range jr.Findings {
				k := findingKey(code, r.Name.Display(), s.NS, s.Addr, jr.Probe)
				detail := ""
				if q := details[k]; len(q) > 0 {
					i := q[0]
					details[k] = q[1:]
					detail = d.Findings[i].Detail
					d.Findings[i].Result = r
				}
				r.Issues = append(r.Issues, model.Issue{Code: model.Code(code), Detail: detail})
			}
			srv.Results = append(srv.Results, r)
		}
		d.Servers = append(d.Servers, srv)
	}
	for _, c := range j.Resolver {
		d.Resolver = append(d.Resolver, resolverCheck(c))
	}
	var err error
	if d.Repeat, err = repeat(j.Repeat, d.Servers, &names); err != nil {
		return nil, fmt.Errorf("%w: repeat: %v", ErrNotResult, err)
	}
	if names.err != nil {
		return nil, names.err
	}
	return rec, nil
}

// serverRef reads a server reference: the NS name as written, the address
// parsed ("" for none).
func serverRef(j ServerRef) (model.ServerRef, error) {
	ref := model.ServerRef{NS: j.NS}
	if j.Addr == "" {
		return ref, nil
	}
	a, err := netip.ParseAddr(j.Addr)
	if err != nil {
		return ref, fmt.Errorf("server %q: address %q: %v", j.NS, j.Addr, err)
	}
	ref.Addr = a
	return ref, nil
}

// failingRefs reads a name's failing servers from its objects ("failing").
// A run written before the objects existed has only the text
// ("failing_servers", "ns (addr)"), read as such.
func failingRefs(n Name) ([]model.ServerRef, error) {
	refs := n.FailingRefs
	if refs == nil {
		for _, label := range n.Failing {
			ref := ServerRef{NS: label}
			if ns, addr, ok := strings.Cut(label, " ("); ok && strings.HasSuffix(addr, ")") {
				ref = ServerRef{NS: ns, Addr: strings.TrimSuffix(addr, ")")}
			}
			refs = append(refs, ref)
		}
	}
	var out []model.ServerRef
	for _, j := range refs {
		ref, err := serverRef(j)
		if err != nil {
			return nil, err
		}
		out = append(out, ref)
	}
	return out, nil
}

func findingKey(code, name, ns, addr, probe string) string {
	return strings.Join([]string{code, strings.ToLower(model.TrimDot(name)), strings.ToLower(model.TrimDot(ns)), addr, probe}, "|")
}

// result rebuilds one probe result with its exchange from the bytes.
func result(jr Result, server netip.AddrPort, names *nameReader) *model.Result {
	r := &model.Result{Probe: model.ProbeID(jr.Probe), Name: names.read("qname", jr.QName), QName: fqdn(jr.QName),
		Transport: model.Transport(jr.Transport), Status: model.Status(jr.Rcode), Rcode: -1}
	if t, ok := dns.StringToType[jr.QType]; ok {
		r.QType = t
	} else if strings.HasPrefix(jr.QType, "TYPE") {
		var n uint16
		if _, err := fmt.Sscanf(jr.QType, "TYPE%d", &n); err == nil {
			r.QType = n
		}
	}
	if rc, ok := dns.StringToRcode[jr.Rcode]; ok {
		r.Rcode = rc
	} else if jr.Rcode == "BADVERS" {
		r.Rcode = dns.RcodeBadVers // miekg/dns names 16 BADSIG (TSIG); in a message's RCODE it is BADVERS
	}
	ex := &model.Exchange{Server: server, Transport: r.Transport, Query: jr.Query, Attempts: jr.Attempts,
		RTT: time.Duration(jr.RTTms * float64(time.Millisecond)), RejectedCount: jr.Rejected}
	// "response" is the accepted reply, or, when none was accepted and
	// datagrams were rejected, the first of those (docs/json.md).
	if jr.Rejected > 0 && (jr.Rcode == "timeout" || jr.Rcode == "mismatch") {
		if len(jr.Response) > 0 {
			ex.Rejected = [][]byte{jr.Response}
		}
	} else {
		ex.Reply = jr.Response
	}
	if ex.Reply == nil {
		switch jr.Rcode {
		case "timeout":
			ex.Err = model.ErrTimeout
		case "unreachable":
			ex.Err = model.ErrUnreachable
		case "mismatch":
			ex.Err = model.ErrMismatch
		default:
			ex.Err = errors.New(jr.Rcode)
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, jr.Sent); err == nil {
		ex.Start = t
	}
	if src, err := netip.ParseAddrPort(jr.Source); err == nil {
		ex.Source = src
	}
	if len(jr.Query) == 0 && ex.Err == nil && ex.Reply == nil {
		ex = nil
	}
	r.Exchange = ex
	if ex != nil && ex.Reply != nil {
		m := new(dns.Msg)
		if err := m.Unpack(ex.Reply); err == nil {
			r.AA, r.TC = m.Authoritative, m.Truncated
			setMsg(r, m)
		}
	}
	if len(jr.TCPRetry) > 0 {
		r.Fallback = &model.Exchange{Server: server, Transport: model.TCP, Query: jr.Query, Reply: jr.TCPRetry, Attempts: 1}
		// After a truncated UDP reply the TCP retry's message is the one
		// that counts, as the judge took it in the run.
		m := new(dns.Msg)
		if err := m.Unpack(jr.TCPRetry); err == nil {
			setMsg(r, m)
		}
	}
	return r
}

// setMsg makes m the result's reply: its message and its records of the
// asked name and type.
func setMsg(r *model.Result, m *dns.Msg) {
	r.Msg, r.Records = m, nil
	for _, rr := range m.Answer {
		if rr.Header().Rrtype == r.QType && strings.EqualFold(rr.Header().Name, r.Name.String()) {
			r.Records = append(r.Records, rr)
		}
	}
}

func resolverCheck(c Resolver) model.ResolverCheck {
	rc := model.ResolverCheck{Predicted: c.Predicted, Agrees: c.Agrees}
	rc.Name, rc.Rcode, rc.AD, rc.Records, rc.Err = fqdn(c.Name), c.Rcode, c.AD, c.Records, c.Error
	if ap, err := netip.ParseAddrPort(c.Server); err == nil {
		rc.Server = ap
	}
	if c.EDECode != nil {
		rc.EDE = []model.EDE{{Code: *c.EDECode, Text: c.EDEText}}
	}
	return rc
}

// nameReader reads the name-valued fields of a line into DomainNames and
// keeps the first that cannot be one. Saved text is not trusted (see
// clean.go): octets a name may hold but presentation form writes escaped
// (a control character, a space, a non-ASCII byte) are read as those
// octets, so the name is kept and shown escaped (\027) like any name off
// the wire; what no name can be (an empty label, over 63 octets a label or
// 253 in all) makes the line no result.
type nameReader struct{ err error }

func (r *nameReader) read(field, s string) model.DomainName {
	if s == "" || r.err != nil {
		return model.DomainName{}
	}
	n, err := model.ParseName(s)
	if err != nil {
		if n, err = model.ParseName(escapeOctets(s)); err == nil {
			return n
		}
		r.err = fmt.Errorf("%w: %s: %v", ErrNotResult, field, err)
	}
	return n
}

// escapeOctets writes every byte of s that presentation form does not
// write as itself as \DDD.
func escapeOctets(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			fmt.Fprintf(&b, "\\%03d", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func fqdn(s string) string {
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// repeat reads check --repeat's block back; a fault's own exchange is
// read as sent to the port of its server in the shown try (53 else).
func repeat(j *Repeat, servers []*model.Server, names *nameReader) (*model.Repeat, error) {
	if j == nil {
		return nil, nil
	}
	rep := &model.Repeat{Tries: j.Tries, Shown: j.Shown, Failed: j.Failed}
	for _, f := range j.Faults {
		rf := model.RepeatFault{Zone: fqdn(f.Zone), Name: f.Name, Code: model.Code(f.Code), Seen: f.Seen, First: f.First,
			Probe: model.ProbeID(f.Probe), Detail: f.Detail}
		if f.Server != nil {
			ref, err := serverRef(*f.Server)
			if err != nil {
				return nil, err
			}
			rf.Server = ref
			if addr := ref.Addr; addr.IsValid() && f.Result != nil {
				port := uint16(53)
				for _, s := range servers {
					for _, r := range s.Results {
						if s.Addr == addr && r.Exchange != nil && r.Exchange.Server.Port() != 0 {
							port = r.Exchange.Server.Port()
						}
					}
				}
				rf.Result = result(*f.Result, netip.AddrPortFrom(addr, port), names)
			}
		}
		rep.Faults = append(rep.Faults, rf)
	}
	return rep, nil
}
