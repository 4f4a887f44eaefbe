package evidence

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// sanitize makes text safe to paste and to print: it keeps newlines, turns
// tabs into spaces, and escapes invalid UTF-8 and every other control or
// format character (including bidirectional overrides) as \xNN or \uNNNN.
// A server controls owner names and RDATA, so everything it sent reaches
// the report through here.
func sanitize(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || (r != '\n' && !unicode.IsPrint(r) && r != ' ') {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case r == '\n' || r == ' ':
			b.WriteRune(r)
		case r == '\t':
			b.WriteByte(' ')
		case !unicode.IsPrint(r) || r == utf8.RuneError:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

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
