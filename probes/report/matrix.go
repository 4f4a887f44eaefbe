package report

import "github.com/caaprobe/caaprobe/probes"

// MatrixRow is one row of the server × probe matrix: a relevant name at one
// server address, with the result of each column's probe (nil where that
// probe was not sent there).
type MatrixRow struct {
	Server *Server
	Cells  []*probes.Result
}

// MatrixRows returns the rows of relevant name n for the columns cols: one
// per server address of n's zone that was probed for n, in the order of
// d.Servers. The terminal table, the Markdown evidence and the HTML page
// all draw their matrix from it.
func (d *Domain) MatrixRows(n *Name, cols []probes.ProbeID) []MatrixRow {
	var out []MatrixRow
	for _, s := range d.Servers {
		if s.Zone != n.Zone || !s.HasName(n.Name) {
			continue
		}
		r := MatrixRow{Server: s}
		for _, c := range cols {
			r.Cells = append(r.Cells, s.result(n.Name, c))
		}
		out = append(out, r)
	}
	return out
}
