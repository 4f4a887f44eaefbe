package report

import (
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
)

// This file is the conformance side of the terminal report: which server
// instance answered (NSID, RFC 5001, and CH TXT hostname.bind/id.server),
// and the second matrix of the conformance probes (sets edns and id), kept
// apart so the default matrix stays as narrow as the CAA probes.

// CoreColumns are the matrix columns of the core probes (no set): the
// default matrix.
func CoreColumns(d *model.Domain) []model.ProbeID {
	return columnsWhere(d, func(p catalog.Probe) bool { return !p.Conformance() })
}

// ConformanceColumns are the columns of the conformance probes (sets edns
// and id) that were sent: the second matrix.
func ConformanceColumns(d *model.Domain) []model.ProbeID {
	return columnsWhere(d, func(p catalog.Probe) bool { return p.Conformance() })
}

func columnsWhere(d *model.Domain, keep func(catalog.Probe) bool) []model.ProbeID {
	var out []model.ProbeID
	for _, id := range Columns(d) {
		if p, ok := catalog.ProbeByID(id); ok && keep(p) {
			out = append(out, id)
		}
	}
	return out
}

// Identity returns the TXT answer of the instance probes (hostname.bind,
// id.server) as "hostname.bind lhr-1", joined; "" when the server gave
// none.
func Identity(s *model.Server) string {
	var parts []string
	for _, id := range []model.ProbeID{catalog.ProbeIDHostname, catalog.ProbeIDServer} {
		for _, r := range s.Results {
			if r.Probe != id {
				continue
			}
			for _, rr := range r.Records {
				if t, ok := rr.(*dns.TXT); ok && len(t.Txt) > 0 {
					p, _ := catalog.ProbeByID(id)
					addPart(&parts, model.TrimDot(p.QName)+" "+strings.Join(t.Txt, " "))
				}
			}
		}
	}
	return strings.Join(parts, ", ")
}

func addPart(parts *[]string, s string) {
	if !slices.Contains(*parts, s) {
		*parts = append(*parts, s)
	}
}

// InstanceNote says which instance answered the server's probes, for a
// footnote per address: "answered by instance lhr-1 (NSID 6c68722d31);
// hostname.bind lhr-1". Several instances are listed in the order seen
// (the anycast case). "" when the server names none.
func InstanceNote(s *model.Server) string {
	var ids []string
	for _, r := range s.Results {
		nsid := r.NSID
		if nsid == nil {
			nsid = model.NSIDOf(r.Msg)
		}
		if nsid == nil {
			continue
		}
		text := model.InstanceName(nsid)
		if h := hex.EncodeToString(nsid); h != text {
			text += " (NSID " + h + ")"
		}
		addPart(&ids, text)
	}
	var parts []string
	if len(ids) == 1 {
		parts = append(parts, "answered by instance "+ids[0])
	} else if len(ids) > 1 {
		parts = append(parts, "answered by instances "+strings.Join(ids, ", "))
	}
	if id := Identity(s); id != "" {
		parts = append(parts, id)
	}
	return strings.Join(parts, "; ")
}

// writeInstances prints one footnote line per server address that named
// its instance, wrapped to width.
func writeInstances(w io.Writer, d *model.Domain, width int) {
	for _, s := range d.Servers {
		if note := InstanceNote(s); note != "" {
			io.WriteString(w, wrapText(fmt.Sprintf("%s: %s", Clean(s.Ref().String()), Clean(note)), width, "  ", "    "))
		}
	}
}

// writeConformance prints the second matrix: one row per relevant name
// and server address that was sent a conformance probe, one column per
// conformance probe, laid out like the first (a grid, or one line per
// server when the grid is wider than the terminal). Parent names that pass
// are left out, as in the first matrix.
func writeConformance(w io.Writer, d *model.Domain, p painter, width int, onlyFailing bool) error {
	cols := ConformanceColumns(d)
	if len(cols) == 0 {
		return nil
	}
	all, _ := matrixRows(d, cols, onlyFailing)
	var rows []row
	for _, r := range all {
		if slices.ContainsFunc(r.cells, func(c *model.Result) bool { return c != nil }) {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	io.WriteString(w, wrapText("conformance (caaprobe probes: sets edns, id):", width, "  ", "    "))
	if width > 0 && gridWidth(rows, cols) > width {
		_, err := io.WriteString(w, listTable(rows, cols, p, width))
		return err
	}
	grid, err := gridTable(rows, cols, p)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, grid)
	return err
}
