// Package judge is the pure half of probing: it reads an exchange's bytes
// and says what is wrong with them (Exchange), compares the results of one
// server, zone or delegation (the cross-checks, which return the findings
// they add and change nothing), and rolls a domain's results up into its
// findings and verdict (Summarise). Nothing here does I/O, so every verdict
// can be recomputed from the bytes kept as evidence.
package judge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/internal/caa"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// Context is what the judge needs to know beyond the bytes.
type Context struct {
	Zone   model.DomainName // zone apex
	Name   model.DomainName // relevant name
	Exists bool             // the name is known to exist (the apex, or NOERROR seen)
}

// Exchange judges the exchange of probe p. fallback is the TCP retry of a
// truncated UDP reply, or nil.
func Exchange(p catalog.Probe, jc Context, ex *model.Exchange, fallback *model.Exchange) (r model.Result) {
	defer func() {
		// Judging bytes from the network must never bring the run down.
		if v := recover(); v != nil {
			r = model.Result{Probe: p.ID, Name: jc.Name, QType: p.Type, Transport: p.Transport, Rcode: -1, Exchange: ex, Fallback: fallback}
			r.Status = model.StatusMalformed
			r.Issues = append(r.Issues, model.Issue{Code: catalog.CodeMalformed, Detail: fmt.Sprintf("reply could not be judged: %v", v)})
		}
	}()
	return judgeExchange(p, jc, ex, fallback)
}

// judgeExchange is Exchange without the recover, so the fuzzer sees every panic.
func judgeExchange(p catalog.Probe, jc Context, ex *model.Exchange, fallback *model.Exchange) model.Result {
	r := model.Result{Probe: p.ID, Name: jc.Name, QType: p.Type, Transport: p.Transport, Rcode: -1, Exchange: ex, Fallback: fallback}
	if q, _, err := wire.ParseQuestion(ex.Query); err == nil {
		r.QName = string(q.Name)
	}
	if ex.Reply == nil && model.IsLocal(ex.Err) || fallback != nil && fallback.Reply == nil && model.IsLocal(fallback.Err) {
		// This host's failure, not the server's: no finding.
		r.Status = model.StatusLocal
		return r
	}
	if ex.Reply == nil {
		judgeNoReply(&r, ex)
		if p.Conformance() {
			// A conformance probe's lost reply is judged against the
			// plain caa probe (CheckServer): dropped only this form, or
			// every CAA query.
			r.Drop(catalog.CodeTimeout)
		}
		return r
	}
	reply := ex.Reply
	if fallback != nil && wire.Truncated(reply) {
		if fallback.Reply == nil {
			r.Status = model.StatusTC
			r.TC = true
			r.Add(catalog.CodeTruncatedTCPFailed, "truncated over UDP; TCP retry: "+errText(fallback))
			return r
		}
		reply = fallback.Reply
	}
	judgeReply(&r, p, jc, ex.Query, reply)
	if r.TC && (fallback != nil || p.Transport == model.TCP) {
		// TC=1 over TCP: the answer cannot be completed, and Unbound
		// fails the lookup at this server (docs/prediction.md R2).
		r.Add(catalog.CodeTruncatedTCPFailed, "the reply over TCP has TC=1 too: the answer cannot be completed")
	}
	return r
}

func judgeNoReply(r *model.Result, ex *model.Exchange) {
	if ex.RejectedCount > 0 {
		first := ex.Rejected[0]
		switch {
		case len(first) < 12:
			r.Status = model.StatusMalformed
			r.Add(catalog.CodeMalformed, fmt.Sprintf("%d-byte datagram, shorter than a DNS header", len(first)))
		case wire.ID(first) == wire.ID(ex.Query):
			r.Status = model.StatusMismatch
			q, _, _ := wire.ParseQuestion(ex.Query)
			if rq, _, err := wire.ParseQuestion(first); err == nil {
				r.Add(catalog.CodeQuestionMismatch, fmt.Sprintf("asked %s %s, reply is for %s %s", q.Name, catalog.TypeString(q.Type), rq.Name, catalog.TypeString(rq.Type)))
			} else {
				r.Add(catalog.CodeQuestionMismatch, "reply question unreadable: "+err.Error())
			}
		default:
			r.Status = model.StatusMismatch
			if _, err := wire.MessageEnd(first); err != nil && !looksLikeDNS(first) {
				r.Add(catalog.CodeMalformed, fmt.Sprintf("%d datagrams that are not DNS replies (%v)", ex.RejectedCount, err))
				return
			}
			r.Add(catalog.CodeIDMismatch, fmt.Sprintf("query ID %d, reply ID %d (%d replies with a wrong ID, none right)",
				wire.ID(ex.Query), wire.ID(first), ex.RejectedCount))
		}
		return
	}
	switch {
	case errors.Is(ex.Err, model.ErrTimeout):
		r.Status = model.StatusTimeout
		r.Add(catalog.CodeTimeout, fmt.Sprintf("no reply to %d attempts", ex.Attempts))
	case errors.Is(ex.Err, model.ErrNoFamily):
		r.Status = model.StatusNoFamily
		r.Add(catalog.CodeFamilyUnreachable, ex.Err.Error())
	case errors.Is(ex.Err, model.ErrTooLarge):
		r.Status = model.StatusLimit
		r.Add(catalog.CodeLimitReached, ex.Err.Error())
	default:
		r.Status = model.StatusUnreachable
		r.Add(catalog.CodeUnreachable, errText(ex))
	}
}

// looksLikeDNS tells a DNS reply with a wrong ID from random junk: QR set
// and one question.
func looksLikeDNS(b []byte) bool {
	return len(b) >= 12 && b[2]&0x80 != 0 && binary.BigEndian.Uint16(b[4:]) == 1
}

func judgeReply(r *model.Result, p catalog.Probe, jc Context, query, reply []byte) {
	end, walkErr := wire.MessageEnd(reply)
	m := new(dns.Msg)
	if err := m.Unpack(reply); err != nil || walkErr != nil {
		r.Status = model.StatusMalformed
		detail := ""
		switch {
		case walkErr != nil:
			detail = fmt.Sprintf("%v (parsing stopped at byte %d of %d)", walkErr, end, len(reply))
		default:
			detail = err.Error()
		}
		r.Add(catalog.CodeMalformed, detail)
		return
	}
	if end < len(reply) {
		r.Add(catalog.CodeTrailingGarbage, fmt.Sprintf("%d bytes after the message's end at byte %d", len(reply)-end, end))
	}
	if !m.Response || m.Opcode != dns.OpcodeQuery && !p.Conformance() {
		// Resolvers drop such a message as not being an answer to their
		// QUERY (RFC 1035 §4.1.1: QR set, OPCODE copied from the query).
		r.Status = model.StatusMalformed
		r.Add(catalog.CodeMalformed, fmt.Sprintf("header says QR=%v OPCODE=%s: not a response to a standard query",
			m.Response, dns.OpcodeToString[m.Opcode]))
		return
	}
	r.Msg = m
	r.Rcode = m.Rcode
	r.Status = model.Status(wire.RcodeText(m.Rcode))
	r.AA = m.Authoritative
	r.TC = m.Truncated
	r.NSID = model.NSIDOf(m)
	if p.Conformance() {
		// Judged against the plain caa probe by CheckServer: an RCODE
		// here is what the form of the query got, not a CAA fault.
		owner := jc.Name.String()
		if p.QName != "" {
			owner = p.QName
		}
		for _, rr := range m.Answer {
			if rr.Header().Rrtype == p.Type && strings.EqualFold(rr.Header().Name, owner) {
				r.Records = append(r.Records, rr)
			}
		}
		return
	}

	// The echoed question must be the query's bytes (RFC 1035 §7.3, RFC 4343 §4.1).
	qq, _, _ := wire.ParseQuestion(query)
	if rq, _, err := wire.ParseQuestion(reply); err == nil && !bytes.Equal(qq.Name, rq.Name) {
		r.Add(catalog.CodeCaseNotPreserved, fmt.Sprintf("sent %s, echoed %s", qq.Name, rq.Name))
	}

	switch m.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		if jc.Exists && p.Type != dns.TypeSOA {
			r.Add(catalog.CodeNXDomainExisting, fmt.Sprintf("NXDOMAIN for %s at %s, which exists", catalog.TypeString(p.Type), r.QName))
		}
	case dns.RcodeNotImplemented:
		r.Add(catalog.CodeRcodeNotimp, "NOTIMP to "+catalog.TypeString(p.Type))
	case dns.RcodeRefused:
		r.Add(catalog.CodeRcodeRefused, "REFUSED to "+catalog.TypeString(p.Type)+" for a zone delegated to this server")
	case dns.RcodeServerFailure:
		r.Add(catalog.CodeRcodeServfail, "SERVFAIL to "+catalog.TypeString(p.Type))
	case dns.RcodeFormatError:
		r.Add(catalog.CodeRcodeFormerr, "FORMERR to a well-formed "+catalog.TypeString(p.Type)+" query")
	default:
		r.Add(catalog.CodeRcodeOther, fmt.Sprintf("RCODE %s to %s", wire.RcodeText(m.Rcode), catalog.TypeString(p.Type)))
	}
	if (m.Rcode == dns.RcodeSuccess || m.Rcode == dns.RcodeNameError) && !m.Authoritative && !isReferral(m, jc.Zone.String()) {
		r.Add(catalog.CodeNotAuthoritative, "AA bit not set on an answer for "+jc.Zone.String())
	}

	owner := jc.Name.String()
	for _, rr := range m.Answer {
		if rr.Header().Rrtype == p.Type && strings.EqualFold(rr.Header().Name, owner) {
			r.Records = append(r.Records, rr)
		}
	}
	if p.Type == dns.TypeCAA {
		judgeNegative(r, m, jc)
		for _, rr := range r.Records {
			c, ok := rr.(*dns.CAA)
			if !ok {
				continue
			}
			for _, prob := range caa.Validate(caa.FromRR(c)) {
				text := model.RdataText(c)
				switch {
				case prob.Critical:
					r.Add(catalog.CodeCAACriticalUnknown, fmt.Sprintf("%s: %s", text, prob.Detail))
				case prob.Severity == caa.SeverityFail:
					r.Add(catalog.CodeInvalidCAA, fmt.Sprintf("%s: %s", text, prob.Detail))
				}
			}
		}
	}
}

// judgeNegative checks the shape of a negative CAA answer (RFC 2308 §2.2,
// §3): NXDOMAIN, or NOERROR with nothing in the answer section (NODATA),
// must carry the zone's SOA in the authority section. A referral is not a
// negative answer.
func judgeNegative(r *model.Result, m *dns.Msg, jc Context) {
	// Replies without AA are lame or referrals (judged as such, not as
	// negative answers); so is an authority section of NS without SOA.
	if m.Truncated || !m.Authoritative || len(m.Answer) > 0 || (m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError) || isReferral(m, jc.Zone.String()) {
		return
	}
	hasNS, hasSOA := false, false
	for _, rr := range m.Ns {
		hasNS = hasNS || rr.Header().Rrtype == dns.TypeNS
		hasSOA = hasSOA || rr.Header().Rrtype == dns.TypeSOA
	}
	if hasNS && !hasSOA {
		return
	}
	kind := "NODATA"
	if m.Rcode == dns.RcodeNameError {
		kind = "NXDOMAIN"
	}
	var soas []string
	for _, rr := range m.Ns {
		if rr.Header().Rrtype != dns.TypeSOA {
			continue
		}
		if strings.EqualFold(rr.Header().Name, jc.Zone.String()) {
			return
		}
		soas = append(soas, rr.Header().Name)
	}
	if len(soas) == 0 {
		r.Add(catalog.CodeNegativeWithoutSOA, fmt.Sprintf("%s for CAA at %s with no SOA in the authority section (%d authority records)", kind, r.QName, len(m.Ns)))
		return
	}
	r.Add(catalog.CodeNegativeWrongSOA, fmt.Sprintf("%s for CAA at %s carries the SOA of %s, not of %s", kind, r.QName, strings.Join(soas, ", "), jc.Zone))
}

// isReferral reports a reply that hands the query down to a child zone:
// no answer, NS records below zone in the authority section.
func isReferral(m *dns.Msg, zone string) bool {
	if len(m.Answer) > 0 {
		return false
	}
	for _, rr := range m.Ns {
		if rr.Header().Rrtype == dns.TypeNS && !strings.EqualFold(rr.Header().Name, zone) && dns.IsSubDomain(zone, rr.Header().Name) {
			return true
		}
	}
	return false
}

func errText(ex *model.Exchange) string {
	if ex == nil || ex.Err == nil {
		return "no error"
	}
	return ex.Err.Error()
}

// Fails reports whether the result carries a fail-severity finding.
func Fails(r *model.Result) bool {
	for _, i := range r.Issues {
		if catalog.Info(i.Code).Severity == model.SeverityFail {
			return true
		}
	}
	return false
}
