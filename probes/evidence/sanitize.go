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

// cell escapes text for one Markdown table cell.
func cell(s string) string {
	s = sanitize(s)
	s = strings.ReplaceAll(s, "\\", "\\\\")
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "\n", " ")
	return s
}
