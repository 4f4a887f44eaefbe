package judge

import (
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// fuzzJudgeQueries builds, once per fuzz run, the query each catalog probe
// sends, so the fuzzer only varies what a hostile server can control: the
// reply bytes.
func fuzzJudgeQueries(t testing.TB) [][]byte {
	t.Helper()
	var qs [][]byte
	for _, p := range catalog.Catalog {
		q, err := wire.BuildQuery(wire.Spell("www.example.test.", p.Spelling), p.Type, p.EDNS, p.DO)
		if err != nil {
			t.Fatalf("query for probe %s: %v", p.ID, err)
		}
		qs = append(qs, q)
	}
	return qs
}

// FuzzJudge feeds arbitrary reply bytes to the judge for every probe of the
// catalog, as an accepted reply, as a rejected datagram and as a TCP retry.
// It calls the judging functions without Judge's recover, so a panic is a
// crash the fuzzer reports, not a malformed-response finding that hides it.
func FuzzJudge(f *testing.F) {
	qs := fuzzJudgeQueries(f)
	for i, p := range catalog.Catalog {
		m := new(dns.Msg)
		m.SetQuestion("www.example.test.", p.Type)
		m.Response, m.Authoritative = true, true
		if p.Type == dns.TypeCAA {
			m.Answer = append(m.Answer, &dns.CAA{Hdr: dns.RR_Header{Name: "www.example.test.", Rrtype: dns.TypeCAA, Class: dns.ClassINET, Ttl: 60},
				Tag: "issue", Value: "letsencrypt.org"})
		}
		b, _ := m.Pack()
		f.Add(uint8(i), uint8(0), b)
		f.Add(uint8(i), uint8(1), b)
		// Compression-pointer loop in the question name.
		loop := append([]byte(nil), b[:12]...)
		loop = append(loop, 0xC0, 12, 0, byte(p.Type>>8), byte(p.Type), 0, 1)
		f.Add(uint8(i), uint8(0), loop)
		// RDLENGTH past the end.
		if len(b) > 5 {
			f.Add(uint8(i), uint8(0), b[:len(b)-5])
		}
		// TC set, for the TCP-retry path.
		tc := append([]byte(nil), b...)
		tc[2] |= 0x02
		f.Add(uint8(i), uint8(2), tc)
	}
	f.Add(uint8(0), uint8(1), []byte{0xde, 0xad})
	f.Add(uint8(1), uint8(1), []byte("HTTP/1.1 400 Bad Request\r\n\r\n"))

	f.Fuzz(func(t *testing.T, probe, mode uint8, reply []byte) {
		i := int(probe) % len(catalog.Catalog)
		p := catalog.Catalog[i]
		q := append([]byte(nil), qs[i]...)
		// Half of the inputs get the query's ID, so the fuzzer does not
		// spend its time on replies that could never be accepted.
		if len(reply) >= 2 && mode&4 != 0 {
			reply = append([]byte(nil), reply...)
			reply[0], reply[1] = q[0], q[1]
		}
		jc := Context{Zone: model.MustName("example.test."), Name: model.MustName("www.example.test."), Exists: mode&8 != 0}
		ex := &model.Exchange{Transport: p.Transport, Query: q, Attempts: 1}
		var fallback *model.Exchange
		switch mode % 3 {
		case 0: // accepted reply
			ex.Reply = reply
		case 1: // rejected datagram
			ex.Err = model.ErrMismatch
			ex.RejectedCount, ex.Rejected = 1, [][]byte{reply}
		case 2: // truncated UDP reply, fuzzed TCP retry
			m := new(dns.Msg)
			m.SetQuestion("www.example.test.", p.Type)
			m.Response, m.Truncated = true, true
			ex.Reply, _ = m.Pack()
			ex.Reply[0], ex.Reply[1] = q[0], q[1]
			fallback = &model.Exchange{Transport: model.TCP, Query: q, Reply: reply}
		}
		r := judgeExchange(p, jc, ex, fallback)
		if r.Status == "" {
			t.Fatalf("probe %s: empty status for reply %x", p.ID, reply)
		}
		for _, is := range r.Issues {
			if strings.Contains(is.Detail, "could not be judged") {
				t.Fatalf("probe %s: %s", p.ID, is.Detail)
			}
			if catalog.Info(is.Code).Mark == "??" {
				t.Fatalf("probe %s: finding %q is not in the catalog", p.ID, is.Code)
			}
		}
		// The cross-checks read what the judge produced; they must cope
		// with any of it, alone and next to a well-formed result.
		good := judgeExchange(p, jc, &model.Exchange{Transport: p.Transport, Query: q, Reply: goodReply(t, q)}, nil)
		Apply(CheckServer([]*model.Result{&r, &good}))
		Apply(CheckZone([]*model.Result{&r, &good}))
		// Judge with its recover must agree with the unrecovered run.
		if rr := Exchange(p, jc, ex, fallback); rr.Status != r.Status {
			t.Fatalf("probe %s: Judge says %q, unrecovered judge says %q", p.ID, rr.Status, r.Status)
		}
	})
}

func goodReply(t *testing.T, q []byte) []byte {
	m := new(dns.Msg)
	if err := m.Unpack(q); err != nil {
		t.Fatalf("own query does not parse: %v", err)
	}
	m.Response, m.Authoritative = true, true
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("packing a reply: %v", err)
	}
	return b
}

// FuzzWire checks the byte-level readers the exchange itself relies on:
// they must not panic, and the offsets they return must lie inside the
// message, since the evidence report slices the bytes at them.
func FuzzWire(f *testing.F) {
	q, _ := wire.BuildQuery("www.example.test.", dns.TypeCAA, true, true)
	f.Add(q, q)
	f.Add(q, []byte{0, 0, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1})
	f.Add(q, []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, query, msg []byte) {
		end, err := wire.MessageEnd(msg)
		if end < 0 || end > len(msg) {
			t.Fatalf("MessageEnd offset %d outside a %d-byte message (err %v)", end, len(msg), err)
		}
		wq, off, err := wire.ParseQuestion(msg)
		if off < 0 || off > len(msg) {
			t.Fatalf("ParseQuestion offset %d outside a %d-byte message", off, len(msg))
		}
		if err == nil && len(wq.Name) == 0 {
			t.Fatalf("ParseQuestion returned an empty name without error")
		}
		if len(query) >= 12 {
			// An off-path reply must never be accepted with another ID,
			// whatever else its bytes say.
			if wire.Matches(query, msg) && (len(msg) < 12 || msg[0] != query[0] || msg[1] != query[1]) {
				t.Fatalf("Matches accepted reply %x with another ID than query %x", msg, query)
			}
		}
	})
}
