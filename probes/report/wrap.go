package report

import (
	"strings"
	"unicode/utf8"
)

// word is one unbreakable piece of a line as printed (text, possibly
// coloured) and its width in columns (of the plain text: colour escapes
// take no room).
type word struct {
	text  string
	width int
}

func plain(s string) word { return word{s, utf8.RuneCountInString(s)} }

// painted is s in colour: the escapes do not count toward the width.
func painted(s, colored string) word { return word{colored, utf8.RuneCountInString(s)} }

// words splits plain text at spaces.
func words(s string) []word {
	var out []word
	for _, f := range strings.Fields(s) {
		out = append(out, plain(f))
	}
	return out
}

// wrapWords lays ws out in lines of at most width columns: the first line
// starts with indent, the others with hang. A word longer than a line is
// cut (a hostile 250-byte name must not break the layout). width 0 means
// one line, however long.
func wrapWords(ws []word, width int, indent, hang string) string {
	var b strings.Builder
	b.WriteString(indent)
	col := utf8.RuneCountInString(indent)
	start := col // column where the current line's text begins
	hangw := utf8.RuneCountInString(hang)
	first := true
	for _, w := range ws {
		if !first {
			if width > 0 && col+1+w.width > width && col > start {
				b.WriteString("\n" + hang)
				col, start = hangw, hangw
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		first = false
		for width > 0 && col+w.width > width && w.text == stripPlain(w) {
			// Cut a plain word that does not fit even on a line of its own.
			room := width - col
			if room < 8 {
				b.WriteString("\n" + hang)
				col, start = hangw, hangw
				room = width - col
			}
			if room < 1 || w.width <= room {
				break
			}
			head, tail := cutRunes(w.text, room)
			b.WriteString(head + "\n" + hang)
			col, start = hangw, hangw
			w = plain(tail)
		}
		b.WriteString(w.text)
		col += w.width
	}
	b.WriteByte('\n')
	return b.String()
}

// stripPlain returns w.text when it holds no colour escape, so only plain
// words are cut (cutting inside an escape would garble the terminal).
func stripPlain(w word) string {
	if strings.Contains(w.text, "\x1b") {
		return ""
	}
	return w.text
}

func cutRunes(s string, n int) (string, string) {
	i := 0
	for j := range s {
		if i == n {
			return s[:j], s[j:]
		}
		i++
	}
	return s, ""
}

// wrapText wraps plain text (see wrapWords).
func wrapText(s string, width int, indent, hang string) string {
	return wrapWords(words(s), width, indent, hang)
}

// Wrap wraps plain text to width columns: the first line starts with
// indent, the others with hang; 0 means no limit. Other renderers of the
// terminal (the provider view) use it to fit the same width as the table.
func Wrap(s string, width int, indent, hang string) string {
	return wrapText(s, width, indent, hang)
}

// DescribeSource says in words where an input entry came from, for a
// reader who did not type the command: "arg 2" is "command line argument
// 2", "names.txt:3" is "names.txt line 3", "cert.pem (SAN 2)" is
// "certificate cert.pem (DNS name 2)". Other text is returned as it is.
func DescribeSource(src string) string {
	if n, ok := strings.CutPrefix(src, "arg "); ok && isDigits(n) {
		return "command line argument " + n
	}
	if path, san, ok := strings.Cut(src, " (SAN "); ok && strings.HasSuffix(san, ")") && isDigits(strings.TrimSuffix(san, ")")) {
		return "certificate " + path + " (DNS name " + strings.TrimSuffix(san, ")") + ")"
	}
	if i := strings.LastIndexByte(src, ':'); i > 0 && isDigits(src[i+1:]) {
		file := src[:i]
		if file == "stdin" {
			file = "standard input"
		}
		return file + " line " + src[i+1:]
	}
	return src
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
