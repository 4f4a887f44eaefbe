package report

import (
	"fmt"
	"strings"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/fatih/color"
)

// writeResolver prints one line per relevant name with the resolver's
// answer, flagging where it contradicts the predicted outcome.
func writeResolver(b *strings.Builder, d *model.Domain, p painter, width int) {
	for _, c := range d.Resolver {
		ws := words(fmt.Sprintf("resolver %s: %s CAA: %s", c.Server, Clean(model.TrimDot(c.Name)), Clean(c.Summary())))
		switch {
		case c.Rcode == "":
			ws = append(ws, words("(no comparison: the resolver did not answer)")...)
		case c.Agrees:
			ws = append(ws, words("(as predicted)")...)
		default:
			text := fmt.Sprintf("(caaprobe predicted %s)", c.Predicted)
			ws = append(ws, painted(text, p.paint(color.FgRed, text)))
		}
		b.WriteString(wrapWords(ws, width, "  ", "    "))
	}
}
