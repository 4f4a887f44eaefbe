// Package watch is the watch list of `caaprobe serve`: names given inline
// or in a file (re-read when it changes), checked on a schedule with
// jitter. It never sends a query itself: each round hands the whole list
// to an injected check function (in serve, a Checker's Run, so the same
// politeness limits as `check` apply: the per-server rate limit, the
// domains in flight, the time budgets), and the results go wherever that
// function sends them (the metrics, the store).
package watch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caaprobe/caaprobe/probes/input"
)

// Defaults and bounds of Config.
const (
	DefaultJitter = 0.1
	// DefaultPoll is how often the list file is looked at (one stat).
	DefaultPoll = 5 * time.Second
	// MinPoll bounds how often the file may be looked at.
	MinPoll = 10 * time.Millisecond
	// DefaultMaxNames bounds the list; names past it are reported and
	// skipped.
	DefaultMaxNames = 100000
	// MaxFileBytes bounds the list file: one larger is reported and the
	// list kept as it was (100,000 names of 253 bytes are 25 MB).
	MaxFileBytes = 64 << 20
)

// Clock is the time the watcher schedules by; tests give a fake.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config is a watch list and its schedule.
type Config struct {
	// Names are names given inline (a flag), normalised as check's
	// arguments are.
	Names []string
	// File, when set, is a list file in check's syntax (one name per
	// line, '#' comments), re-read when its modification time or size
	// changes.
	File string
	// Every is the time between the starts of two rounds, before jitter.
	Every time.Duration
	// Jitter is the fraction of Every each interval may differ by, drawn
	// uniformly (0.1: ±10 %), so that many watchers started together do
	// not query the same servers in step. 0 means DefaultJitter; a
	// negative value means none. At most 0.5.
	Jitter float64
	// Poll is how often File is looked at; 0 means DefaultPoll (or
	// Every, if shorter); at least MinPoll.
	Poll time.Duration
	// MaxNames bounds the list; 0 means DefaultMaxNames.
	MaxNames int
	// Check checks names (each round the whole list; after a change of
	// the file the names added, at once). It is called from one goroutine
	// at a time and should return when ctx ends.
	Check func(ctx context.Context, names []string)
	// OnError gets each entry that is not a name (its message starts
	// with "file:line"), and a file that cannot be read; none is fatal.
	OnError func(error)
	// OnChange, when set, is told the names added to and removed from
	// the list after each change (the metrics Forget the removed).
	OnChange func(added, removed []string)
	// Rand draws the jitter; nil means a source seeded at random. Tests
	// give a seeded one.
	Rand *rand.Rand
	// Clock is nil for the real one.
	Clock Clock
}

// Watcher runs one watch list.
type Watcher struct {
	cfg   Config
	clock Clock
	rand  *rand.Rand

	mu    sync.Mutex
	names []string
	stat  fileStat // of File as last read
}

type fileStat struct {
	mod  time.Time
	size int64
	ok   bool
}

// New checks cfg and reads the list once: a file that cannot be read at
// all is an error (a wrong path), a bad line only reported to OnError.
func New(cfg Config) (*Watcher, error) {
	switch {
	case cfg.Every <= 0:
		return nil, fmt.Errorf("watch: interval %v: must be positive", cfg.Every)
	case cfg.Jitter > 0.5:
		return nil, fmt.Errorf("watch: jitter %v: at most 0.5 (±50 %% of the interval)", cfg.Jitter)
	case cfg.Check == nil:
		return nil, errors.New("watch: no check function")
	case len(cfg.Names) == 0 && cfg.File == "":
		return nil, errors.New("watch: no names and no list file")
	}
	if cfg.Jitter == 0 {
		cfg.Jitter = DefaultJitter
	}
	if cfg.Jitter < 0 {
		cfg.Jitter = 0
	}
	if cfg.Poll <= 0 {
		cfg.Poll = min(DefaultPoll, cfg.Every)
	}
	cfg.Poll = max(cfg.Poll, MinPoll)
	if cfg.MaxNames <= 0 {
		cfg.MaxNames = DefaultMaxNames
	}
	if cfg.OnError == nil {
		cfg.OnError = func(error) {}
	}
	w := &Watcher{cfg: cfg, clock: cfg.Clock, rand: cfg.Rand}
	if w.clock == nil {
		w.clock = realClock{}
	}
	if w.rand == nil {
		w.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	names, st, err := w.read(true)
	if err != nil {
		return nil, err
	}
	w.names, w.stat = names, st
	return w, nil
}

// Names is the list as last read.
func (w *Watcher) Names() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.names)
}

// Run checks the list now and then every interval (Every with jitter,
// measured from the start of a round; a round that takes longer is
// followed by the next at once, never run beside it), looking at the file
// every Poll in between. It returns ctx's error when ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	next := w.clock.Now()
	for {
		if now := w.clock.Now(); !now.Before(next) {
			next = now.Add(w.interval())
			if names := w.Names(); len(names) > 0 {
				w.cfg.Check(ctx, names)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := min(next.Sub(w.clock.Now()), w.cfg.Poll)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.clock.After(max(wait, 0)):
		}
		if added := w.reload(); len(added) > 0 && ctx.Err() == nil {
			w.cfg.Check(ctx, added)
		}
	}
}

// interval is Every with jitter: uniform in Every×[1-Jitter, 1+Jitter].
func (w *Watcher) interval() time.Duration {
	if w.cfg.Jitter == 0 {
		return w.cfg.Every
	}
	f := 1 + w.cfg.Jitter*(2*w.rand.Float64()-1)
	return time.Duration(float64(w.cfg.Every) * f)
}

// reload re-reads the file when its modification time or size changed,
// and returns the names it added. A file that cannot be read leaves the
// list as it was (an editor replacing it may remove it for a moment).
func (w *Watcher) reload() (added []string) {
	if w.cfg.File == "" {
		return nil
	}
	st := statOf(w.cfg.File)
	w.mu.Lock()
	same := st == w.stat
	w.mu.Unlock()
	if same {
		return nil
	}
	names, st, err := w.read(false)
	w.mu.Lock()
	w.stat = st
	if err != nil {
		w.mu.Unlock()
		w.cfg.OnError(err)
		return nil
	}
	old := w.names
	w.names = names
	w.mu.Unlock()
	var removed []string
	for _, n := range names {
		if !slices.Contains(old, n) {
			added = append(added, n)
		}
	}
	for _, n := range old {
		if !slices.Contains(names, n) {
			removed = append(removed, n)
		}
	}
	if w.cfg.OnChange != nil && (len(added) > 0 || len(removed) > 0) {
		w.cfg.OnChange(added, removed)
	}
	return added
}

func statOf(path string) fileStat {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStat{}
	}
	return fileStat{mod: fi.ModTime(), size: fi.Size(), ok: true}
}

// read reads the inline names and the file as check reads its arguments
// and -f lists (probes/input): normalised, duplicates removed, each bad
// entry reported with its source (the inline ones only on the first read,
// since they do not change). It returns the file's stat as read.
func (w *Watcher) read(first bool) ([]string, fileStat, error) {
	var r input.Reader
	r.AddArgs(w.cfg.Names)
	var st fileStat
	if w.cfg.File != "" {
		st = statOf(w.cfg.File)
		if st.ok && st.size > MaxFileBytes {
			return nil, st, fmt.Errorf("watch list %s: %d bytes, more than %d: not read", w.cfg.File, st.size, MaxFileBytes)
		}
		if err := r.AddFile(w.cfg.File); err != nil {
			return nil, st, fmt.Errorf("watch list: %w", err)
		}
	}
	var names []string
	over := false
	for _, it := range r.Items() {
		fromFile := !strings.HasPrefix(it.Source, "arg ")
		if it.Err != nil {
			if first || fromFile {
				w.cfg.OnError(it.Err)
			}
			continue
		}
		if len(names) == w.cfg.MaxNames {
			if !over && (first || fromFile) {
				w.cfg.OnError(fmt.Errorf("%s: more than %d names in the watch list: this and the rest skipped", it.Source, w.cfg.MaxNames))
			}
			over = true
			continue
		}
		names = append(names, it.Name)
	}
	return names, st, nil
}
