package transporttest

import (
	"net/netip"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// Lab is a Fake whose Default answers as the lab's servers do, through
// fixtures.Lab.Handle: the lab's zones and behaviours with no socket and
// no wait (build the lab with fixtures.Options{InProcess: true}). Scripts
// added with On take precedence, so a test can make one server drop,
// truncate or garble on top of the lab. Of several datagrams a behaviour
// writes, the first that answers the query is the reply, as a connected
// socket would take it.
func Lab(lab *fixtures.Lab) *Fake {
	return &Fake{Default: func(server netip.AddrPort, t model.Transport, q *dns.Msg) Reply {
		if int(server.Port()) != lab.Port {
			return Drop()
		}
		packed, err := q.Pack()
		if err != nil {
			return Drop()
		}
		for _, b := range lab.Handle(server.Addr(), q, t == model.TCP) {
			if wire.Matches(packed, b) {
				return Raw(b)
			}
		}
		return Drop()
	}}
}
