package transporttest_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/internal/transporttest"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/transport"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

var server = netip.MustParseAddrPort("192.0.2.1:53")

func query(t *testing.T, name string) []byte {
	t.Helper()
	q, err := wire.BuildQuery(name, dns.TypeCAA, true, true)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestRetryOverFake: the retries are written once over the interface, so
// a scripted fake gets them: two drops then an answer is one exchange of
// three attempts with the two earlier ones kept, a fresh ID each, and the
// dropped attempts recorded as having waited the fake's timeout.
func TestRetryOverFake(t *testing.T) {
	f := (&transporttest.Fake{Timeout: 3 * time.Second}).On(transporttest.Key{Name: "EXAMPLE.test.", Type: dns.TypeCAA},
		transporttest.Drop(), transporttest.Drop(), transporttest.Answer(nil))
	r := transport.New(f, nil, 2, 0)
	ex := r.Exchange(context.Background(), server, query(t, "example.test."), model.UDP)
	if ex.Reply == nil || ex.Attempts != 3 || ex.Timeouts != 2 || len(ex.Earlier) != 2 {
		t.Fatalf("reply %v, %d attempts, %d timeouts, %d earlier; want an answer to the third of three", ex.Reply != nil, ex.Attempts, ex.Timeouts, len(ex.Earlier))
	}
	for _, a := range ex.Earlier {
		if a.Waited != 3*time.Second {
			t.Errorf("earlier attempt waited %v, want the fake's 3s", a.Waited)
		}
	}
	if !wire.Matches(ex.Query, ex.Reply) {
		t.Error("the reply does not match the last query")
	}
	if r.Sent() != 3 || len(f.Queries()) != 3 {
		t.Errorf("sent %d, the fake saw %d; want 3", r.Sent(), len(f.Queries()))
	}
	// Case-insensitive by default; Exact tells spellings apart.
	g := (&transporttest.Fake{}).On(transporttest.Key{Name: "example.test.", Exact: true}, transporttest.Answer(nil))
	if ex := g.Exchange(context.Background(), server, query(t, "eXample.test."), model.UDP); !errors.Is(ex.Err, model.ErrTimeout) {
		t.Errorf("an exact key answered another spelling: %v", ex.Err)
	}
}

// TestExchangeTCOverFake: a truncated UDP reply is asked again over TCP,
// once, through the same interface; a garbled reply still matches the
// query (it is the server's) and does not parse.
func TestExchangeTCOverFake(t *testing.T) {
	f := (&transporttest.Fake{}).
		On(transporttest.Key{Transport: model.UDP}, transporttest.Truncate()).
		On(transporttest.Key{Transport: model.TCP}, transporttest.Garble())
	udp, tcp := transport.ExchangeTC(context.Background(), f, server, query(t, "example.test."))
	if !wire.Truncated(udp.Reply) || tcp == nil || tcp.Transport != model.TCP {
		t.Fatalf("udp %+v tcp %+v: want a truncated UDP reply and a TCP retry", udp, tcp)
	}
	if model.Final(udp, tcp) != tcp || tcp.Reply == nil {
		t.Fatalf("final is not the TCP exchange with its reply: %v", tcp.Err)
	}
	if new(dns.Msg).Unpack(tcp.Reply) == nil {
		t.Error("a garbled reply parses")
	}
	if n := f.Count(transporttest.Key{Transport: model.TCP}); n != 1 {
		t.Errorf("%d TCP queries, want 1", n)
	}
}

// TestLimiterWrapsAnyExchanger: the rate limit is a decorator, so pins and
// the --resolver get it over any Exchanger; a cancelled wait sends nothing.
func TestLimiterWrapsAnyExchanger(t *testing.T) {
	f := (&transporttest.Fake{}).On(transporttest.Key{}, transporttest.Answer(nil))
	lim := transport.NewLimiter(1, 1)
	x := lim.Wrap(f)
	if ex := x.Exchange(context.Background(), server, query(t, "example.test."), model.UDP); ex.Reply == nil {
		t.Fatalf("first query (within the burst): %v", ex.Err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ex := x.Exchange(ctx, server, query(t, "example.test."), model.UDP); ex.Err == nil || ex.Attempts != 0 {
		t.Errorf("over the limit with a cancelled context: err %v, %d attempts; want an error and nothing sent", ex.Err, ex.Attempts)
	}
	if n := len(f.Queries()); n != 1 {
		t.Errorf("the fake saw %d queries, want 1", n)
	}
	if transport.NewLimiter(0, 1).Wrap(f) != transport.Exchanger(f) {
		t.Error("no limit must leave the exchanger as it is")
	}
}

// TestLossyCap: a lossy path drops about its share of attempts but never
// more than MaxConsecutive in a row of one question, so Retry with more
// attempts than the cap always gets the answer.
func TestLossyCap(t *testing.T) {
	f := (&transporttest.Fake{}).On(transporttest.Key{}, transporttest.Answer(nil))
	l := &transporttest.Lossy{X: f, Seed: 1, Drop: 0.5, MaxConsecutive: 2}
	r := transport.New(l, nil, 2, 0)
	for i := range 200 {
		if ex := r.Exchange(context.Background(), server, query(t, "example.test."), model.UDP); ex.Reply == nil {
			t.Fatalf("exchange %d: %v after %d attempts", i, ex.Err, ex.Attempts)
		}
	}
	if d := l.Dropped(); d < 50 {
		t.Errorf("%d attempts dropped, want about half of the first attempts", d)
	}
}

// TestLossyOrderFree: which attempts of a question are dropped does not
// depend on how the questions' attempts interleave; two queries that
// differ in one EDNS option are counted apart.
func TestLossyOrderFree(t *testing.T) {
	f := (&transporttest.Fake{}).On(transporttest.Key{}, transporttest.Answer(nil))
	a := query(t, "a.example.test.")
	b := query(t, "b.example.test.")
	withOption := new(dns.Msg)
	if err := withOption.Unpack(a); err != nil {
		t.Fatal(err)
	}
	withOption.SetEdns0(1232, true)
	withOption.IsEdns0().Option = append(withOption.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1}})
	c, err := withOption.Pack()
	if err != nil {
		t.Fatal(err)
	}
	pattern := func(order [][]byte) map[string][]bool {
		l := &transporttest.Lossy{X: f, Seed: 3, Drop: 0.5}
		out := map[string][]bool{}
		for _, q := range order {
			ex := l.Exchange(context.Background(), server, q, model.UDP)
			out[string(q[2:])] = append(out[string(q[2:])], ex.Reply == nil)
		}
		return out
	}
	var ab, ba [][]byte
	for range 20 {
		ab = append(ab, a, b, c)
	}
	for range 20 {
		ba = append(ba, c)
	}
	for range 20 {
		ba = append(ba, b, a)
	}
	p1, p2 := pattern(ab), pattern(ba)
	drops := 0
	for k, v := range p1 {
		if !slices.Equal(v, p2[k]) {
			t.Errorf("question %q: drops %v in one order, %v in another", k, v, p2[k])
		}
		for _, d := range v {
			if d {
				drops++
			}
		}
	}
	if drops < 10 || drops > 50 {
		t.Errorf("%d of 60 attempts dropped at a share of 0.5", drops)
	}
	if slices.Equal(p1[string(a[2:])], p1[string(c[2:])]) {
		t.Error("a query and the same query with an EDNS option share their drops")
	}
}
