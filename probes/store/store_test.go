package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// addRun stores a finished run of the given domains, verdict pass each.
func addRun(t *testing.T, s *Store, state string, domains ...string) Run {
	t.Helper()
	ctx := context.Background()
	r, err := s.CreateRun(ctx, len(domains), json.RawMessage(`{"names":[]}`), "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StartRun(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	for i, d := range domains {
		rec := fmt.Sprintf(`{"domain":%q,"verdict":"pass"}`, d)
		if err := s.AddResult(ctx, Result{RunID: r.ID, Seq: i, Domain: d, Verdict: "pass", Outcome: "ok", Record: []byte(rec)}); err != nil {
			t.Fatal(err)
		}
	}
	if state != StateRunning {
		if err := s.FinishRun(ctx, r.ID, state); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestRunLifecycle(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	r := addRun(t, s, StateComplete, "a.test", "b.test")
	got, err := s.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StateComplete || got.NamesDone != 2 || got.NamesTotal != 2 || got.Finished.IsZero() || got.Version != "test" {
		t.Errorf("run = %+v", got)
	}
	if !ValidID(got.ID) || len(got.ID) != 22 {
		t.Errorf("id %q: want 22 base64url characters", got.ID)
	}
	res, err := s.Results(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Domain != "a.test" || res[1].Seq != 1 || !strings.Contains(string(res[1].Record), `"b.test"`) {
		t.Errorf("results = %+v", res)
	}
	if _, err := s.Run(ctx, NewID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: err = %v, want ErrNotFound", err)
	}
	if a, b := NewID(), NewID(); a == b {
		t.Error("two ids alike")
	}
	var mode string
	if err := s.w.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q, %v; want wal", mode, err)
	}
}

func TestMarkRunningIncomplete(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	done := addRun(t, s, StateComplete, "a.test")
	cut := addRun(t, s, StateRunning, "a.test")
	queued, err := s.CreateRun(ctx, 3, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.MarkRunningIncomplete(ctx)
	if err != nil || n != 2 {
		t.Fatalf("marked %d, %v; want 2", n, err)
	}
	for id, want := range map[string]string{done.ID: StateComplete, cut.ID: StateIncomplete, queued.ID: StateIncomplete} {
		r, err := s.Run(ctx, id)
		if err != nil || r.State != want {
			t.Errorf("run %s: state %q, %v; want %q", id, r.State, err, want)
		}
	}
}

func TestHistoryNewestFirst(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	var ids []string
	for range 3 {
		ids = append(ids, addRun(t, s, StateComplete, "x.test", "y.test").ID)
		time.Sleep(time.Millisecond) // distinct creation times
	}
	h, err := s.History(ctx, "x.test", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].Run.ID != ids[2] || h[1].Run.ID != ids[1] || h[0].Result.Domain != "x.test" {
		t.Errorf("history = %+v, want runs %v newest first", h, ids[1:])
	}
}

func TestPrune(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	var ids []string
	for range 4 {
		ids = append(ids, addRun(t, s, StateComplete, "x.test").ID)
		time.Sleep(time.Millisecond)
	}
	running := addRun(t, s, StateRunning, "x.test")
	n, err := s.Prune(ctx, Retention{Runs: 2}, time.Now())
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want 2", n, err)
	}
	for i, id := range ids {
		_, err := s.Run(ctx, id)
		if gone := errors.Is(err, ErrNotFound); gone != (i < 2) {
			t.Errorf("run %d: gone %v, want %v", i, gone, i < 2)
		}
	}
	if res, _ := s.Results(ctx, ids[0]); len(res) != 0 {
		t.Errorf("results of a pruned run kept: %d", len(res))
	}
	// By age: everything finished is older than a moment from now; the
	// running run stays whatever its age.
	n, err = s.Prune(ctx, Retention{Age: time.Nanosecond}, time.Now().Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("pruned by age %d, %v; want 2", n, err)
	}
	if _, err := s.Run(ctx, running.ID); err != nil {
		t.Errorf("running run pruned: %v", err)
	}
}

// TestMigrateFromEveryVersion makes a database at each older schema
// version, with a row where the schema has the table, and opens it: it
// must reach the current version and keep the row.
func TestMigrateFromEveryVersion(t *testing.T) {
	t.Parallel()
	for v := 0; v < SchemaVersion; v++ {
		t.Run(fmt.Sprint("v", v), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			old, err := openAt(path, v)
			if err != nil {
				t.Fatal(err)
			}
			var id string
			if v >= 1 {
				r, err := old.CreateRun(context.Background(), 1, nil, "old")
				if err != nil {
					t.Fatal(err)
				}
				id = r.ID
			}
			if got, _ := old.Version(); got != v {
				t.Fatalf("made version %d, want %d", got, v)
			}
			old.Close()
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got, err := s.Version(); err != nil || got != SchemaVersion {
				t.Errorf("version %d, %v; want %d", got, err, SchemaVersion)
			}
			if id != "" {
				if r, err := s.Run(context.Background(), id); err != nil || r.Version != "old" {
					t.Errorf("run from version %d: %+v, %v", v, r, err)
				}
			}
			// The current schema works: a run with a result, and history.
			addRun(t, s, StateComplete, "m.test")
			if h, err := s.History(context.Background(), "m.test", 5); err != nil || len(h) != 1 {
				t.Errorf("history after migration: %v, %v", h, err)
			}
		})
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "new dir", "runs.db")
	if err := mkdirFor(path); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE schema_version SET version = ?`, SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(path)
	if err == nil || !strings.Contains(err.Error(), "newer than this caaprobe") || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want a refusal naming %s", err, path)
	}
}

func mkdirFor(path string) error { return os.MkdirAll(filepath.Dir(path), 0o755) }
