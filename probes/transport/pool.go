package transport

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Bounds of the reuse pool (Socket.Reuse). The pool holds only idle
// sockets; each is connected to one server, so a socket only ever carries
// queries to the server it was opened for.
const (
	poolIdleMax       = 256             // idle sockets kept in all
	poolIdlePerServer = 64              // idle sockets kept toward one server
	poolIdleAge       = 2 * time.Second // an idle socket older than this is closed, not reused
)

// DefaultReuse is how many exchanges a bulk run lets one UDP socket carry
// (Socket.Reuse): enough to spread the cost of opening it (at 8, opening
// and closing were still about 8 % of a CAA-only run's CPU; at 32 under
// 3 %), few enough that a source port stays short-lived: at bulk rates a
// socket's 32 exchanges take milliseconds, and an idle one is dropped
// after poolIdleAge.
const DefaultReuse = 32

// pooledUDP is a connected UDP socket and what its reuse must know: its
// source (recorded for every exchange it carries), how many exchanges it
// has carried, the IDs it has sent (a reused socket never repeats one, so
// a late duplicate of an earlier reply can never match a later query),
// and since when it is idle.
type pooledUDP struct {
	conn   *net.UDPConn
	source netip.AddrPort
	used   int
	ids    []uint16
	idle   time.Time
}

// freshID gives q an ID this socket has not sent before.
func (s *pooledUDP) freshID(q []byte) {
	for {
		id := binary.BigEndian.Uint16(q)
		seen := false
		for _, old := range s.ids {
			seen = seen || old == id
		}
		if !seen {
			return
		}
		binary.BigEndian.PutUint16(q, randomID())
	}
}

// udpPool keeps idle UDP sockets by server for Socket.Reuse.
//
// A socket goes back only after an exchange that got its matching reply
// and no other datagram: no reply is pending that a later query could
// read. A server may still send a stray datagram late (a duplicate); the
// next exchange on that socket treats any datagram that is not its own
// reply as possibly the earlier exchange's and starts over on a fresh
// socket (Socket.udp), so a stray never becomes a rejected datagram, an
// id-mismatch or a malformed finding. Each exchange keeps its fresh random
// ID, and a socket carries at most Reuse exchanges and is not kept idle
// for long, so a source port is reused a bounded number of times toward
// one server.
type udpPool struct {
	mu   sync.Mutex
	idle map[netip.AddrPort][]*pooledUDP
	n    int
}

// take returns an idle socket toward server, the most recently used, or
// nil.
func (p *udpPool) take(server netip.AddrPort, now time.Time) *pooledUDP {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.idle[server]
	if len(list) == 0 {
		return nil
	}
	s := list[len(list)-1]
	if now.Sub(s.idle) > poolIdleAge {
		// The newest is too old, so all the older ones are too.
		for _, o := range list {
			o.conn.Close()
		}
		p.n -= len(list)
		delete(p.idle, server)
		return nil
	}
	list[len(list)-1] = nil
	p.n--
	p.set(server, list[:len(list)-1])
	return s
}

func (p *udpPool) set(server netip.AddrPort, list []*pooledUDP) {
	if len(list) == 0 {
		delete(p.idle, server) // the map holds only servers with idle sockets
		return
	}
	p.idle[server] = list
}

// put keeps s for reuse toward server, or closes it when it has carried
// reuse exchanges or the pool is full.
func (p *udpPool) put(server netip.AddrPort, s *pooledUDP, reuse int, now time.Time) {
	if s.used >= reuse {
		s.conn.Close() // outside the lock: closing is a system call or two
		return
	}
	p.mu.Lock()
	if p.n >= poolIdleMax || len(p.idle[server]) >= poolIdlePerServer {
		p.mu.Unlock()
		s.conn.Close()
		return
	}
	if p.idle == nil {
		p.idle = map[netip.AddrPort][]*pooledUDP{}
	}
	s.idle = now
	p.idle[server] = append(p.idle[server], s)
	p.n++
	p.mu.Unlock()
}

// closeAll closes every idle socket and says how many there were.
func (p *udpPool) closeAll() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.n
	for _, list := range p.idle {
		for _, s := range list {
			s.conn.Close()
		}
	}
	p.idle, p.n = nil, 0
	return n
}
