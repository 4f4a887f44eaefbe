package model

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"time"
)

// Exchange is one query to one server address and everything that came back,
// as raw bytes. It is the evidence behind every finding.
type Exchange struct {
	Server netip.AddrPort
	// Source is the local address and port the last attempt was sent
	// from, read from the socket, so a provider can find the query in its
	// logs and a pcap shows the real client; zero when no socket was opened.
	Source    netip.AddrPort
	Transport Transport
	Query     []byte    // the last query sent (each attempt has a fresh ID)
	Reply     []byte    // the accepted reply; nil when none was accepted
	Start     time.Time // when the last attempt was sent
	RTT       time.Duration
	Attempts  int // queries sent
	Timeouts  int // attempts that got no acceptable reply in time
	// Earlier are the attempts before the last one, in order; each timed
	// out. A provider asked about a timeout wants every query's time and ID.
	Earlier []Attempt
	// Rejected holds datagrams that arrived from the server but did not
	// answer the query (wrong ID or another question), at most
	// maxRejectedKept of them; RejectedCount counts all.
	Rejected      [][]byte
	RejectedCount int
	Err           error // nil when Reply is set
}

// Attempt is one query of an Exchange that was sent and timed out. Its
// bytes are the Exchange's Query but for the ID (see QueryOf).
type Attempt struct {
	ID     uint16
	Source netip.AddrPort // the local address and port it was sent from
	Start  time.Time
	Waited time.Duration // how long the reply was waited for
}

// QueryOf returns the bytes an earlier attempt sent.
func (ex *Exchange) QueryOf(a Attempt) []byte {
	q := slices.Clone(ex.Query)
	if len(q) >= 2 {
		binary.BigEndian.PutUint16(q, a.ID)
	}
	return q
}
