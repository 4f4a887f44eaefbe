package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/fatih/color"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// TableOptions controls the terminal renderer.
type TableOptions struct {
	Color bool
	// Width is the terminal's width in columns: the matrix is printed as
	// a grid when it fits, else as one wrapped line per server, and every
	// text line is wrapped to it. 0 means no limit (the grid, lines as
	// long as they come: a file or a pipe).
	Width int
	// OnlyFailing shows only the domains with findings (verdict other than
	// pass) and, of those, only the rows with findings.
	OnlyFailing bool
}

// row is one line of the matrix: one relevant name at one server address.
type row struct {
	name   *model.Name
	server *model.Server // nil for a name whose discovery failed
	cells  []*model.Result
	bad    bool // a result of the row has a warn or fail finding
}

// WriteTable prints the domain's matrix (one row per relevant name and
// server address, one column per probe), its findings in plain words, the
// verdict, the predicted resolver outcome and the policy line. Parent names
// whose every row is as required (the TLD, the root, a parent domain) are
// folded into one line each. Marks are explained in a legend below.
func WriteTable(w io.Writer, d *model.Domain, opt TableOptions) error {
	d = CleanDomain(d) // saved JSON and servers are not trusted (clean.go)
	if opt.OnlyFailing && d.Verdict == model.VerdictPass {
		return nil
	}
	p := painter{on: opt.Color}
	width := opt.Width
	// Two spaces set the domain, the verdict and the outcome apart.
	head := []word{painted(Clean(d.Domain)+" ", p.bold(Clean(d.Domain))+" "), painted(strings.ToUpper(string(d.Verdict))+" ", p.verdict(d.Verdict)+" "),
		plain("resolver"), plain("outcome:"), painted(outcomeWord(d.Outcome), p.outcome(d.Outcome))}
	if d.Source != "" {
		head[len(head)-1].text += " "
		head[len(head)-1].width++
		head = append(head, words("("+Clean(DescribeSource(d.Source))+")")...)
	}
	var b strings.Builder
	b.WriteString(wrapWords(head, width, "", "    "))
	if d.Err != "" {
		b.WriteString(wrapText("error: "+Clean(d.Err), width, "  ", "    "))
		b.WriteString("\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	cols := CoreColumns(d)
	rows, folded := matrixRows(d, cols, opt.OnlyFailing)
	if len(rows) > 0 {
		if width > 0 && gridWidth(rows, cols) > width {
			b.WriteString(listTable(rows, cols, p, width))
		} else {
			grid, err := gridTable(rows, cols, p)
			if err != nil {
				return err
			}
			b.WriteString(grid)
		}
	}
	for _, line := range folded {
		b.WriteString(wrapText(line, width, "  ", "    "))
	}
	writeLegend(&b, rows, width)
	writeInstances(&b, d, width)
	if err := writeConformance(&b, d, p, width, opt.OnlyFailing); err != nil {
		return err
	}
	writeFindings(&b, d, p, width)
	writeRepeat(&b, d, width)
	writeNames(&b, d, p, width)
	writeResolver(&b, d, p, width)
	b.WriteString(wrapText(Clean(d.Explanation), width, "  ", "  "))
	if pol := d.Policy; pol != nil {
		ws := words(fmt.Sprintf("policy for %s: issue", Clean(pol.CA)))
		ws = append(ws, painted(pol.Issue.String()+",", p.policy(pol.Issue)+","), plain("wildcard"), painted(pol.Wildcard.String()+":", p.policy(pol.Wildcard)+":"))
		ws = append(ws, words(Clean(pol.Reason))...)
		b.WriteString(wrapWords(ws, width, "  ", "    "))
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func outcomeWord(o model.Outcome) string {
	if o == model.OutcomeUnknown {
		return "unknown"
	}
	return string(o)
}

// matrixRows are the rows to print, and one line for each parent name
// folded away because all its rows are as required. The checked name
// itself and CNAME targets are never folded.
func matrixRows(d *model.Domain, cols []model.ProbeID, onlyFailing bool) ([]row, []string) {
	var rows []row
	var folded []string
	for i, n := range d.Names {
		var nrows []row
		bad := false
		for _, mr := range d.MatrixRows(n, cols) {
			r := row{name: n, server: mr.Server, cells: mr.Cells}
			for _, res := range r.cells {
				if res != nil && worst(res) != "" && worst(res) != model.SeverityInfo {
					r.bad = true
				}
			}
			bad = bad || r.bad
			nrows = append(nrows, r)
		}
		if n.Err != "" {
			nrows = append(nrows, row{name: n, bad: true})
			bad = true
		}
		if i > 0 && !bad && n.AliasOf.IsZero() && len(nrows) > 0 {
			if !onlyFailing {
				folded = append(folded, foldedLine(n, nrows))
			}
			continue
		}
		for _, r := range nrows {
			if onlyFailing && !r.bad {
				continue
			}
			rows = append(rows, r)
		}
	}
	return rows, folded
}

// foldedLine says in one line that a parent name's servers all answer as
// required.
func foldedLine(n *model.Name, rows []row) string {
	var servers []string
	for _, r := range rows {
		servers = append(servers, Clean(r.server.Ref().String()))
	}
	where := strings.Join(servers, ", ")
	if len(servers) > 3 {
		where = fmt.Sprintf("%s and %d more", strings.Join(servers[:2], ", "), len(servers)-2)
	}
	what := "server answers"
	if len(rows) > 1 {
		what = fmt.Sprintf("%d server addresses answer", len(rows))
	} else {
		what = "1 " + what
	}
	return fmt.Sprintf("%s: %s every probe as required: %s", Clean(n.Name.Display()), what, where)
}

// worst is the worst severity among a result's findings ("" for none).
func worst(r *model.Result) model.Severity {
	sev := model.Severity("")
	for _, is := range r.Issues {
		switch s := catalog.Info(is.Code).Severity; {
		case s == model.SeverityFail:
			return s
		case s == model.SeverityWarn, sev == "":
			sev = s
		}
	}
	return sev
}

func rowLabels(r row) (name, ns, addr string) {
	name = Clean(r.name.Name.Display())
	if r.server == nil {
		return name, "lookup fails", "-"
	}
	ns = Clean(model.TrimDot(r.server.NS))
	if r.server.Pinned {
		ns += " (pinned)"
	}
	return name, ns, r.server.Addr.String()
}

// gridWidth is how wide the grid of tablewriter's renderer is: every
// column's widest cell plus a space each side and a rule.
func gridWidth(rows []row, cols []model.ProbeID) int {
	widths := []int{len("name"), len("server"), len("address")}
	for _, c := range cols {
		widths = append(widths, utf8.RuneCountInString(string(c)))
	}
	for _, r := range rows {
		name, ns, addr := rowLabels(r)
		cells := []string{name, ns, addr}
		for i := range cols {
			cells = append(cells, cellText(r, i))
		}
		for i, c := range cells {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	total := 1
	for _, w := range widths {
		total += w + 3
	}
	return total
}

func cellText(r row, i int) string {
	if r.server == nil || r.cells[i] == nil {
		return "-"
	}
	return Cell(r.cells[i])
}

// gridTable is the matrix as a grid: one column per probe.
func gridTable(rows []row, cols []model.ProbeID, p painter) (string, error) {
	var b strings.Builder
	header := []string{"name", "server", "address"}
	for _, c := range cols {
		header = append(header, string(c))
	}
	t := tablewriter.NewTable(&b,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
	)
	t.Header(toAny(header)...)
	for _, r := range rows {
		name, ns, addr := rowLabels(r)
		line := []string{name, ns, addr}
		for i := range cols {
			if r.server == nil {
				line = append(line, "-")
				continue
			}
			line = append(line, p.cell(r.cells[i]))
		}
		if err := t.Append(toAny(line)...); err != nil {
			return "", err
		}
	}
	if err := t.Render(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// listTable is the matrix for a narrow terminal: each relevant name, then
// one wrapped line per server address with the probes grouped by what
// they got ("NOTIMP: caa, caa-upper; NOERROR: soa, ns").
func listTable(rows []row, cols []model.ProbeID, p painter, width int) string {
	var b strings.Builder
	var last *model.Name
	for _, r := range rows {
		if r.name != last {
			last = r.name
			b.WriteString(wrapText(Clean(r.name.Name.Display()), width, "  ", "    "))
		}
		_, ns, addr := rowLabels(r)
		ws := []word{plain(ns), plain(addr + ":")}
		if r.server == nil {
			ws = append(ws, words(Clean(r.name.Err))...)
			b.WriteString(wrapWords(ws, width, "    ", "        "))
			continue
		}
		type group struct {
			text, painted string
			probes        []string
		}
		var groups []*group
		index := map[string]*group{}
		for i, c := range cols {
			res := r.cells[i]
			if res == nil {
				continue
			}
			text := Cell(res)
			g := index[text]
			if g == nil {
				g = &group{text: text, painted: p.cell(res)}
				index[text] = g
				groups = append(groups, g)
			}
			g.probes = append(g.probes, string(c))
		}
		for gi, g := range groups {
			ws = append(ws, painted(g.text+":", g.painted+":"))
			if len(groups) == 1 && len(g.probes) > 1 {
				ws = append(ws, plain("every probe"))
				break
			}
			for i, id := range g.probes {
				sep := ","
				if i == len(g.probes)-1 {
					sep = ""
					if gi < len(groups)-1 {
						sep = ";"
					}
				}
				ws = append(ws, plain(id+sep))
			}
		}
		b.WriteString(wrapWords(ws, width, "    ", "        "))
	}
	return b.String()
}

// writeLegend explains the marks the printed rows show, once each.
func writeLegend(b *strings.Builder, rows []row, width int) {
	var seen []model.Code
	for _, r := range rows {
		for _, res := range r.cells {
			if res == nil {
				continue
			}
			for _, is := range res.Issues {
				if CellMark(res, is.Code) != "" && !slices.Contains(seen, is.Code) {
					seen = append(seen, is.Code)
				}
			}
		}
	}
	if len(seen) == 0 {
		return
	}
	var parts []string
	for _, c := range seen {
		parts = append(parts, fmt.Sprintf("%s = %s", catalog.Info(c).Mark, c))
	}
	b.WriteString(wrapText("marks: "+strings.Join(parts, "; "), width, "  ", "    "))
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func writeFindings(b *strings.Builder, d *model.Domain, p painter, width int) {
	groups := GroupFindings(d.Findings, true)
	if len(groups) == 0 {
		b.WriteString("  no findings\n")
		return
	}
	for _, g := range groups {
		f := g.Finding
		where := Clean(f.Server.String())
		on := ""
		if len(g.Probes) > 0 {
			on = " [" + strings.Join(g.Probes, ", ") + "]"
		}
		ws := []word{painted(string(f.Severity), p.severity(f.Severity)), plain(fmt.Sprintf("%-26s", f.Code))}
		if width > 0 && width < 100 {
			ws[1] = plain(string(f.Code)) // no padding that would push the rest off the line
		}
		ws = append(ws, words(fmt.Sprintf("%s for %s%s: %s", where, Clean(f.Name), on, Clean(f.Detail)))...)
		b.WriteString(wrapWords(ws, width, "  ", "      "))
	}
}

// writeRepeat says what a repeated check saw over its tries: each fault
// with the tries that showed it, so one seen once in twenty is named.
func writeRepeat(b *strings.Builder, d *model.Domain, width int) {
	rep := d.Repeat
	if rep == nil {
		return
	}
	b.WriteString(wrapText(fmt.Sprintf("%s: %d tries, each with cold caches; %d failed; the matrix above is try %d (the first of the worst)",
		RepeatWords(rep), rep.Tries, rep.Failed, rep.Shown), width, "  ", "    "))
	for _, f := range rep.Faults {
		where := Clean(f.Server.String())
		if where == "" {
			where = Clean(model.TrimDot(f.Zone))
		}
		b.WriteString(wrapText(fmt.Sprintf("%d/%d  %s  %s for %s (first in try %d: %s %s)", f.Seen, rep.Tries, where, f.Code,
			Clean(f.Name), f.First, f.Probe, Clean(f.Detail)), width, "    ", "      "))
	}
}

// RepeatWords is the one-word reading of a repeated check: steady (every
// try alike), intermittent (some tries failed, some did not) or clean.
func RepeatWords(rep *model.Repeat) string {
	switch {
	case rep.Failed == 0:
		return "clean in every try"
	case rep.Failed == rep.Tries && allSeenEveryTime(rep):
		return "the same faults in every try"
	}
	return "intermittent"
}

func allSeenEveryTime(rep *model.Repeat) bool {
	for _, f := range rep.Faults {
		if f.Seen != rep.Tries {
			return false
		}
	}
	return true
}

func writeNames(b *strings.Builder, d *model.Domain, p painter, width int) {
	if len(d.Names) < 2 {
		return
	}
	ws := words("relevant names:")
	for i, n := range d.Names {
		ws = append(ws, plain(Clean(n.Name.Display())))
		sep := ","
		if i == len(d.Names)-1 {
			sep = ""
		}
		word := outcomeWord(n.Outcome)
		if n.Ignored && n.Outcome != model.OutcomeOK {
			// Above the closest RRset: the CA does not read it.
			ws = append(ws, painted(word, p.outcome(n.Outcome)))
			word = "(ignored by the CA)"
			if n.CNAME.IsZero() {
				ws = append(ws, plain(word+sep))
				continue
			}
			ws = append(ws, plain(word))
		} else if n.CNAME.IsZero() {
			ws = append(ws, painted(word+sep, p.outcome(n.Outcome)+sep))
			continue
		} else {
			ws = append(ws, painted(word, p.outcome(n.Outcome)))
		}
		ws = append(ws, plain("->"), plain(Clean(n.CNAME.Display())+sep))
	}
	b.WriteString(wrapWords(ws, width, "  ", "    "))
}

// painter colours by severity; with colour off it prints plain words.
type painter struct{ on bool }

func (p painter) paint(attr color.Attribute, s string) string {
	if !p.on {
		return s
	}
	c := color.New(attr)
	c.EnableColor()
	return c.Sprint(s)
}

func (p painter) bold(s string) string { return p.paint(color.Bold, s) }

func (p painter) verdict(v model.Verdict) string {
	switch v {
	case model.VerdictFail, model.VerdictError:
		return p.paint(color.FgRed, strings.ToUpper(string(v)))
	case model.VerdictWarn:
		return p.paint(color.FgYellow, strings.ToUpper(string(v)))
	}
	return p.paint(color.FgGreen, strings.ToUpper(string(v)))
}

func (p painter) outcome(o model.Outcome) string {
	switch o {
	case model.OutcomeServfail:
		return p.paint(color.FgRed, string(o))
	case model.OutcomeIntermittent:
		return p.paint(color.FgYellow, string(o))
	case model.OutcomeOK:
		return p.paint(color.FgGreen, string(o))
	}
	return "unknown"
}

func (p painter) policy(s model.Permission) string {
	switch s {
	case model.PermissionForbidden, model.PermissionUnknown:
		return p.paint(color.FgRed, s.String())
	case model.PermissionVaries:
		return p.paint(color.FgYellow, s.String())
	}
	return p.paint(color.FgGreen, s.String())
}

func (p painter) severity(s model.Severity) string {
	switch s {
	case model.SeverityFail:
		return p.paint(color.FgRed, "FAIL")
	case model.SeverityInfo:
		return "info"
	}
	return p.paint(color.FgYellow, "warn")
}

// cell is a matrix cell: the status and the marks of its findings.
func (p painter) cell(r *model.Result) string {
	if r == nil {
		return "-"
	}
	text := Cell(r)
	sev := model.Severity("")
	for _, is := range r.Issues {
		if info := catalog.Info(is.Code); info.Severity == model.SeverityFail || sev == "" {
			sev = info.Severity
		}
	}
	switch sev {
	case model.SeverityFail:
		return p.paint(color.FgRed, text)
	case model.SeverityWarn:
		return p.paint(color.FgYellow, text)
	}
	return text
}

// Cell is the text of one matrix cell, in the terminal, the HTML page and
// the Markdown evidence alike: the RCODE, or the status when no reply was
// accepted (timeout, malformed, ...), then the marks of the result's
// findings, each once, comma-separated ("NOERROR noAA,TCPX"). A mark that
// only repeats the status ("NOTIMP" on a NOTIMP reply) is left out.
func Cell(r *model.Result) string {
	text := string(r.Status)
	if r.Rcode < 0 {
		text = strings.ToLower(text)
	}
	var marks []string
	for _, is := range r.Issues {
		if m := CellMark(r, is.Code); m != "" && !slices.Contains(marks, m) {
			marks = append(marks, m)
		}
	}
	if len(marks) > 0 {
		text += " " + strings.Join(marks, ",")
	}
	return text
}

// CellMark is the mark code adds to r's cell: "" when it has none or
// when it only repeats the status.
func CellMark(r *model.Result, code model.Code) string {
	m := catalog.Info(code).Mark
	if strings.EqualFold(m, string(r.Status)) {
		return ""
	}
	return m
}

// Clean makes text from the network safe to print: control characters and
// escape sequences become visible escapes, so a hostile server cannot
// drive the user's terminal.
func Clean(s string) string {
	clean := true
	for _, r := range s {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == unicode.ReplacementChar && len(s) > i && s[i] >= 0x80:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
