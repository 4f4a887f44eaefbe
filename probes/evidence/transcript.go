package evidence

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// Meta is what the bytes of an exchange do not say: which probe sent it,
// to which NS name, and what the exchange was (the probe's own query, or
// the TCP retry after a truncated reply).
type Meta struct {
	Probe model.ProbeID
	NS    string // NS name of the server, "" when unknown
	Role  string // "query" or "TCP retry after TC=1"; "" means query
}

// TimeFormat is how transcripts print instants: UTC, microseconds, so a
// provider can find the query in its own logs.
const TimeFormat = "2006-01-02 15:04:05.000000 UTC"

// WriteTranscript writes one exchange as a dig-style transcript: where and
// when it went, the dig command that sends the same query, then the query
// and every datagram that came back, each decoded from its own bytes and
// followed by a hex dump of exactly those bytes.
func WriteTranscript(w io.Writer, ex *model.Exchange, m Meta) error {
	var b bytes.Buffer
	transcript(&b, ex, m)
	_, err := io.WriteString(w, sanitize(b.String()))
	return err
}

func transcript(b *bytes.Buffer, ex *model.Exchange, m Meta) {
	role := m.Role
	if role == "" {
		role = "query"
	}
	fmt.Fprintf(b, ";; probe %s, %s over %s\n", m.Probe, role, strings.ToUpper(string(ex.Transport)))
	server := ex.Server.Addr().String()
	if m.NS != "" {
		server = strings.TrimSuffix(m.NS, ".") + " " + server
	}
	fmt.Fprintf(b, ";; server:   %s port %d\n", server, ex.Server.Port())
	if ex.Source.IsValid() {
		fmt.Fprintf(b, ";; from:     %s port %d (this host's address and port, read from the socket)\n", ex.Source.Addr(), ex.Source.Port())
	}
	if ex.Start.IsZero() {
		fmt.Fprintf(b, ";; sent:     never\n")
	} else {
		fmt.Fprintf(b, ";; sent:     %s\n", ex.Start.UTC().Format(TimeFormat))
	}
	fmt.Fprintf(b, ";; attempts: %d (%d timed out); the query below is the last one sent\n", ex.Attempts, ex.Timeouts)
	for i, a := range ex.Earlier {
		from := ""
		if a.Source.IsValid() {
			from = fmt.Sprintf(" from port %d", a.Source.Port())
		}
		fmt.Fprintf(b, ";;   attempt %d: ID %d sent %s%s, no reply within %s\n", i+1, a.ID, a.Start.UTC().Format(TimeFormat), from, fmtRTT(a.Waited))
	}
	switch {
	case ex.Reply != nil:
		fmt.Fprintf(b, ";; reply:    after %s, at %s\n", fmtRTT(ex.RTT), ex.Start.Add(ex.RTT).UTC().Format(TimeFormat))
	case ex.Err != nil:
		fmt.Fprintf(b, ";; reply:    none accepted after %s: %v\n", fmtRTT(ex.RTT), ex.Err)
	default:
		fmt.Fprintf(b, ";; reply:    none\n")
	}
	if id := instanceOf(ex.Reply); id != "" {
		fmt.Fprintf(b, ";; instance: answered by instance %s\n", id)
	}
	fmt.Fprintf(b, ";; reproduce with:\n%s\n", DigCommand(ex))

	fmt.Fprintf(b, "\n;; ===== QUERY SENT (%d bytes) =====\n", len(ex.Query))
	qq, qerr := writeMessage(b, ex.Query, nil)
	var sent *wire.Question
	if qerr == nil {
		sent = &qq
	}
	if ex.Reply != nil {
		fmt.Fprintf(b, "\n;; ===== REPLY RECEIVED (%d bytes) =====\n", len(ex.Reply))
		writeMessage(b, ex.Reply, sent)
	}
	for i, r := range ex.Rejected {
		fmt.Fprintf(b, "\n;; ===== REJECTED DATAGRAM %d of %d (%d bytes) =====\n", i+1, ex.RejectedCount, len(r))
		fmt.Fprintf(b, ";; it came from the server's address and port but does not answer the query:\n")
		fmt.Fprintf(b, ";; %s\n", rejectReason(ex.Query, r))
		writeMessage(b, r, sent)
	}
	if n := ex.RejectedCount - len(ex.Rejected); n > 0 {
		fmt.Fprintf(b, "\n;; %d more rejected datagrams were counted but not kept\n", n)
	}
}

// instanceOf names the server instance in a reply's NSID option (RFC
// 5001): "lhr-2 (NSID 6c68722d32)"; "" when there is none.
func instanceOf(reply []byte) string {
	m := new(dns.Msg)
	if reply == nil || m.Unpack(reply) != nil {
		return ""
	}
	nsid := model.NSIDOf(m)
	if nsid == nil {
		return ""
	}
	return fmt.Sprintf("%s (NSID %x, RFC 5001)", model.InstanceName(nsid), nsid)
}

// rejectReason says why a datagram does not answer the query, as a
// resolver following RFC 5452 §4 would see it.
func rejectReason(query, reply []byte) string {
	if len(reply) < 12 {
		return fmt.Sprintf("%d bytes, shorter than a DNS header", len(reply))
	}
	if len(query) >= 12 && !bytes.Equal(query[:2], reply[:2]) {
		return fmt.Sprintf("its ID is %d, the query's is %d (RFC 5452 §4.3)",
			binary.BigEndian.Uint16(reply), binary.BigEndian.Uint16(query))
	}
	return "its question differs from the query's (RFC 5452 §4.1)"
}

func fmtRTT(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 3, 64) + " ms"
}

var flagNames = []struct {
	bit  uint16
	name string
}{{1 << 15, "qr"}, {1 << 10, "aa"}, {1 << 9, "tc"}, {1 << 8, "rd"}, {1 << 7, "ra"}, {1 << 6, "z"}, {1 << 5, "ad"}, {1 << 4, "cd"}}

// writeMessage decodes msg for reading, from its bytes: the header and the
// question straight from the wire (case as sent), the sections through
// miekg/dns, and where a broken message stops parsing. sent, when not nil,
// is the query's question, which a reply must echo byte for byte.
func writeMessage(b *bytes.Buffer, msg []byte, sent *wire.Question) (wire.Question, error) {
	defer hexdump(b, msg)
	if len(msg) < 12 {
		fmt.Fprintf(b, ";; MALFORMED: %d bytes, shorter than the 12-byte DNS header\n", len(msg))
		return wire.Question{}, errors.New("short")
	}
	flags := binary.BigEndian.Uint16(msg[2:])
	opcode := int(flags>>11) & 0xF
	rcode := int(flags & 0xF)
	var m dns.Msg
	unpackErr := m.Unpack(msg)
	if unpackErr == nil {
		// Unpack folds the OPT record's upper RCODE bits in (RFC 6891 §6.1.3).
		rcode = m.Rcode
	}
	fmt.Fprintf(b, ";; ->>HEADER<<- opcode: %s, status: %s, id: %d\n", opcodeText(opcode), wire.RcodeText(rcode), binary.BigEndian.Uint16(msg))
	var set []string
	for _, f := range flagNames {
		if flags&f.bit != 0 {
			set = append(set, f.name)
		}
	}
	counts := [4]uint16{}
	for i := range counts {
		counts[i] = binary.BigEndian.Uint16(msg[4+2*i:])
	}
	fmt.Fprintf(b, ";; flags: %s; QUERY: %d, ANSWER: %d, AUTHORITY: %d, ADDITIONAL: %d\n",
		strings.Join(set, " "), counts[0], counts[1], counts[2], counts[3])

	end, walkErr := wire.MessageEnd(msg)
	if walkErr != nil {
		fmt.Fprintf(b, ";; MALFORMED: %v; parsing stopped at byte %d of %d (offset 0x%04x in the dump below)\n", walkErr, end, len(msg), end)
	} else if end < len(msg) {
		fmt.Fprintf(b, ";; TRAILING BYTES: the message ends at byte %d; %d more bytes follow it\n", end, len(msg)-end)
	}
	if unpackErr != nil && walkErr == nil {
		fmt.Fprintf(b, ";; MALFORMED: the sections do not decode: %v\n", unpackErr)
	}

	q, _, qerr := wire.ParseQuestion(msg)
	if qerr == nil {
		fmt.Fprintf(b, ";; QUESTION SECTION:\n;%s %s %s\n", q.Name, classText(q.Class), catalog.TypeString(q.Type))
		if sent != nil {
			if bytes.Equal(sent.Name, q.Name) && sent.Type == q.Type && sent.Class == q.Class {
				fmt.Fprintf(b, ";; (echoes the query's question byte for byte)\n")
			} else {
				fmt.Fprintf(b, ";; (DIFFERS from the query's question: sent %s %s %s)\n", sent.Name, classText(sent.Class), catalog.TypeString(sent.Type))
			}
		}
	} else {
		fmt.Fprintf(b, ";; QUESTION SECTION: unreadable: %v\n", qerr)
	}
	if unpackErr != nil {
		fmt.Fprintf(b, ";; (sections not decoded; the bytes below are all there is)\n")
		return q, qerr
	}
	if opt := m.IsEdns0(); opt != nil {
		writeOPT(b, opt)
	}
	writeSection(b, "ANSWER", m.Answer)
	writeSection(b, "AUTHORITY", m.Ns)
	var extra []dns.RR
	for _, rr := range m.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			extra = append(extra, rr)
		}
	}
	writeSection(b, "ADDITIONAL", extra)
	return q, qerr
}

func writeOPT(b *bytes.Buffer, opt *dns.OPT) {
	var fl []string
	if opt.Do() {
		fl = append(fl, "do")
	}
	fmt.Fprintf(b, ";; OPT PSEUDOSECTION:\n; EDNS: version: %d, flags: %s; udp: %d\n", opt.Version(), strings.Join(fl, " "), opt.UDPSize())
	for _, o := range opt.Option {
		switch e := o.(type) {
		case *dns.EDNS0_EDE:
			name := dns.ExtendedErrorCodeToString[e.InfoCode]
			if name == "" {
				name = "unassigned"
			}
			fmt.Fprintf(b, "; EDE: %d (%s): %q\n", e.InfoCode, name, e.ExtraText)
		default:
			fmt.Fprintf(b, "; OPTION %d: %s\n", o.Option(), o.String())
		}
	}
}

func writeSection(b *bytes.Buffer, name string, rrs []dns.RR) {
	if len(rrs) == 0 {
		return
	}
	fmt.Fprintf(b, ";; %s SECTION:\n", name)
	for _, rr := range rrs {
		fmt.Fprintln(b, strings.ReplaceAll(rr.String(), "\t", " "))
	}
}

// hexdump writes msg 16 bytes a line with offsets and an ASCII column, in
// the layout of hexdump -C.
func hexdump(b *bytes.Buffer, msg []byte) {
	for off := 0; off < len(msg); off += 16 {
		line := msg[off:min(off+16, len(msg))]
		fmt.Fprintf(b, "%04x  ", off)
		for i := range 16 {
			if i < len(line) {
				fmt.Fprintf(b, "%02x ", line[i])
			} else {
				b.WriteString("   ")
			}
			if i == 7 {
				b.WriteByte(' ')
			}
		}
		b.WriteString(" |")
		for _, c := range line {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			b.WriteByte(c)
		}
		b.WriteString("|\n")
	}
}

func opcodeText(op int) string {
	if s, ok := dns.OpcodeToString[op]; ok {
		return s
	}
	return "OPCODE" + strconv.Itoa(op)
}

func classText(c uint16) string {
	if s, ok := dns.ClassToString[c]; ok {
		return s
	}
	return "CLASS" + strconv.Itoa(int(c))
}
