package serve

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds a browser for TestServeInBrowser, or skips (fails in CI,
// as the HTML report's browser test does).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH; CI=true, so this is a failure")
	}
	t.Skip("no chromium on PATH: the serve browser test needs it")
	return ""
}

// TestServeInBrowser drives the site in headless chromium with no script
// of ours: the lab's names submitted through the form, the progress page
// (the run held so it is seen), its reload into the result page, a second
// run from the page's "check these names again" after flip.test's server
// turned to NOTIMP, the domain's history showing the change, and the
// evidence link downloaded. Screenshots go to $CAAPROBE_ARTEFACTS (default
// a temporary directory).
func TestServeInBrowser(t *testing.T) {
	t.Parallel()
	exe := chromium(t)
	h := newHarness(t, func(o *Options) { o.Suggest = []string{"ok.test", "notimp.test", "flip.test", "markup.test"} })
	shots := os.Getenv("CAAPROBE_ARTEFACTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1300, 900), chromedp.UserDataDir(t.TempDir()))
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	b, cancelB := chromedp.NewContext(alloc)
	defer cancelB()
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(b, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, "serve-"+name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(b, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(b, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	hold := make(chan struct{})
	h.lab.hold.Store(&hold)
	do("the form", chromedp.Navigate(h.ts.URL+"/"), chromedp.WaitReady(chromedp.CSS("#names")))
	shot("form")
	do("submitting", chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitReady(chromedp.CSS("#state")))
	progress, url := eval(`document.querySelector("#state").textContent`), eval(`location.href`)
	shot("progress")
	if !strings.Contains(progress, "of 4 names checked") || !strings.Contains(url, "/r/") {
		t.Fatalf("progress page %s: %q", url, progress)
	}
	h.lab.hold.Store(nil)
	close(hold)
	// The page reloads itself into the report.
	do("the result", chromedp.WaitReady(chromedp.CSS("section.domain")))
	report := eval(`document.body.textContent`)
	shot("result")
	if !strings.Contains(report, "rcode-notimp") || !strings.Contains(report, "<script>alert(1)</script>") {
		t.Errorf("result page: no notimp finding, or the server's markup not shown as text")
	}
	if n := eval(`String(document.querySelectorAll("script").length)`); n != "0" {
		t.Errorf("%s script elements on the result page", n)
	}
	evidence := eval(`document.querySelector("#evidence").getAttribute("href")`)
	h.lab.flip.Store(true)
	do("running again", chromedp.Click(chromedp.CSS("#again")), chromedp.WaitReady(chromedp.CSS("#submit")),
		chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitReady(chromedp.CSS("section.domain")))
	do("the history", chromedp.Click(chromedp.CSS(`a.history[href="/d/flip.test"]`)), chromedp.WaitReady(chromedp.CSS("#history")))
	history := eval(`document.querySelector("#history").textContent`)
	shot("history")
	if !strings.Contains(history, "newly-failing") {
		t.Errorf("history page: no newly-failing change:\n%s", history)
	}
	ok := strings.HasPrefix(evidence, "/r/")
	// The evidence link, fetched as the browser's download would be.
	resp, err := http.Get(h.ts.URL + evidence)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	files := untar(t, body)
	found := false
	for name := range files {
		found = found || strings.HasSuffix(name, "/notimp.test/exchanges.pcap")
	}
	if !ok || !found {
		t.Errorf("evidence %q: no notimp.test pcap in %v", evidence, keys(files))
	}
	t.Logf("screenshots in %s", shots)
}
