package report

import (
	"fmt"
	"strings"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/fatih/color"
)

type JSONResolver struct {
	Name      string  `json:"name"`
	Server    string  `json:"server"`
	Rcode     string  `json:"rcode"`
	AD        bool    `json:"ad"`
	EDECode   *uint16 `json:"ede_code"` // null when the resolver sent no EDE
	EDEText   string  `json:"ede_text"`
	Records   int     `json:"caa_records"`
	Error     string  `json:"error,omitempty"`
	Predicted string  `json:"predicted"`
	Agrees    bool    `json:"agrees"`
}

func resolverJSON(d *model.Domain) []JSONResolver {
	var out []JSONResolver
	for _, c := range d.Resolver {
		j := JSONResolver{Name: model.TrimDot(c.Name), Server: c.Server.String(), Rcode: c.Rcode, AD: c.AD,
			Records: c.Records, Error: c.Err, Predicted: c.Predicted, Agrees: c.Agrees}
		if len(c.EDE) > 0 {
			// The first EDE is the resolver's main reason; the text of every
			// one is kept so none is lost.
			code := c.EDE[0].Code
			j.EDECode = &code
			j.EDEText = c.EDE[0].Text
			for _, e := range c.EDE[1:] {
				j.EDEText += fmt.Sprintf("; EDE %d: %s", e.Code, e.Text)
			}
		}
		out = append(out, j)
	}
	return out
}

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
