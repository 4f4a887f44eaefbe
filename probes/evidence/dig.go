package evidence

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// DigCommand returns a dig command line that sends the same query as
// ex.Query: the name with its exact casing, the same header flags, the
// same EDNS version, DO bit and buffer size (or no OPT at all), the same
// transport, to the same address and port. Only the ID differs, as it does
// between any two queries.
//
// dig adds things caaprobe does not send unless told not to: the AD flag
// and, with EDNS, a COOKIE option (RFC 7873), so the command says
// +noadflag and +nocookie.
func DigCommand(ex *model.Exchange) string {
	q := ex.Query
	wq, _, err := wire.ParseQuestion(q)
	if err != nil {
		return "# no dig command: the query's question does not parse: " + err.Error()
	}
	args := []string{"dig", "@" + ex.Server.Addr().WithZone("").String()}
	if p := ex.Server.Port(); p != 53 && p != 0 {
		args = append(args, "-p", strconv.Itoa(int(p)))
	}
	flags := binary.BigEndian.Uint16(q[2:])
	if flags&(1<<8) != 0 {
		args = append(args, "+rec")
	} else {
		args = append(args, "+norec")
	}
	if flags&(1<<5) != 0 {
		args = append(args, "+adflag")
	} else {
		args = append(args, "+noadflag")
	}
	if flags&(1<<4) != 0 {
		args = append(args, "+cdflag")
	}
	var m dns.Msg
	if err := m.Unpack(q); err != nil {
		return "# no dig command: the query does not parse: " + err.Error()
	}
	if opt := m.IsEdns0(); opt == nil {
		args = append(args, "+noedns")
	} else {
		// +dnssec alone implies EDNS version 0; any other case names it.
		if v := opt.Version(); opt.Do() && v == 0 {
			args = append(args, "+dnssec")
		} else if opt.Do() {
			args = append(args, "+edns="+strconv.Itoa(int(v)), "+dnssec")
		} else {
			args = append(args, "+edns="+strconv.Itoa(int(v)), "+nodnssec")
		}
		if opt.Version() != 0 {
			// dig would retry with version 0 after BADVERS.
			args = append(args, "+noednsneg")
		}
		cookie := "+nocookie"
		var extra []string
		for _, o := range opt.Option {
			switch o := o.(type) {
			case *dns.EDNS0_NSID:
				extra = append(extra, "+nsid")
			case *dns.EDNS0_COOKIE:
				cookie = "+cookie=" + o.Cookie
			case *dns.EDNS0_LOCAL:
				extra = append(extra, fmt.Sprintf("+ednsopt=%d:%x", o.Code, o.Data))
			default:
				extra = append(extra, fmt.Sprintf("+ednsopt=%d", o.Option()))
			}
		}
		args = append(args, cookie, fmt.Sprintf("+bufsize=%d", opt.UDPSize()))
		if z := uint16(opt.Hdr.Ttl) &^ 0x8000; z != 0 {
			args = append(args, fmt.Sprintf("+ednsflags=0x%04x", z))
		}
		args = append(args, extra...)
	}
	if m.Opcode != dns.OpcodeQuery {
		args = append(args, fmt.Sprintf("+opcode=%d", m.Opcode))
	}
	if ex.Transport == model.TCP {
		args = append(args, "+tcp")
	}
	args = append(args, shellQuote(string(wq.Name)), catalog.TypeString(wq.Type))
	if wq.Class != dns.ClassINET {
		args = append(args, classText(wq.Class))
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it holds anything beyond
// letters, digits, dots, hyphens and underscores.
func shellQuote(s string) string {
	safe := true
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			safe = false
			break
		}
	}
	if safe && s != "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
