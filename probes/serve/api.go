package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/runs"
	"github.com/caaprobe/caaprobe/probes/store"
)

// routes is the site. Every response carries the security headers; every
// request passes the per-client limit first.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	api := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !s.authorised(r) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="caaprobe"`)
				apiError(w, http.StatusUnauthorized, "not authorised: give the server's bearer token (Authorization: Bearer TOKEN)")
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("POST /api/v1/runs", api(s.apiSubmit))
	mux.HandleFunc("GET /api/v1/runs/{id}", api(s.apiRun))
	mux.HandleFunc("GET /api/v1/runs/{id}/events", api(s.apiEvents))
	mux.HandleFunc("GET /api/v1/domains/{name}/history", api(s.apiHistory))
	mux.HandleFunc("GET /api/v1/diff", api(s.apiDiff))
	mux.HandleFunc("/api/", api(func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, cleanPath(r.URL.Path)))
	}))
	mux.HandleFunc("GET /{$}", s.pageForm)
	mux.HandleFunc("POST /{$}", s.pageSubmit)
	mux.HandleFunc("GET /r/{id}", s.pageRun)
	mux.HandleFunc("GET /r/{id}/evidence.tar.gz", s.pageEvidence)
	mux.HandleFunc("GET /d/{name}", s.pageDomain)
	if s.o.Metrics != nil {
		mux.Handle("GET /metrics", s.o.Metrics)
	}
	if s.o.Probe != nil {
		probe := s.o.Probe
		mux.Handle("GET /probe", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !s.authorised(r) {
				apiError(w, http.StatusUnauthorized, "not authorised: give the server's bearer token")
				return
			}
			if !s.subLim.Allow(r) {
				tooMany(w, "rate limit: too many checks from this client")
				return
			}
			probe.ServeHTTP(w, r)
		}))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		// A run's URL is its only key: never hand it on in a Referer.
		h.Set("Referrer-Policy", "no-referrer")
		if !s.pageLim.Allow(r) {
			tooMany(w, "rate limit: too many requests from this client")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// cleanPath makes a request path safe to echo in a message.
func cleanPath(p string) string {
	if len(p) > 200 {
		p = p[:200] + "…"
	}
	return strconv.QuoteToASCII(p)
}

func tooMany(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", "1")
	apiError(w, http.StatusTooManyRequests, msg)
}

type errorBody struct {
	Error string `json:"error"`
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding the answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// submitError answers a refused submission with the status it deserves.
func submitError(w http.ResponseWriter, err error, retryAfter string) {
	var bad *badInput
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		apiError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", tooBig.Limit))
	case errors.As(err, &bad):
		apiError(w, http.StatusBadRequest, bad.msg)
	case errors.Is(err, errQueueFull):
		w.Header().Set("Retry-After", retryAfter)
		apiError(w, http.StatusTooManyRequests, err.Error())
	case errors.Is(err, errClosed):
		w.Header().Set("Retry-After", retryAfter)
		apiError(w, http.StatusServiceUnavailable, err.Error())
	default:
		apiError(w, http.StatusInternalServerError, err.Error())
	}
}

// retryAfter is a guess at when the queue has room: a second per queued
// run a worker has to take, at least one.
func (s *Server) retryAfter() string {
	return strconv.Itoa(max(1, len(s.slots)/s.o.Workers))
}

// RunView is a run in the API (docs/serve-api.schema.json).
type RunView struct {
	ID         string            `json:"id"`
	URL        string            `json:"url"`
	State      string            `json:"state"`
	Created    string            `json:"created,omitempty"`
	Finished   string            `json:"finished,omitempty"`
	NamesTotal int               `json:"names_total"`
	NamesDone  int               `json:"names_done"`
	Version    string            `json:"caaprobe_version,omitempty"`
	Results    []json.RawMessage `json:"results,omitempty"`
}

func viewOf(r store.Run) RunView {
	v := RunView{ID: r.ID, URL: "/r/" + r.ID, State: r.State, Created: r.Created.Format(time.RFC3339Nano),
		NamesTotal: r.NamesTotal, NamesDone: r.NamesDone, Version: r.Version}
	if !r.Finished.IsZero() {
		v.Finished = r.Finished.Format(time.RFC3339Nano)
	}
	return v
}

func (s *Server) apiSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.subLim.Allow(r) {
		tooMany(w, "rate limit: too many submissions from this client")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.o.MaxBody))
	if err != nil {
		submitError(w, err, "1")
		return
	}
	var names []string
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		names, err = s.fromJSON(body)
	case "text/plain":
		names, err = s.fromText("body", string(body))
	default:
		apiError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %s: want application/json ({\"names\": [...]}) or text/plain (one name a line)", strconv.Quote(ct)))
		return
	}
	if err != nil {
		submitError(w, err, "1")
		return
	}
	run, err := s.submit(r.Context(), names, "api")
	if err != nil {
		submitError(w, err, s.retryAfter())
		return
	}
	w.Header().Set("Location", "/api/v1/runs/"+run.ID)
	v := viewOf(run)
	writeJSON(w, http.StatusCreated, struct {
		ID         string `json:"id"`
		URL        string `json:"url"`
		State      string `json:"state"`
		NamesTotal int    `json:"names_total"`
	}{v.ID, v.URL, v.State, v.NamesTotal})
}

// loadRun reads the run named by the path's {id}, answering the error
// itself (with fail) when there is none.
func (s *Server) loadRun(w http.ResponseWriter, r *http.Request, fail func(http.ResponseWriter, int, string)) (store.Run, bool) {
	id := r.PathValue("id")
	if !store.ValidID(id) {
		fail(w, http.StatusBadRequest, fmt.Sprintf("run id %s: not a run id (22 characters of A-Z, a-z, 0-9, - and _)", cleanPath(id)))
		return store.Run{}, false
	}
	run, err := s.o.Store.Run(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, fmt.Sprintf("run %s: no such run (or it was pruned)", id))
		return run, false
	}
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return run, false
	}
	return run, true
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	run, ok := s.loadRun(w, r, apiError)
	if !ok {
		return
	}
	v := viewOf(run)
	switch q := r.URL.Query().Get("results"); q {
	case "", "0":
	case "1":
		res, err := s.o.Store.Results(r.Context(), run.ID)
		if err != nil {
			apiError(w, http.StatusInternalServerError, err.Error())
			return
		}
		v.Results = []json.RawMessage{}
		for _, x := range res {
			v.Results = append(v.Results, json.RawMessage(x.Record))
		}
	default:
		apiError(w, http.StatusBadRequest, fmt.Sprintf("results=%s: want 0 or 1", cleanPath(q)))
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// Progress is one event of a run's progress stream.
type Progress struct {
	ID         string `json:"id"`
	State      string `json:"state"`
	NamesDone  int    `json:"names_done"`
	NamesTotal int    `json:"names_total"`
}

func finished(state string) bool {
	return state == store.StateComplete || state == store.StateIncomplete
}

// apiEvents streams the run's progress as Server-Sent Events: an event
// at each change, "end" when the run is finished; after EventsFor the
// stream ends with "timeout" and the client reconnects.
func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	run, ok := s.loadRun(w, r, apiError)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	ctx, cancel := context.WithTimeout(r.Context(), s.o.EventsFor)
	defer cancel()
	send := func(event string, v any) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	last := Progress{}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		p := Progress{ID: run.ID, State: run.State, NamesDone: run.NamesDone, NamesTotal: run.NamesTotal}
		if p != last && !send("progress", p) {
			return
		}
		last = p
		if finished(run.State) {
			send("end", p)
			return
		}
		select {
		case <-ctx.Done():
			send("timeout", p)
			return
		case <-tick.C:
		}
		var err error
		if run, err = s.o.Store.Run(ctx, run.ID); err != nil {
			send("error", errorBody{err.Error()})
			return
		}
	}
}

// domainParam reads {name} as check reads a name.
func domainParam(r *http.Request) (string, error) {
	raw := r.PathValue("name")
	n, err := input.Normalise(raw)
	if err != nil {
		return "", fmt.Errorf("domain %s: %v", cleanPath(raw), err)
	}
	return n, nil
}

// HistoryEntry is one run of a domain in the API, with what changed since
// the run before it (the same rules as caaprobe diff).
type HistoryEntry struct {
	Run     string          `json:"run"`
	URL     string          `json:"url"`
	Created string          `json:"created"`
	State   string          `json:"state"`
	Verdict string          `json:"verdict"`
	Outcome string          `json:"outcome,omitempty"`
	Changes []runs.Change   `json:"changes"`
	Record  *runs.Record    `json:"-"`
	Result  json.RawMessage `json:"result,omitempty"`
}

const historyMax = 100

// history reads a domain's last runs, newest first, each compared with
// the one before it.
func (s *Server) history(ctx context.Context, domain string, limit int) ([]HistoryEntry, error) {
	// One more than shown, so the oldest shown has a run to compare with.
	hs, err := s.o.Store.History(ctx, domain, limit+1)
	if err != nil {
		return nil, err
	}
	out := make([]HistoryEntry, 0, len(hs))
	for _, h := range hs {
		rec, err := runs.Decode(h.Result.Record)
		if err != nil {
			return nil, fmt.Errorf("run %s, %s: %w", h.Run.ID, domain, err)
		}
		out = append(out, HistoryEntry{Run: h.Run.ID, URL: "/r/" + h.Run.ID, Created: h.Run.Created.Format(time.RFC3339Nano),
			State: h.Run.State, Verdict: h.Result.Verdict, Outcome: h.Result.Outcome, Record: rec})
	}
	for i := range out {
		var older *runs.Record
		if i+1 < len(out) {
			older = out[i+1].Record
		}
		out[i].Changes = runs.Compare(older, out[i].Record, runs.DiffOptions{ExpiryWarning: diffExpiry})
		if out[i].Changes == nil {
			out[i].Changes = []runs.Change{}
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// diffExpiry is caaprobe diff's default --expiry-warning.
const diffExpiry = 24 * time.Hour

func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) {
	domain, err := domainParam(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	limit := 20
	if q := r.URL.Query().Get("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > historyMax {
			apiError(w, http.StatusBadRequest, fmt.Sprintf("limit=%s: want 1 to %d", cleanPath(q), historyMax))
			return
		}
		limit = n
	}
	hs, err := s.history(r.Context(), domain, limit)
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	for i := range hs {
		hs[i].Result = hs[i].Record.Raw
	}
	writeJSON(w, http.StatusOK, struct {
		Domain string         `json:"domain"`
		Runs   []HistoryEntry `json:"runs"`
	}{domain, hs})
}

// DiffView is GET /api/v1/diff's answer.
type DiffView struct {
	Old     string        `json:"old"`
	New     string        `json:"new"`
	Stats   DiffStats     `json:"stats"`
	Changes []runs.Change `json:"changes"`
}

// DiffStats are runs.DiffStats in the API's spelling.
type DiffStats struct {
	Old          int `json:"old_domains"`
	New          int `json:"new_domains"`
	Changed      int `json:"changed"`
	Worse        int `json:"worse"`
	Changes      int `json:"changes"`
	WorseChanges int `json:"worse_changes"`
}

func (s *Server) apiDiff(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ids := [2]string{q.Get("old"), q.Get("new")}
	for i, id := range ids {
		if !store.ValidID(id) {
			apiError(w, http.StatusBadRequest, fmt.Sprintf("%s=%s: not a run id", []string{"old", "new"}[i], cleanPath(id)))
			return
		}
	}
	var sets [2]*runs.Set
	for i, id := range ids {
		set, status, err := s.runSet(r.Context(), id)
		if err != nil {
			apiError(w, status, fmt.Sprintf("%s=%s: %v", []string{"old", "new"}[i], id, err))
			return
		}
		defer set.Close()
		sets[i] = set
	}
	v := DiffView{Old: ids[0], New: ids[1], Changes: []runs.Change{}}
	st, err := runs.Diff(sets[0], sets[1], runs.DiffOptions{ExpiryWarning: diffExpiry}, func(_ string, cs []runs.Change) error {
		v.Changes = append(v.Changes, cs...)
		return nil
	})
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	v.Stats = DiffStats{Old: st.Old, New: st.New, Changed: st.Changed, Worse: st.Worse, Changes: st.Changes, WorseChanges: st.WorseChanges}
	writeJSON(w, http.StatusOK, v)
}

// runSet is a stored run as caaprobe diff reads a file: its JSON Lines,
// through probes/runs, so the API's diff is the command's.
func (s *Server) runSet(ctx context.Context, id string) (*runs.Set, int, error) {
	run, err := s.o.Store.Run(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, http.StatusNotFound, errors.New("no such run")
	}
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	if !finished(run.State) {
		return nil, http.StatusConflict, fmt.Errorf("the run is %s: diff a finished run", run.State)
	}
	res, err := s.o.Store.Results(ctx, id)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	var b bytes.Buffer
	for _, x := range res {
		b.Write(x.Record)
		b.WriteByte('\n')
	}
	set, err := runs.Open([]string{"-"}, &b, nil)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	return set, 0, nil
}
