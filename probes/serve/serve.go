// Package serve is `caaprobe serve`: an http.Handler with a web page, a
// JSON API and durable results (probes/store), running the check engine
// (probes/check) on the names clients submit.
//
// A submission is validated as check validates its input (probes/input),
// stored as a queued run (committed before the client hears of it), and
// put on a bounded queue; a fixed number of workers take runs off it and
// store each domain's result as `check --format json` writes it. A full
// queue answers 429 with Retry-After: memory never grows with the load.
// A client names domains and nothing else: the servers asked are those
// discovery finds from the configured roots (no --ns pins from a client).
package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/evidence"
	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/internal/guard"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render/jsonl"
	"github.com/caaprobe/caaprobe/probes/store"
)

// Observer hears of every domain checked (the Prometheus side,
// probes/metrics, implements it).
type Observer interface {
	Observe(d *model.Domain, took time.Duration)
}

type noObserver struct{}

func (noObserver) Observe(*model.Domain, time.Duration) {}

// Defaults of Options.
const (
	DefaultWorkers     = 2
	DefaultQueue       = 16
	DefaultMaxNames    = 100
	DefaultConcurrency = 8
	DefaultRate        = 1 // submissions a second per client
	DefaultBurst       = 10
	DefaultPageRate    = 20 // requests a second per client, of any kind
	DefaultPageBurst   = 60
	DefaultEventsFor   = 60 * time.Second
	DefaultMaxBody     = 1 << 20
)

// Options configure a Server. Store and Check are required.
type Options struct {
	Store *store.Store
	// Check is the engine's configuration: roots, ports, budgets, trust
	// anchor. Pins in it are the operator's, never a client's.
	Check   check.Config
	Version string
	Vantage *model.Vantage
	// Workers run checks at once, each one run at a time; Queue runs may
	// wait for them; MaxNames bounds one submission; Concurrency is the
	// domains of one run checked at once.
	Workers, Queue, MaxNames, Concurrency int
	// Tokens, when any, are the bearer tokens the API accepts (several,
	// so that one can be rotated in before the old one is removed); the
	// form then takes no submissions (a browser has no token to send).
	Tokens []string
	// Per-client limits: Rate and Burst for submissions (API, form,
	// /probe), PageRate and PageBurst for every request.
	Rate, PageRate   float64
	Burst, PageBurst int
	// MaxBody bounds a request body (names, a certificate file).
	MaxBody int64
	// Retain bounds the database; checked after every run.
	Retain store.Retention
	// EventsFor bounds one progress stream; the client reconnects.
	EventsFor time.Duration
	// Observer hears of every checked domain; nil: nobody.
	Observer Observer
	// Metrics and Probe, when set, are mounted at /metrics and /probe
	// (probes/metrics' handlers; /probe under the submission limit).
	Metrics, Probe http.Handler
	// Suggest are names offered in the form (the lab's, with --lab).
	Suggest []string
	// Logf logs what an operator should see; nil: nothing.
	Logf func(format string, args ...any)
}

// Server is the running service: queue, workers and handler.
type Server struct {
	o       Options
	handler http.Handler
	slots   chan struct{} // a token per queued run: a full channel is a full queue
	jobs    chan job
	mu      sync.Mutex // guards closed against the close of jobs
	closed  bool
	workers sync.WaitGroup
	runCtx  context.Context // cancelled when shutdown runs out of time
	cancel  context.CancelFunc
	subLim  *guard.Limiters
	pageLim *guard.Limiters
}

type job struct {
	id    string
	names []string
}

// New starts the workers and returns the Server; Shutdown stops them.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("serve: no store")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Workers, DefaultWorkers)
	def(&o.Queue, DefaultQueue)
	def(&o.MaxNames, DefaultMaxNames)
	def(&o.Concurrency, DefaultConcurrency)
	def(&o.Burst, DefaultBurst)
	def(&o.PageBurst, DefaultPageBurst)
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.PageRate <= 0 {
		o.PageRate = DefaultPageRate
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.EventsFor <= 0 {
		o.EventsFor = DefaultEventsFor
	}
	if o.Vantage == nil {
		// Every JSON line names its vantage (docs/json.md).
		host, _ := os.Hostname()
		if host == "" {
			host = "unknown"
		}
		o.Vantage = &model.Vantage{Label: host, Host: host}
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	// A client never picks the servers asked; the operator's pins stay.
	s := &Server{o: o, slots: make(chan struct{}, o.Queue), jobs: make(chan job, o.Queue),
		subLim: guard.NewLimiters(o.Rate, o.Burst), pageLim: guard.NewLimiters(o.PageRate, o.PageBurst)}
	s.runCtx, s.cancel = context.WithCancel(context.Background())
	s.handler = s.routes()
	for range o.Workers {
		s.workers.Add(1)
		go s.work()
	}
	return s, nil
}

// Handler is the whole site: pages, API, and the optional handlers.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer is an http.Server for the handler with timeouts sized for
// its pages: a slow client cannot hold a connection, and a result page
// of the largest run still has time to be written.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{Handler: s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.o.EventsFor + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10}
}

// errQueueFull and errClosed refuse a submission.
var (
	errQueueFull = errors.New("the queue is full: try again later")
	errClosed    = errors.New("the server is shutting down")
)

// submit stores a queued run of names and queues it. The run is committed
// before submit returns; a full queue stores nothing.
func (s *Server) submit(ctx context.Context, names []string, source string) (store.Run, error) {
	select {
	case s.slots <- struct{}{}:
	default:
		return store.Run{}, errQueueFull
	}
	release := true
	defer func() {
		if release {
			<-s.slots
		}
	}()
	opts, err := runOptions(names, source)
	if err != nil {
		return store.Run{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.Run{}, errClosed
	}
	run, err := s.o.Store.CreateRun(ctx, len(names), opts, s.o.Version)
	if err != nil {
		return store.Run{}, err
	}
	// Never blocks: the slot taken above is room in jobs.
	s.jobs <- job{id: run.ID, names: names}
	release = false
	return run, nil
}

func (s *Server) work() {
	defer s.workers.Done()
	for j := range s.jobs {
		<-s.slots
		s.runJob(j)
	}
}

// runJob checks one run and stores each domain as it is reported.
func (s *Server) runJob(j job) {
	ctx := s.runCtx
	bg := context.Background() // the store's writes outlive a cancelled run
	if ctx.Err() != nil {
		s.finish(bg, j.id, store.StateIncomplete)
		return
	}
	if err := s.o.Store.StartRun(bg, j.id); err != nil {
		s.o.Logf("run %s: %v", j.id, err)
		return
	}
	items := make([]input.Item, len(j.names))
	for i, n := range j.names {
		items[i] = input.Item{Name: n, Source: fmt.Sprintf("names[%d]", i)}
	}
	run := &model.Run{Version: s.o.Version, Command: []string{"serve"}, Started: time.Now().UTC(), Vantage: s.o.Vantage}
	c := check.New(s.o.Check)
	defer c.Close()
	seq, failed := 0, false
	c.Run(ctx, slices.Values(items), s.o.Concurrency, func(_ input.Item, d *model.Domain) {
		if ctx.Err() != nil || failed {
			// Cut short: the rest are not results, and the run is
			// marked incomplete.
			return
		}
		var b bytes.Buffer
		if err := jsonl.WriteRun(&b, d, run); err != nil {
			failed = true
			s.o.Logf("run %s: %s: %v", j.id, d.Domain, err)
			return
		}
		res := store.Result{RunID: j.id, Seq: seq, Domain: d.Domain, Verdict: string(d.Verdict), Outcome: string(d.Outcome),
			Record: bytes.TrimRight(b.Bytes(), "\n")}
		if err := s.o.Store.AddResult(bg, res); err != nil {
			failed = true
			s.o.Logf("run %s: %v", j.id, err)
			return
		}
		seq++
		s.o.Observer.Observe(d, took(d))
	})
	state := store.StateComplete
	if ctx.Err() != nil || failed || seq != len(j.names) {
		state = store.StateIncomplete
	}
	s.finish(bg, j.id, state)
}

func (s *Server) finish(ctx context.Context, id, state string) {
	if err := s.o.Store.FinishRun(ctx, id, state); err != nil {
		s.o.Logf("run %s: %v", id, err)
	}
	if s.o.Retain != (store.Retention{}) {
		if _, err := s.o.Store.Prune(ctx, s.o.Retain, time.Now()); err != nil {
			s.o.Logf("retention: %v", err)
		}
	}
}

// took is how long d's check took: from its first query to its last
// reply, TCP retries included (0 when it sent none).
func took(d *model.Domain) time.Duration {
	first, last := evidence.TimeSpan(d)
	return last.Sub(first)
}

// Shutdown stops taking submissions, lets the running checks finish until
// ctx ends, then cuts them short; every run not complete by then is
// marked incomplete. Queued runs not yet started are marked incomplete at
// once. The store stays open (the caller closes it).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.jobs)
	}
	s.mu.Unlock()
	// Queued runs would wait behind the running ones: give up on them now.
	s.drainQueued()
	done := make(chan struct{})
	go func() { s.workers.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		s.cancel()
		<-done
		err = ctx.Err()
	}
	s.cancel()
	if _, merr := s.o.Store.MarkRunningIncomplete(context.Background()); merr != nil {
		err = errors.Join(err, merr)
	}
	return err
}

// drainQueued takes the runs still queued and marks them incomplete.
func (s *Server) drainQueued() {
	for {
		select {
		case j, ok := <-s.jobs:
			if !ok {
				return
			}
			<-s.slots
			s.finish(context.Background(), j.id, store.StateIncomplete)
		default:
			return
		}
	}
}

// SubmitAll queues names as runs of at most MaxNames each (a watch
// list's round), with the same queue, limits and storage as a client's
// submission; a part the queue has no room for is logged and left to the
// next round. It returns the ids of the runs queued.
func (s *Server) SubmitAll(ctx context.Context, names []string, source string, logf func(string, ...any)) []string {
	var ids []string
	for part := range slices.Chunk(names, s.o.MaxNames) {
		run, err := s.submit(ctx, part, source)
		if err != nil {
			logf("%s: %d names not queued: %v", source, len(part), err)
			continue
		}
		ids = append(ids, run.ID)
	}
	return ids
}

// CheckOne checks one name now, outside the queue (for /probe): the name
// validated as check validates it.
func (s *Server) CheckOne(ctx context.Context, name string) (*model.Domain, time.Duration, error) {
	n, err := input.Normalise(name)
	if err != nil {
		return nil, 0, err
	}
	c := check.New(s.o.Check)
	defer c.Close()
	start := time.Now()
	d := c.Check(ctx, n)
	took := time.Since(start)
	s.o.Observer.Observe(d, took)
	return d, took, nil
}
