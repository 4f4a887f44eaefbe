package evidence

import (
	"bytes"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
)

// FuzzTranscript feeds arbitrary query and reply bytes to the transcript
// renderer, as a hostile server (or a broken capture) could: it must not
// panic, and what it writes must be valid UTF-8 without control characters
// other than newline, so it is safe to print and to paste. The pcap writer
// gets the same bytes and must not fail on them.
func FuzzTranscript(f *testing.F) {
	q, _ := wire.BuildQuery("ExAmPle.test", 257, true, true)
	f.Add(q, append(append([]byte(nil), q...), 0xff, 0x1b, '[', '3', '1', 'm'))
	f.Add([]byte{}, []byte{0})
	f.Fuzz(func(t *testing.T, query, reply []byte) {
		ex := &model.Exchange{Server: mustAddrPort("[::1]:5353"), Transport: model.UDP, Query: query, Reply: reply,
			Rejected: [][]byte{reply}, RejectedCount: 2, Start: time.Unix(1, 0), RTT: time.Millisecond, Attempts: 2, Timeouts: 1,
			Earlier: []model.Attempt{{ID: 0xbeef, Start: time.Unix(0, 0), Waited: time.Second}}}
		for _, tr := range []model.Transport{model.UDP, model.TCP} {
			ex.Transport = tr
			var b bytes.Buffer
			if err := WriteTranscript(&b, ex, Meta{Probe: catalog.ProbeCAA, NS: "ns.\x1b[2Jevil."}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8: %q", out)
			}
			for _, r := range out {
				if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
					t.Fatalf("control character %U in %q", r, out)
				}
			}
			if len(reply) <= maxUDPPayload && len(query) <= maxUDPPayload {
				if err := writePcap(&bytes.Buffer{}, []*model.Exchange{ex}); err != nil {
					t.Fatalf("pcap: %v", err)
				}
			}
		}
	})
}
