package report

import (
	"slices"
	"strings"
	"unicode"

	"github.com/caaprobe/caaprobe/probes/model"
)

// Text from servers and from saved JSON (probes/runs reads it back) is not
// trusted: an escape sequence in a finding code, a name or a detail would
// reach the terminal (clear the screen, retitle the window) or the HTML
// page. Every renderer (the table, Markdown, HTML, the provider view, the
// diff and the perspectives) passes what it prints through Clean, one
// string at a time or the whole domain at once with CleanDomain.

// CleanText is Clean for text of several lines: each line is cleaned, the
// newlines are kept, and a tab becomes a space.
func CleanText(s string) string {
	if !strings.ContainsAny(s, "\n\t") {
		return Clean(s)
	}
	lines := strings.Split(strings.ReplaceAll(s, "\t", " "), "\n")
	for i, l := range lines {
		lines[i] = Clean(l)
	}
	return strings.Join(lines, "\n")
}

// CleanDomain returns d with every string a renderer prints cleaned
// (CleanText): names, sources, codes, probe IDs, statuses, details,
// errors, the policy, the explanation and the --resolver's answers. The
// raw replies are left as they are: they are printed only through the
// DNS library's presentation format, which escapes every byte that is
// not printable. d itself is not changed; a d with nothing to clean is
// returned as it is.
func CleanDomain(d *model.Domain) *model.Domain {
	if d == nil || domainClean(d) {
		return d
	}
	c := *d
	c.Domain, c.Source, c.Explanation, c.Err = CleanText(d.Domain), CleanText(d.Source), CleanText(d.Explanation), CleanText(d.Err)
	c.Verdict, c.Outcome = model.Verdict(CleanText(string(d.Verdict))), model.Outcome(CleanText(string(d.Outcome)))
	c.Names = nil
	for _, n := range d.Names {
		cn := *n
		// A DomainName is printable ASCII by construction: nothing to clean.
		cn.Err, cn.DNSSEC = CleanText(n.Err), model.DNSSECStatus(CleanText(string(n.DNSSEC)))
		cn.Outcome = model.Outcome(CleanText(string(n.Outcome)))
		cn.Failing, cn.Working = cleanRefs(n.Failing), cleanRefs(n.Working)
		c.Names = append(c.Names, &cn)
	}
	results := map[*model.Result]*model.Result{}
	c.Servers = nil
	for _, s := range d.Servers {
		cs := *s
		cs.NS = CleanText(s.NS)
		cs.Results = nil
		for _, r := range s.Results {
			cr := cleanResult(r)
			results[r] = cr
			cs.Results = append(cs.Results, cr)
		}
		c.Servers = append(c.Servers, &cs)
	}
	c.Findings = cleanFindings(d.Findings, results)
	c.ZoneFindings = cleanFindings(d.ZoneFindings, results)
	if p := d.Policy; p != nil {
		c.Policy = &model.Policy{CA: CleanText(p.CA), Name: CleanText(p.Name), Issue: model.Permission(CleanText(string(p.Issue))), Wildcard: model.Permission(CleanText(string(p.Wildcard))),
			Relevant: CleanText(p.Relevant), Reason: CleanText(p.Reason)}
	}
	c.Resolver = nil
	for _, rc := range d.Resolver {
		crc := rc
		crc.Name, crc.Rcode, crc.Err, crc.Predicted = CleanText(rc.Name), CleanText(rc.Rcode), CleanText(rc.Err), CleanText(rc.Predicted)
		crc.EDE = nil
		for _, e := range rc.EDE {
			crc.EDE = append(crc.EDE, model.EDE{Code: e.Code, Text: CleanText(e.Text)})
		}
		c.Resolver = append(c.Resolver, crc)
	}
	if rep := d.Repeat; rep != nil {
		cr := *rep
		cr.Faults = nil
		for _, f := range rep.Faults {
			cf := f
			cf.Server, cf.Zone, cf.Name, cf.Detail = cleanRef(f.Server), CleanText(f.Zone), CleanText(f.Name), CleanText(f.Detail)
			cf.Code, cf.Probe = model.Code(CleanText(string(f.Code))), model.ProbeID(CleanText(string(f.Probe)))
			if f.Result != nil {
				cf.Result = cleanResult(f.Result)
			}
			cr.Faults = append(cr.Faults, cf)
		}
		c.Repeat = &cr
	}
	return &c
}

// CleanVantage returns v with its label, host and sources cleaned.
func CleanVantage(v model.Vantage) model.Vantage {
	return model.Vantage{Label: CleanText(v.Label), Host: CleanText(v.Host), Sources: cleanAll(v.Sources), RIR: CleanText(v.RIR)}
}

// CleanRun returns run with its version, command and vantage cleaned.
func CleanRun(run *model.Run) *model.Run {
	if run == nil {
		return nil
	}
	c := *run
	c.Version, c.Command = CleanText(run.Version), cleanAll(run.Command)
	if run.Vantage != nil {
		v := CleanVantage(*run.Vantage)
		c.Vantage = &v
	}
	return &c
}

func cleanResult(r *model.Result) *model.Result {
	if r == nil {
		return nil
	}
	cr := *r
	cr.Probe, cr.QName, cr.Status = model.ProbeID(CleanText(string(r.Probe))), CleanText(r.QName), model.Status(CleanText(string(r.Status)))
	cr.Issues = nil
	for _, is := range r.Issues {
		cr.Issues = append(cr.Issues, model.Issue{Code: model.Code(CleanText(string(is.Code))), Detail: CleanText(is.Detail)})
	}
	return &cr
}

func cleanFindings(fs []model.Finding, results map[*model.Result]*model.Result) []model.Finding {
	if fs == nil {
		return nil
	}
	out := make([]model.Finding, len(fs))
	for i, f := range fs {
		out[i] = model.Finding{Code: model.Code(CleanText(string(f.Code))), Severity: model.Severity(CleanText(string(f.Severity))),
			Name: CleanText(f.Name), Zone: CleanText(f.Zone), Server: cleanRef(f.Server),
			Probe: model.ProbeID(CleanText(string(f.Probe))), Detail: CleanText(f.Detail), Result: f.Result}
		if r, ok := results[f.Result]; ok {
			out[i].Result = r
		} else if f.Result != nil {
			out[i].Result = cleanResult(f.Result)
		}
	}
	return out
}

func cleanAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = CleanText(s)
	}
	return out
}

func cleanRefs(refs []model.ServerRef) []model.ServerRef {
	if refs == nil {
		return nil
	}
	out := make([]model.ServerRef, len(refs))
	for i, r := range refs {
		out[i] = cleanRef(r)
	}
	return out
}

// cleanRef cleans a server's names; the address is an address.
func cleanRef(r model.ServerRef) model.ServerRef {
	r.NS, r.Instance = CleanText(r.NS), CleanText(r.Instance)
	return r
}

func refClean(r model.ServerRef) bool {
	return clean(r.NS) && clean(r.Instance)
}

// clean reports whether s needs no cleaning (CleanText(s) == s): no tab,
// and nothing but newlines that Clean would escape.
func clean(s string) bool {
	for _, r := range s {
		if r == '\t' || r != '\n' && (!unicode.IsPrint(r) || r == unicode.ReplacementChar) {
			return false
		}
	}
	return true
}

// domainClean reports whether every string CleanDomain cleans is clean
// already, so the domain need not be copied (the common case).
func domainClean(d *model.Domain) bool {
	ok := clean(d.Domain) && clean(d.Source) && clean(d.Explanation) && clean(d.Err) && clean(string(d.Verdict)) && clean(string(d.Outcome))
	for _, n := range d.Names {
		ok = ok && clean(n.Err) && clean(string(n.DNSSEC)) &&
			clean(string(n.Outcome)) && allClean(n.Failing) && allClean(n.Working)
	}
	for _, s := range d.Servers {
		ok = ok && clean(s.NS)
		for _, r := range s.Results {
			ok = ok && resultClean(r)
		}
	}
	for _, fs := range [][]model.Finding{d.Findings, d.ZoneFindings} {
		for _, f := range fs {
			ok = ok && clean(string(f.Code)) && clean(string(f.Severity)) && clean(f.Name) && clean(f.Zone) && refClean(f.Server) &&
				clean(string(f.Probe)) && clean(f.Detail) && resultClean(f.Result)
		}
	}
	if p := d.Policy; p != nil {
		ok = ok && clean(p.CA) && clean(p.Name) && clean(string(p.Issue)) && clean(string(p.Wildcard)) && clean(p.Relevant) && clean(p.Reason)
	}
	if d.Repeat != nil {
		for _, f := range d.Repeat.Faults {
			ok = ok && refClean(f.Server) && clean(f.Zone) && clean(f.Name) && clean(f.Detail) && clean(string(f.Code)) &&
				clean(string(f.Probe)) && resultClean(f.Result)
		}
	}
	for _, rc := range d.Resolver {
		ok = ok && clean(rc.Name) && clean(rc.Rcode) && clean(rc.Err) && clean(rc.Predicted)
		for _, e := range rc.EDE {
			ok = ok && clean(e.Text)
		}
	}
	return ok
}

func resultClean(r *model.Result) bool {
	if r == nil {
		return true
	}
	ok := clean(string(r.Probe)) && clean(r.QName) && clean(string(r.Status))
	for _, is := range r.Issues {
		ok = ok && clean(string(is.Code)) && clean(is.Detail)
	}
	return ok
}

func allClean(refs []model.ServerRef) bool {
	return !slices.ContainsFunc(refs, func(r model.ServerRef) bool { return !refClean(r) })
}

// MarkdownCell makes text safe inside a Markdown table cell: cleaned, on
// one line, with every character that would start markup escaped.
func MarkdownCell(s string) string {
	return markdownCell.Replace(Clean(s))
}

var markdownCell = strings.NewReplacer("|", "\\|", "\n", " ", "`", "\\`", "<", "&lt;", ">", "&gt;", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]")

// MarkdownFence is a code fence longer than any run of backticks in body,
// so bytes from a server (or a CA's message) cannot close the block early.
func MarkdownFence(body string) string {
	longest, run := 0, 0
	for i := 0; i < len(body); i++ {
		if body[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// MarkdownInline escapes text for running Markdown prose and table cells:
// what would start emphasis, a link or image, code, HTML or an entity, a
// heading or a cell is backslash-escaped; line breaks become spaces.
func MarkdownInline(s string) string {
	s = CleanText(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			b.WriteByte(' ')
		case strings.ContainsRune("\\`*_[]<>|#!&", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
