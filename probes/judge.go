package probes

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/caaprobe/caaprobe/probes/caa"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
)

// Judging is pure: it reads an Exchange (bytes) and says what is wrong with
// it. Nothing here does I/O, so every verdict can be recomputed from the
// bytes kept as evidence.

// JudgeContext is what the judge needs to know beyond the bytes.
type JudgeContext struct {
	Zone   model.DomainName // zone apex
	Name   model.DomainName // relevant name
	Exists bool             // the name is known to exist (the apex, or NOERROR seen)
}

// Judge reads the exchange of probe p. fallback is the TCP retry of a
// truncated UDP reply, or nil.
func Judge(p Probe, jc JudgeContext, ex *Exchange, fallback *Exchange) (r Result) {
	defer func() {
		// Judging bytes from the network must never bring the run down.
		if v := recover(); v != nil {
			r = Result{Probe: p.ID, Name: jc.Name, QType: p.Type, Transport: p.Transport, Rcode: -1, Exchange: ex, Fallback: fallback}
			r.Status = StatusMalformed
			r.Issues = append(r.Issues, Issue{Code: CodeMalformed, Detail: fmt.Sprintf("reply could not be judged: %v", v)})
		}
	}()
	return judge(p, jc, ex, fallback)
}

// judge is Judge without the recover, so the fuzzer sees every panic.
func judge(p Probe, jc JudgeContext, ex *Exchange, fallback *Exchange) Result {
	r := Result{Probe: p.ID, Name: jc.Name, QType: p.Type, Transport: p.Transport, Rcode: -1, Exchange: ex, Fallback: fallback}
	if q, _, err := ParseQuestion(ex.Query); err == nil {
		r.QName = string(q.Name)
	}
	if ex.Reply == nil && IsLocal(ex.Err) || fallback != nil && fallback.Reply == nil && IsLocal(fallback.Err) {
		// This host's failure, not the server's: no finding.
		r.Status = StatusLocal
		return r
	}
	if ex.Reply == nil {
		judgeNoReply(&r, ex)
		if p.Conformance() {
			// A conformance probe's lost reply is judged against the
			// plain caa probe (CheckServer): dropped only this form, or
			// every CAA query.
			r.Drop(CodeTimeout)
		}
		return r
	}
	reply := ex.Reply
	if fallback != nil && Truncated(reply) {
		if fallback.Reply == nil {
			r.Status = StatusTC
			r.TC = true
			r.Add(CodeTruncatedTCPFailed, "truncated over UDP; TCP retry: "+errText(fallback))
			return r
		}
		reply = fallback.Reply
	}
	judgeReply(&r, p, jc, ex.Query, reply)
	if r.TC && (fallback != nil || p.Transport == TCP) {
		// TC=1 over TCP: the answer cannot be completed, and Unbound
		// fails the lookup at this server (docs/prediction.md R2).
		r.Add(CodeTruncatedTCPFailed, "the reply over TCP has TC=1 too: the answer cannot be completed")
	}
	return r
}

func judgeNoReply(r *Result, ex *Exchange) {
	if ex.RejectedCount > 0 {
		first := ex.Rejected[0]
		switch {
		case len(first) < 12:
			r.Status = StatusMalformed
			r.Add(CodeMalformed, fmt.Sprintf("%d-byte datagram, shorter than a DNS header", len(first)))
		case wireID(first) == wireID(ex.Query):
			r.Status = StatusMismatch
			q, _, _ := ParseQuestion(ex.Query)
			if rq, _, err := ParseQuestion(first); err == nil {
				r.Add(CodeQuestionMismatch, fmt.Sprintf("asked %s %s, reply is for %s %s", q.Name, TypeString(q.Type), rq.Name, TypeString(rq.Type)))
			} else {
				r.Add(CodeQuestionMismatch, "reply question unreadable: "+err.Error())
			}
		default:
			r.Status = StatusMismatch
			if _, err := MessageEnd(first); err != nil && !looksLikeDNS(first) {
				r.Add(CodeMalformed, fmt.Sprintf("%d datagrams that are not DNS replies (%v)", ex.RejectedCount, err))
				return
			}
			r.Add(CodeIDMismatch, fmt.Sprintf("query ID %d, reply ID %d (%d replies with a wrong ID, none right)",
				wireID(ex.Query), wireID(first), ex.RejectedCount))
		}
		return
	}
	switch {
	case errors.Is(ex.Err, ErrTimeout):
		r.Status = StatusTimeout
		r.Add(CodeTimeout, fmt.Sprintf("no reply to %d attempts", ex.Attempts))
	case errors.Is(ex.Err, ErrNoFamily):
		r.Status = StatusNoFamily
		r.Add(CodeFamilyUnreachable, ex.Err.Error())
	case errors.Is(ex.Err, ErrTooLarge):
		r.Status = StatusLimit
		r.Add(CodeLimitReached, ex.Err.Error())
	default:
		r.Status = StatusUnreachable
		r.Add(CodeUnreachable, errText(ex))
	}
}

// looksLikeDNS tells a DNS reply with a wrong ID from random junk: QR set
// and one question.
func looksLikeDNS(b []byte) bool {
	return len(b) >= 12 && b[2]&0x80 != 0 && binary.BigEndian.Uint16(b[4:]) == 1
}

func judgeReply(r *Result, p Probe, jc JudgeContext, query, reply []byte) {
	end, walkErr := MessageEnd(reply)
	m := new(dns.Msg)
	if err := m.Unpack(reply); err != nil || walkErr != nil {
		r.Status = StatusMalformed
		detail := ""
		switch {
		case walkErr != nil:
			detail = fmt.Sprintf("%v (parsing stopped at byte %d of %d)", walkErr, end, len(reply))
		default:
			detail = err.Error()
		}
		r.Add(CodeMalformed, detail)
		return
	}
	if end < len(reply) {
		r.Add(CodeTrailingGarbage, fmt.Sprintf("%d bytes after the message's end at byte %d", len(reply)-end, end))
	}
	if !m.Response || m.Opcode != dns.OpcodeQuery && !p.Conformance() {
		// Resolvers drop such a message as not being an answer to their
		// QUERY (RFC 1035 §4.1.1: QR set, OPCODE copied from the query).
		r.Status = StatusMalformed
		r.Add(CodeMalformed, fmt.Sprintf("header says QR=%v OPCODE=%s: not a response to a standard query",
			m.Response, dns.OpcodeToString[m.Opcode]))
		return
	}
	r.Msg = m
	r.Rcode = m.Rcode
	r.Status = Status(RcodeText(m.Rcode))
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
	qq, _, _ := ParseQuestion(query)
	if rq, _, err := ParseQuestion(reply); err == nil && !bytes.Equal(qq.Name, rq.Name) {
		r.Add(CodeCaseNotPreserved, fmt.Sprintf("sent %s, echoed %s", qq.Name, rq.Name))
	}

	switch m.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		if jc.Exists && p.Type != dns.TypeSOA {
			r.Add(CodeNXDomainExisting, fmt.Sprintf("NXDOMAIN for %s at %s, which exists", TypeString(p.Type), r.QName))
		}
	case dns.RcodeNotImplemented:
		r.Add(CodeRcodeNotimp, "NOTIMP to "+TypeString(p.Type))
	case dns.RcodeRefused:
		r.Add(CodeRcodeRefused, "REFUSED to "+TypeString(p.Type)+" for a zone delegated to this server")
	case dns.RcodeServerFailure:
		r.Add(CodeRcodeServfail, "SERVFAIL to "+TypeString(p.Type))
	case dns.RcodeFormatError:
		r.Add(CodeRcodeFormerr, "FORMERR to a well-formed "+TypeString(p.Type)+" query")
	default:
		r.Add(CodeRcodeOther, fmt.Sprintf("RCODE %s to %s", RcodeText(m.Rcode), TypeString(p.Type)))
	}
	if (m.Rcode == dns.RcodeSuccess || m.Rcode == dns.RcodeNameError) && !m.Authoritative && !isReferral(m, jc.Zone.String()) {
		r.Add(CodeNotAuthoritative, "AA bit not set on an answer for "+jc.Zone.String())
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
					r.Add(CodeCAACriticalUnknown, fmt.Sprintf("%s: %s", text, prob.Detail))
				case prob.Severity == caa.SeverityFail:
					r.Add(CodeInvalidCAA, fmt.Sprintf("%s: %s", text, prob.Detail))
				}
			}
		}
	}
}

// judgeNegative checks the shape of a negative CAA answer (RFC 2308 §2.2,
// §3): NXDOMAIN, or NOERROR with nothing in the answer section (NODATA),
// must carry the zone's SOA in the authority section. A referral is not a
// negative answer.
func judgeNegative(r *Result, m *dns.Msg, jc JudgeContext) {
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
		r.Add(CodeNegativeWithoutSOA, fmt.Sprintf("%s for CAA at %s with no SOA in the authority section (%d authority records)", kind, r.QName, len(m.Ns)))
		return
	}
	r.Add(CodeNegativeWrongSOA, fmt.Sprintf("%s for CAA at %s carries the SOA of %s, not of %s", kind, r.QName, strings.Join(soas, ", "), jc.Zone))
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

// RcodeText names a message's RCODE as dig does: the mnemonic, BADVERS for
// 16, RCODE<n> for a value without one. Every renderer and stage uses it.
func RcodeText(rc int) string {
	if rc == dns.RcodeBadVers {
		// 16 is BADSIG only in TSIG records; in a message's (extended)
		// RCODE it is BADVERS (RFC 6891 §9).
		return "BADVERS"
	}
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}

func errText(ex *Exchange) string {
	if ex == nil || ex.Err == nil {
		return "no error"
	}
	return ex.Err.Error()
}

// Fails reports whether the result carries a fail-severity finding.
func Fails(r *Result) bool {
	for _, i := range r.Issues {
		if Info(i.Code).Severity == SeverityFail {
			return true
		}
	}
	return false
}
