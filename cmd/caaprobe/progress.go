package main

import (
	"fmt"
	"io"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/schollz/progressbar/v3"
)

// progress shows a bulk run's progress on stderr: domains done (of the
// total and with the time left, when the total is known), queries a
// second and failures so far. It draws only when
// stderr is a terminal, so logs and pipes get nothing; a nil *progress is
// a valid no-op.
type progress struct {
	bar     *progressbar.ProgressBar
	sent    func() int64 // queries sent so far
	start   time.Time
	failing int
	last    time.Time
	// shared is set when the report goes to the same terminal: the bar
	// is then cleared before each domain is written, and redrawn after.
	shared bool
}

// newProgress returns a progress bar for total domains on w (-1: a count
// of unknown total, for a streamed input), or nil when w is not a terminal
// or the run is too small to need one.
func newProgress(w, report io.Writer, total int, sent func() int64) *progress {
	if total == 0 || total == 1 || !isTerminal(w) {
		return nil
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("checking"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
	return &progress{bar: bar, sent: sent, start: time.Now(), shared: isTerminal(report)}
}

// beforeOutput clears the bar when the report is about to be written to
// the terminal it is drawn on, so the two never share a line.
func (p *progress) beforeOutput() {
	if p != nil && p.shared {
		p.bar.Clear()
	}
}

// done counts one finished domain.
func (p *progress) done(d *model.Domain) {
	if p == nil {
		return
	}
	if d.Verdict == model.VerdictFail || d.Verdict == model.VerdictError {
		p.failing++
	}
	// The description is rebuilt at most a few times a second: it holds
	// rates that need no more.
	if now := time.Now(); now.Sub(p.last) > 250*time.Millisecond {
		p.last = now
		qps := float64(p.sent()) / max(now.Sub(p.start).Seconds(), 0.001)
		p.bar.Describe(fmt.Sprintf("checking  %5.0f q/s  %d failing", qps, p.failing))
	}
	p.bar.Add(1)
}

// finish removes the bar so the report's end is not mixed with it.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.bar.Finish()
	p.bar.Clear()
}
