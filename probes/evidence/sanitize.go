package evidence

import (
	"strings"

	"github.com/caaprobe/caaprobe/probes/report"
)

// sanitize makes text safe to paste and to print: it keeps newlines, turns
// tabs into spaces, and escapes invalid UTF-8 and every other control or
// format character (including bidirectional overrides) as \xNN or \uNNNN
// (report.CleanText: the one cleaning function of every renderer). A
// server controls owner names and RDATA, so everything it sent reaches the
// report through here.
func sanitize(s string) string { return report.CleanText(s) }

// fence returns a Markdown code fence longer than any run of backticks in
// body, so bytes from a server cannot close the block early.
func fence(body string) string {
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

// cell escapes text for one Markdown table cell.
func cell(s string) string {
	s = sanitize(s)
	s = strings.ReplaceAll(s, "\\", "\\\\")
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "\n", " ")
	return s
}

// inline escapes text for running Markdown prose: characters that would
// start emphasis, links, code or HTML are backslash-escaped.
func inline(s string) string {
	s = sanitize(s)
	var b strings.Builder
	for _, r := range s {
		if r == '\n' {
			b.WriteByte(' ')
			continue
		}
		if strings.ContainsRune("\\`*_[]<>|#", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
