package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/fixtures"
	"golang.org/x/net/html"
)

// hostileMessage is a CA message about notimp.test carrying markup and a
// Markdown injection (a line that would close a three-backtick fence, a
// heading, a link) and a terminal escape: the user's or the CA's text,
// which must reach every format as text.
const hostileMessage = "DNS problem: SERVFAIL looking up CAA for notimp.test - the domain's nameservers may be malfunctioning <script>alert(1)</script>\x1b[31m\n" +
	"```\n# Injected heading\n[click](javascript:alert(3)) <img src=x onerror=alert(2)>"

func explainFormat(t *testing.T, lab *fixtures.Lab, args ...string) (string, string, int) {
	t.Helper()
	full := append([]string{"explain", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "1"}, args...)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), full, nil, &stdout, &stderr)
	if err != nil {
		fmt.Fprintf(&stderr, "run: %v\n", err) // what main prints
	}
	return stdout.String(), stderr.String(), exitOf(err)
}

// outsideFences is the Markdown text outside fenced code blocks, and the
// bodies of those blocks; a block closes only at a fence at least as long
// as the one that opened it.
func outsideFences(md string) (prose string, blocks []string) {
	var out, body strings.Builder
	open := ""
	for _, line := range strings.SplitAfter(md, "\n") {
		l := strings.TrimRight(line, "\n")
		ticks := len(l) - len(strings.TrimLeft(l, "`"))
		switch {
		case open == "" && ticks >= 3:
			open = l[:ticks]
		case open != "" && ticks >= len(open) && strings.Trim(l, "`") == "":
			blocks = append(blocks, strings.TrimSuffix(body.String(), "\n"))
			body.Reset()
			open = ""
		case open != "":
			body.WriteString(line)
		default:
			out.WriteString(line)
		}
	}
	return out.String(), blocks
}

// TestExplainMarkdown: --format markdown quotes the message first, in a
// fence it cannot close, control characters escaped; nothing of it is
// live Markdown or HTML outside that fence; the answer names the lab's
// NOTIMP server; the name's evidence report follows.
func TestExplainMarkdown(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	md, stderr, code := explainFormat(t, lab, "--format", "markdown", hostileMessage)
	if code != exitFindings {
		t.Fatalf("exit %d; %s", code, stderr)
	}
	// The explanation is explain's part; the evidence report after it
	// holds the command line, the message with it, in a code span.
	head, rest, ok := strings.Cut(md, "\n---\n\n# CAA evidence for notimp.test\n")
	if !ok {
		t.Fatalf("no evidence report after the explanation:\n%s", md)
	}
	if !strings.HasPrefix(head, "# caaprobe explain\n\n## The message\n\n````text\n") {
		t.Errorf("the message is not quoted first:\n%s", head)
	}
	prose, blocks := outsideFences(head)
	want := strings.ReplaceAll(hostileMessage, "\x1b", `\u001b`)
	if len(blocks) != 1 || blocks[0] != want {
		t.Errorf("fenced blocks %q, want the message %q", blocks, want)
	}
	for _, bad := range []string{"<script", "<img", "\n# Injected", "[click](", "\x1b"} {
		if strings.Contains(prose, bad) {
			t.Errorf("%q is live outside the quoted message:\n%s", bad, prose)
		}
	}
	if strings.Contains(md, "\x1b") {
		t.Errorf("a raw escape reached the output")
	}
	server := labServer(t, lab, "notimp.test")
	if !strings.Contains(prose, "\n### 1. reproduced\n\nreproduced: "+server) || !strings.Contains(prose, "| "+server+" | rcode-notimp | 1/1 | 1 |") {
		t.Errorf("answer or tally missing:\n%s", prose)
	}
	if !strings.Contains(rest, "## What to tell the provider") {
		t.Errorf("the evidence report is incomplete")
	}
}

// TestExplainHTML: --format html is one page with the message quoted at
// the top as text (no element from it), the answer naming the server,
// then check's section of the name.
func TestExplainHTML(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	page, stderr, code := explainFormat(t, lab, "--format", "html", hostileMessage)
	if code != exitFindings {
		t.Fatalf("exit %d; %s", code, stderr)
	}
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var pre, verdict, summary, section *html.Node
	order := map[*html.Node]int{}
	i := 0
	for n := range doc.Descendants() {
		i++
		order[n] = i
		if n.Type != html.ElementNode {
			continue
		}
		if n.Data == "script" || n.Data == "img" {
			t.Errorf("a <%s> element from the message reached the page", n.Data)
		}
		for _, a := range n.Attr {
			switch {
			case a.Key == "class" && a.Val == "message" && pre == nil:
				pre = n
			case a.Key == "class" && a.Val == "explain verdict" && verdict == nil:
				verdict = n
			case a.Key == "id" && a.Val == "summary":
				summary = n
			case a.Key == "class" && a.Val == "domain" && section == nil:
				section = n
			case strings.HasPrefix(a.Key, "on"):
				t.Errorf("an event handler attribute %s reached the page", a.Key)
			}
		}
	}
	if pre == nil || verdict == nil || summary == nil || section == nil {
		t.Fatalf("page parts missing (message %v, verdict %v, summary %v, section %v):\n%s", pre != nil, verdict != nil, summary != nil, section != nil, page)
	}
	if got, want := nodeText(pre), strings.ReplaceAll(hostileMessage, "\x1b", `\u001b`); got != want {
		t.Errorf("quoted message %q, want %q", got, want)
	}
	if !(order[pre] < order[verdict] && order[verdict] < order[summary] && order[summary] < order[section]) {
		t.Errorf("order: message %d, answer %d, summary %d, section %d", order[pre], order[verdict], order[summary], order[section])
	}
	server := labServer(t, lab, "notimp.test")
	if s := nodeText(verdict); !strings.Contains(s, "reproduced: "+server) {
		t.Errorf("answer %q, want the server %s", s, server)
	}
	if strings.Contains(page, "\x1b") {
		t.Errorf("a raw escape reached the page")
	}
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// TestExplainEvidence: --evidence writes the run's message.txt (the
// message as given, byte for byte), the explanation at the top of the
// run's index and of the name's report.md, and the bundle (report, pcap,
// JSON) of the name checked; with --repeat the report carries the tally
// of the tries. A directory that cannot be written is a usage error
// naming it, before any query.
func TestExplainEvidence(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	dir := filepath.Join(t.TempDir(), "ev")
	msg := "While processing CAA for www.notimp.test: DNS problem: SERVFAIL looking up CAA for notimp.test - the domain's nameservers may be malfunctioning\n"
	_, stderr, code := explainFormat(t, lab, "--evidence", dir, "--repeat", "2", msg)
	if code != exitFindings {
		t.Fatalf("exit %d; %s", code, stderr)
	}
	runs, err := filepath.Glob(filepath.Join(dir, "2*"))
	if err != nil || len(runs) != 1 {
		t.Fatalf("run folders %v (%v)", runs, err)
	}
	got, err := os.ReadFile(filepath.Join(runs[0], messageFile))
	if err != nil || string(got) != msg {
		t.Errorf("message.txt %q (%v), want %q", got, err, msg)
	}
	server := labServer(t, lab, "notimp.test")
	index := readFile(t, filepath.Join(runs[0], "index.md"))
	if !strings.HasPrefix(index, "# caaprobe explain\n\n## The message\n") || !strings.Contains(index, "reproduced: "+server) ||
		!strings.Contains(index, "[message.txt](message.txt)") || !strings.Contains(index, "[www.notimp.test/report.md](www.notimp.test/report.md)") {
		t.Errorf("run index:\n%s", index)
	}
	bundle := filepath.Join(runs[0], "www.notimp.test")
	report := readFile(t, filepath.Join(bundle, "report.md"))
	ex, ev, ok := strings.Cut(report, "# CAA evidence for www.notimp.test\n")
	if !ok || !strings.HasPrefix(ex, "# caaprobe explain\n") || !strings.Contains(ex, "reproduced: "+server) {
		t.Errorf("report.md does not start with the explanation:\n%s", report)
	}
	if !strings.Contains(ev, "## Repeated: the same faults in every try\n\n2 tries") {
		t.Errorf("report.md has no tally of the 2 tries:\n%s", ev)
	}
	for _, f := range []string{"exchanges.pcap", "result.json"} {
		if st, err := os.Stat(filepath.Join(bundle, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if top := readFile(t, filepath.Join(dir, "index.md")); !strings.Contains(top, "[message.txt]("+filepath.Base(runs[0])+"/message.txt)") {
		t.Errorf("top index does not link the message:\n%s", top)
	}
	// A regular file where a folder must go: nothing can be created there.
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = explainFormat(t, lab, "--evidence", filepath.Join(blocked, "ev"), msg)
	if code != exitUsage || !strings.Contains(stderr, "--evidence: evidence directory "+filepath.Join(blocked, "ev")) {
		t.Errorf("unwritable --evidence: exit %d, want %d; %s", code, exitUsage, stderr)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
