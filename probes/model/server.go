package model

import (
	"net/netip"
	"slices"
)

// ServerRef names one server address: the NS name (without its final
// dot), the address, and, where a prediction tells anycast sites apart,
// the instance (NSID) that answered. It is what Name.Failing, Name.Working
// and a finding hold, so no renderer formats a label and no reader parses
// one back.
type ServerRef struct {
	NS       string
	Addr     netip.Addr // invalid for a finding about an NS name without an address
	Instance string     // the NSID text; "" when not told apart
}

// Ref is the server's reference (no instance).
func (s *Server) Ref() ServerRef {
	return ServerRef{NS: TrimDot(s.NS), Addr: s.Addr}
}

// IsZero reports a reference to no server (a zone-level finding).
func (r ServerRef) IsZero() bool {
	return r == ServerRef{}
}

// String is the label every output uses: "ns (addr)", "ns" without an
// address, and " instance ID" after it when the instance is known.
func (r ServerRef) String() string {
	s := r.NS
	if r.Addr.IsValid() {
		s += " (" + r.Addr.String() + ")"
	}
	if r.Instance != "" {
		s += " instance " + r.Instance
	}
	return s
}

// Labels is each reference's String, in order.
func Labels(refs []ServerRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.String()
	}
	return out
}

// FailingServers is every server whose CAA path fails for some relevant
// name, each once, in the order of the names.
func (d *Domain) FailingServers() []ServerRef {
	var out []ServerRef
	for _, n := range d.Names {
		for _, s := range n.Failing {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// AddrText is the address as text, "" for none (the JSON's "addr").
func (r ServerRef) AddrText() string {
	if !r.Addr.IsValid() {
		return ""
	}
	return r.Addr.String()
}
