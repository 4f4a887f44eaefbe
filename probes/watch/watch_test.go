package watch_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/watch"
)

// fakeClock is a clock that moves only when the test says: the watcher
// waits on one timer at a time, and step moves the time to it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiting chan waiter // the watcher's timer, one at a time
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), waiting: make(chan waiter, 1)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	at := c.now.Add(d)
	c.mu.Unlock()
	c.waiting <- waiter{at, ch}
	return ch
}

// advance moves the time on by d (a check that takes that long).
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// step waits for the watcher's next timer, moves the time to it and fires
// it; it returns how far the time moved.
func (c *fakeClock) step(t *testing.T) time.Duration {
	t.Helper()
	select {
	case w := <-c.waiting:
		c.mu.Lock()
		d := max(w.at.Sub(c.now), 0)
		c.now = c.now.Add(d)
		now := c.now
		c.mu.Unlock()
		w.ch <- now
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher never waited")
		return 0
	}
}

// idle waits until the watcher waits on its next timer (so whatever it
// did after the last step is done) without firing it.
func (c *fakeClock) idle(t *testing.T) {
	t.Helper()
	select {
	case w := <-c.waiting:
		c.waiting <- w
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher never waited")
	}
}

// rounds records the checks: when, and of what.
type rounds struct {
	mu    sync.Mutex
	at    []time.Time
	names [][]string
	calls chan struct{}
	clock *fakeClock
	took  time.Duration // how long each check takes on the fake clock
}

func newRounds(c *fakeClock) *rounds { return &rounds{calls: make(chan struct{}, 1000), clock: c} }

func (r *rounds) check(ctx context.Context, names []string) {
	r.mu.Lock()
	r.at = append(r.at, r.clock.Now())
	r.names = append(r.names, slices.Clone(names))
	r.mu.Unlock()
	if r.took > 0 {
		r.clock.advance(r.took)
	}
	r.calls <- struct{}{}
}

func (r *rounds) snapshot() ([]time.Time, [][]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.at), slices.Clone(r.names)
}

// run starts w and stops it at the end of the test.
func run(t *testing.T, w *watch.Watcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
}

// schedule runs a watcher of one inline name every hour with the given
// jitter and seed for n rounds, and returns the times between them.
func schedule(t *testing.T, jitter float64, seed uint64, n int) []time.Duration {
	t.Helper()
	clk := newFakeClock()
	r := newRounds(clk)
	w, err := watch.New(watch.Config{Names: []string{"example.test"}, Every: time.Hour, Jitter: jitter, Poll: time.Hour,
		Check: r.check, Rand: rand.New(rand.NewPCG(seed, 0)), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	run(t, w)
	for {
		at, _ := r.snapshot()
		if len(at) >= n {
			break
		}
		clk.step(t)
	}
	at, _ := r.snapshot()
	if !at[0].Equal(start) {
		t.Errorf("first round at %v, want at once (%v)", at[0], start)
	}
	var out []time.Duration
	for i := 1; i < n; i++ {
		out = append(out, at[i].Sub(at[i-1]))
	}
	return out
}

// TestScheduleJitter: rounds start at once and then every hour ±10 %,
// the intervals vary, and the same seed gives the same schedule (another
// seed another).
func TestScheduleJitter(t *testing.T) {
	t.Parallel()
	a := schedule(t, 0, 1, 30) // 0: the default, ±10 %
	for i, d := range a {
		if d < 54*time.Minute || d > 66*time.Minute {
			t.Errorf("interval %d: %v, outside 1h ±10 %%", i, d)
		}
	}
	distinct := map[time.Duration]bool{}
	var lo, hi time.Duration = time.Hour, time.Hour
	for _, d := range a {
		distinct[d] = true
		lo, hi = min(lo, d), max(hi, d)
	}
	if len(distinct) < 20 {
		t.Errorf("only %d distinct intervals of %d: no jitter", len(distinct), len(a))
	}
	// Uniform over ±6 minutes: 29 draws reach both halves well apart.
	if lo > 58*time.Minute || hi < 62*time.Minute {
		t.Errorf("intervals span [%v, %v]: the jitter is not spread over ±10 %%", lo, hi)
	}
	if b := schedule(t, 0, 1, 30); !slices.Equal(a, b) {
		t.Errorf("same seed, different schedules:\n%v\n%v", a, b)
	}
	if c := schedule(t, 0, 2, 30); slices.Equal(a, c) {
		t.Error("another seed, the same schedule")
	}
	for i, d := range schedule(t, 0.25, 3, 30) {
		if d < 45*time.Minute || d > 75*time.Minute {
			t.Errorf("jitter 0.25, interval %d: %v", i, d)
		}
	}
	for i, d := range schedule(t, -1, 3, 5) {
		if d != time.Hour {
			t.Errorf("no jitter, interval %d: %v", i, d)
		}
	}
}

// TestSlowRound: a round that takes longer than the interval is followed
// by the next at once, not run beside it.
func TestSlowRound(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	r := newRounds(clk)
	r.took = 90 * time.Minute
	w, err := watch.New(watch.Config{Names: []string{"example.test"}, Every: time.Hour, Jitter: -1, Poll: 10 * time.Minute,
		Check: r.check, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	run(t, w)
	<-r.calls
	if d := clk.step(t); d != 0 {
		t.Errorf("waited %v after a round longer than the interval", d)
	}
	<-r.calls
	at, _ := r.snapshot()
	if got := at[1].Sub(at[0]); got != 90*time.Minute {
		t.Errorf("second round %v after the first, want 90m (when the first ended)", got)
	}
}

// TestReread: the list file is re-read when it changes (looked at every
// Poll between rounds): the names added are checked at once, OnChange
// hears what was added and removed, the next round checks the new list,
// bad lines are reported with file:line and skipped, and an unchanged
// file is not read again (its bad line is reported once).
func TestReread(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "watch.txt")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("# customers\na.test\n\nb.test # comment\n")
	clk := newFakeClock()
	r := newRounds(clk)
	var mu sync.Mutex
	var errs []string
	var changes []string
	w, err := watch.New(watch.Config{File: path, Names: []string{"inline.test"}, Every: time.Hour, Jitter: -1, Poll: time.Minute,
		Check: r.check, Clock: clk,
		OnError: func(err error) { mu.Lock(); errs = append(errs, err.Error()); mu.Unlock() },
		OnChange: func(added, removed []string) {
			mu.Lock()
			changes = append(changes, fmt.Sprintf("+%v -%v", added, removed))
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Names(); !slices.Equal(got, []string{"inline.test", "a.test", "b.test"}) {
		t.Fatalf("names %v", got)
	}
	run(t, w)
	<-r.calls   // round 1, at once
	clk.step(t) // a poll: the file is as it was
	clk.idle(t) // that poll done before the file changes (WriteFile truncates first)

	write("a.test\n192.0.2.1\nc.test\n-bad-.test\nC.TEST\nd.test\n")
	clk.step(t) // the next poll sees the change
	<-r.calls   // the names added, at once
	_, names := r.snapshot()
	if got := names[len(names)-1]; !slices.Equal(got, []string{"c.test", "d.test"}) {
		t.Errorf("checked after the change: %v, want the added [c.test d.test]", got)
	}
	for range 3 {
		clk.step(t) // unchanged: not read again
	}
	clk.idle(t)
	mu.Lock()
	gotErrs, gotChanges := slices.Clone(errs), slices.Clone(changes)
	mu.Unlock()
	wantErrs := []string{path + ":2:", path + ":4:", path + ":5: duplicate of " + path + ":3"}
	if len(gotErrs) != len(wantErrs) {
		t.Fatalf("errors %q, want %d (each bad line once)", gotErrs, len(wantErrs))
	}
	for i, want := range wantErrs {
		if !strings.HasPrefix(gotErrs[i], want) {
			t.Errorf("error %d: %q, want it to start %q", i, gotErrs[i], want)
		}
	}
	if !slices.Equal(gotChanges, []string{"+[c.test d.test] -[b.test]"}) {
		t.Errorf("changes %v", gotChanges)
	}
	// The next round checks the new list.
	for {
		at, _ := r.snapshot()
		if len(at) == 3 {
			break
		}
		clk.step(t)
	}
	at, names := r.snapshot()
	if !slices.Equal(names[2], []string{"inline.test", "a.test", "c.test", "d.test"}) {
		t.Errorf("round 2: %v", names[2])
	}
	if got := at[2].Sub(at[0]); got != time.Hour {
		t.Errorf("round 2 %v after round 1: the re-read moved the schedule", got)
	}

	// A file removed (an editor replacing it) keeps the list, reported.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	clk.step(t)
	clk.idle(t)
	mu.Lock()
	last := errs[len(errs)-1]
	mu.Unlock()
	if !strings.Contains(last, path) {
		t.Errorf("a missing file reported as %q", last)
	}
	if got := w.Names(); len(got) != 4 {
		t.Errorf("names after the file went: %v, want the list kept", got)
	}
	write("e.test\n")
	clk.step(t)
	clk.idle(t)
	if _, names := r.snapshot(); !slices.Equal(names[len(names)-1], []string{"e.test"}) {
		t.Errorf("checked after the file came back: %v, want [e.test]", names[len(names)-1])
	}
	if got := w.Names(); !slices.Equal(got, []string{"inline.test", "e.test"}) {
		t.Errorf("names after the file came back: %v", got)
	}
}

// TestMaxNames: past MaxNames the rest of the list is skipped, said once.
func TestMaxNames(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "w.txt")
	if err := os.WriteFile(path, []byte("a.test\nb.test\nc.test\nd.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var errs []error
	w, err := watch.New(watch.Config{File: path, Every: time.Hour, MaxNames: 2, Check: func(context.Context, []string) {},
		OnError: func(err error) { errs = append(errs, err) }})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Names(); !slices.Equal(got, []string{"a.test", "b.test"}) {
		t.Errorf("names %v", got)
	}
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), path+":3: more than 2 names") {
		t.Errorf("errors %v", errs)
	}
}

// TestConfig: a config that cannot work is an error naming what is
// wrong; an inline name that is not a name is reported, not fatal.
func TestConfig(t *testing.T) {
	t.Parallel()
	noop := func(context.Context, []string) {}
	for _, tc := range []struct {
		cfg  watch.Config
		want string
	}{
		{watch.Config{Names: []string{"a.test"}, Check: noop}, "interval"},
		{watch.Config{Names: []string{"a.test"}, Every: -time.Second, Check: noop}, "interval"},
		{watch.Config{Names: []string{"a.test"}, Every: time.Hour, Jitter: 0.9, Check: noop}, "jitter"},
		{watch.Config{Names: []string{"a.test"}, Every: time.Hour}, "check function"},
		{watch.Config{Every: time.Hour, Check: noop}, "no names"},
		{watch.Config{File: filepath.Join(t.TempDir(), "missing.txt"), Every: time.Hour, Check: noop}, "missing.txt"},
	} {
		if _, err := watch.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %q", tc.cfg, err, tc.want)
		}
	}
	var errs []string
	w, err := watch.New(watch.Config{Names: []string{"ok.test", "not a name", "192.0.2.1"}, Every: time.Hour, Check: noop,
		OnError: func(err error) { errs = append(errs, err.Error()) }})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.Names(), []string{"ok.test"}) || len(errs) != 2 || !strings.HasPrefix(errs[0], "arg 2:") || !strings.HasPrefix(errs[1], "arg 3:") {
		t.Errorf("names %v, errors %q", w.Names(), errs)
	}
}

// TestRealClock: with the real clock and millisecond intervals the rounds
// come, and Run returns soon after its context is cancelled, even during
// a check.
func TestRealClock(t *testing.T) {
	t.Parallel()
	calls := make(chan struct{}, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := watch.New(watch.Config{Names: []string{"a.test"}, Every: 5 * time.Millisecond, Check: func(ctx context.Context, _ []string) {
		calls <- struct{}{}
		<-ctx.Done() // a check that honours its context
	}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	select {
	case <-calls:
	case <-time.After(10 * time.Second):
		t.Fatal("no round")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}

	// And rounds repeat.
	n := 0
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	w2, err := watch.New(watch.Config{Names: []string{"a.test"}, Every: 5 * time.Millisecond, Check: func(context.Context, []string) {
		if n++; n == 3 {
			cancel2()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Run(ctx2); !errors.Is(err, context.Canceled) || n != 3 {
		t.Errorf("Run %v after %d rounds, want canceled after 3", err, n)
	}
}
