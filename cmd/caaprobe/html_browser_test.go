package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium (or a Chrome) for the browser test.
// Missing, the test skips with a message, but fails in CI (CI=true), where
// .ci/run installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium on PATH: the HTML report's browser test needs it (apt-get install chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true, so this is a failure (.ci/run installs chromium)")
	}
	t.Skip(msg)
	return ""
}

// TestHTMLReportInBrowser opens the demo's HTML report in headless
// chromium: it loads with no console error, every link of the summary
// scrolls to its domain's section (each followed in the page, a spread of
// them clicked with the mouse), failing cells are marked (a symbol and
// the finding's mark, not colour alone), and a screenshot of the page is
// written to out/ for people to look at.
func TestHTMLReportInBrowser(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)
	// The demo's run (shared with the other tests of saved runs) rendered
	// as demo --format html --summary writes it: the same sink.
	html := demoHTML(t)
	out, err := filepath.Abs(filepath.Join("..", "..", "out"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(out, "demo-report.html")
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1400, 1000), chromedp.UserDataDir(t.TempDir()))
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()

	var mu sync.Mutex
	var problems []string
	if err := chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert || e.Type == runtime.ConsoleAPICalledTypeWarning {
				problems = append(problems, fmt.Sprintf("console.%s", e.Type))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
				problems = append(problems, fmt.Sprintf("log %s: %s %s", e.Entry.Level, e.Entry.Text, e.Entry.URL))
			}
		}
	}); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	if _, err := chromedp.Call(bctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+page), chromedp.WaitReady(chromedp.CSS("section.domain"))); err != nil {
		t.Fatal(err)
	}

	// Every link of the summary table scrolls its section to the top of
	// the window (or, for the last sections, as far as the page goes).
	ids, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('table.summary a')].map(a => a.getAttribute('href').slice(1))`))
	if err != nil {
		t.Fatal(err)
	}
	sections, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('section.domain').length`))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) < 40 || len(ids) != sections {
		t.Fatalf("%d summary links for %d sections", len(ids), sections)
	}
	// Each link is followed in the page (HTMLElement.click, one evaluation
	// for all of them) and its section's place read at once; a spread of
	// them is also clicked with the mouse, as a reader does, which also
	// proves that nothing covers the summary's links.
	type place struct {
		ID                       string
		Top, ScrollY, Max, Inner float64
		Hash                     string
	}
	const measure = `(id) => { const r = document.getElementById(id).getBoundingClientRect();
		return {ID: id, Top: r.top, ScrollY: window.scrollY, Max: document.documentElement.scrollHeight - window.innerHeight, Inner: window.innerHeight, Hash: location.hash}; }`
	checkPlace := func(how string, p place) {
		atTop := p.Top >= 0 && p.Top < 20
		atEnd := p.ScrollY >= p.Max-1 && p.Top >= 0 && p.Top < p.Inner
		if p.Hash != "#"+p.ID || !(atTop || atEnd) || p.ScrollY == 0 {
			t.Errorf("%s link to %s: hash %q, section at %.0f px, scrolled %.0f of %.0f", how, p.ID, p.Hash, p.Top, p.ScrollY, p.Max)
		}
	}
	followed, err := chromedp.Run(bctx, chromedp.Evaluate[[]place](`(() => { const measure = `+measure+`;
		return [...document.querySelectorAll('table.summary a')].map(a => { window.scrollTo(0, 0); a.click(); return measure(a.getAttribute('href').slice(1)); }); })()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(followed) != len(ids) {
		t.Fatalf("followed %d links of %d", len(followed), len(ids))
	}
	for _, p := range followed {
		checkPlace("followed", p)
	}
	for i := 0; i < len(ids); i += max(1, len(ids)/8) {
		for _, id := range []string{ids[i], ids[len(ids)-1-i]} {
			if err := chromedp.Do(bctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`),
				chromedp.Click(chromedp.CSS(fmt.Sprintf(`table.summary a[href="#%s"]`, id)))); err != nil {
				t.Fatalf("clicking %s: %v", id, err)
			}
			p, err := chromedp.Run(bctx, chromedp.Evaluate[place](fmt.Sprintf(`(`+measure+`)(%q)`, id)))
			if err != nil {
				t.Fatal(err)
			}
			checkPlace("clicked", p)
		}
	}

	// Failing cells carry the fail class, a ✗ and the finding's mark, and
	// a background other than a passing cell's.
	type cells struct {
		Fail, Marked, NotimpNI int
		FailBG, OKBG           string
	}
	c, err := chromedp.Run(bctx, chromedp.Evaluate[cells](`(() => {
		const fail = [...document.querySelectorAll('table.matrix td.cell.fail')];
		const ok = document.querySelector('table.matrix td.cell.plain');
		const notimp = [...document.querySelectorAll('section[id$="-notimp.test"] table.matrix td.cell.fail')].filter(td => /NOTIMP/.test(td.textContent));
		return {Fail: fail.length, Marked: fail.filter(td => td.textContent.trim().startsWith('✗')).length, NotimpNI: notimp.length,
			FailBG: getComputedStyle(fail[0]).backgroundColor, OKBG: getComputedStyle(ok).backgroundColor};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Fail < 50 || c.Marked != c.Fail || c.NotimpNI < 4 || c.FailBG == c.OKBG {
		t.Errorf("failing cells: %+v", c)
	}

	if err := chromedp.Do(bctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "demo-report.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"notimp.test", "split.test"} {
		png, err := chromedp.Run(bctx, chromedp.Screenshot(chromedp.CSS(fmt.Sprintf(`section[id$="-%s"]`, name))))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, "demo-report-"+strings.TrimSuffix(name, ".test")+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The same run as if from three vantage points: the page gains the
	// multi-perspective view, and every in-page link on it resolves. A
	// quarter of the demo's domains, every fourth, passing and failing:
	// the page's structure is the same for each, and reading three full
	// copies of the run under the race detector took 10 s.
	part := demoPart(t, 4)
	var files []string
	for _, v := range []string{"fra", "ams", "nyc"} {
		files = append(files, writeFile(t, v+".jsonl", bytes.ReplaceAll(part, []byte(`"label":"lab-a"`), []byte(`"label":"`+v+`"`))))
	}
	mpic, stderr, _ := runCmd(t, append([]string{"report", "--format", "html", "--primary", "fra"}, files...)...)
	if !strings.Contains(mpic, `id="perspectives"`) {
		t.Fatalf("no perspectives view from 3 vantages: %s", stderr)
	}
	mpicPage := filepath.Join(out, "perspectives-report.html")
	if err := os.WriteFile(mpicPage, []byte(mpic), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+mpicPage), chromedp.WaitReady(chromedp.CSS("#perspectives"))); err != nil {
		t.Fatal(err)
	}
	dangling, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href').slice(1)).filter(id => !document.getElementById(id))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(dangling) > 0 {
		t.Errorf("links to no element: %v", dangling)
	}
	png, err = chromedp.Run(bctx, chromedp.Screenshot(chromedp.CSS("table.mpic-overview")))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "perspectives-report.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the page logged problems: %v", problems)
	}
	t.Logf("screenshots in %s", out)
}
