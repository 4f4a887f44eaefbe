// Package store keeps serve's runs and their per-domain results in one
// SQLite file (modernc.org/sqlite: pure Go, so the static binary and the
// FROM-scratch image keep working). Each result row holds the JSON Lines
// record exactly as `check --format json` writes it, exchanges included,
// so a stored run can be rendered again and judged again by a newer
// caaprobe (runs.Decode reads it back).
//
// Durability: every write is its own transaction, committed before the
// call returns, so a run acknowledged to a client is on disk; a process
// killed mid-run leaves the run "running", and the next Open's caller
// marks it incomplete (MarkRunningIncomplete) rather than presenting half
// a run as complete. The schema is versioned (migrations, in order, in
// code); a file written by a newer caaprobe is refused, not altered.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// States of a run.
const (
	StateQueued     = "queued"
	StateRunning    = "running"
	StateComplete   = "complete"
	StateIncomplete = "incomplete"
)

// Run is one submission: its names are checked in order, one result each.
type Run struct {
	ID         string
	Created    time.Time
	Finished   time.Time // zero until FinishRun
	State      string
	NamesTotal int
	NamesDone  int
	Options    json.RawMessage // what was asked (names, source); JSON
	Version    string          // the caaprobe that ran it
}

// Result is one domain of a run.
type Result struct {
	RunID   string
	Seq     int // 0-based position in the run's input
	Domain  string
	Verdict string
	Outcome string
	Record  []byte // one line of check --format json, without the newline
}

// HistoryEntry is one run's result for a domain.
type HistoryEntry struct {
	Run    Run
	Result Result
}

// Store is an open database. It is safe for concurrent use: writes go
// through one connection (SQLite has one writer; queueing them here
// avoids SQLITE_BUSY), reads through a small pool of their own (WAL lets
// them run beside the writer).
type Store struct {
	w, r *sql.DB
	path string
}

// migrations bring a database from version i to i+1 (index i). Append,
// never edit: a database at version k has run the first k.
var migrations = []string{
	// 1: runs and their results.
	`CREATE TABLE runs (
		id          TEXT PRIMARY KEY,
		created     INTEGER NOT NULL, -- Unix nanoseconds, UTC
		finished    INTEGER NOT NULL DEFAULT 0,
		state       TEXT NOT NULL,
		names_total INTEGER NOT NULL,
		names_done  INTEGER NOT NULL DEFAULT 0,
		options     TEXT NOT NULL,
		version     TEXT NOT NULL
	);
	CREATE TABLE results (
		run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
		seq     INTEGER NOT NULL,
		domain  TEXT NOT NULL,
		verdict TEXT NOT NULL,
		outcome TEXT NOT NULL,
		record  BLOB NOT NULL,
		PRIMARY KEY (run_id, seq)
	);`,
	// 2: a domain's history and retention by age without a full scan.
	`CREATE INDEX results_domain ON results(domain, run_id);
	CREATE INDEX runs_created ON runs(created);`,
}

// SchemaVersion is the version this caaprobe writes.
var SchemaVersion = len(migrations)

// Open opens (creating it if need be) the database at path and brings its
// schema up to date. A database from a newer caaprobe is refused.
func Open(path string) (*Store, error) {
	return openAt(path, SchemaVersion)
}

// openAt opens path and migrates it to version target (tests make older
// databases with it).
func openAt(path string, target int) (*Store, error) {
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	s := &Store{w: w, path: path}
	if err := s.migrate(target); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	s.r = r
	return s, nil
}

// dsn sets on every connection: WAL (readers beside the writer), a busy
// timeout (a second process or a checkpoint waits, not fails), foreign
// keys (results go with their run), and for readers query_only.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(FULL)")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// migrate runs the migrations from the database's version to target, each
// in its own transaction with the version it reaches.
func (s *Store) migrate(target int) error {
	ctx := context.Background()
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("database %s: %w", s.path, err)
	}
	var v int
	err := s.w.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("database %s: %w", s.path, err)
		}
	case err != nil:
		return fmt.Errorf("database %s: reading the schema version: %w", s.path, err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("database %s is at schema version %d, newer than this caaprobe's %d: use the caaprobe that wrote it (or a newer one), or another --db", s.path, v, SchemaVersion)
	}
	for ; v < target; v++ {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("database %s: %w", s.path, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("database %s: migration to version %d: %w", s.path, v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, v+1); err != nil {
			tx.Rollback()
			return fmt.Errorf("database %s: migration to version %d: %w", s.path, v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("database %s: migration to version %d: %w", s.path, v+1, err)
		}
	}
	return nil
}

// Version is the database's schema version.
func (s *Store) Version() (int, error) {
	var v int
	err := s.r.QueryRow(`SELECT version FROM schema_version`).Scan(&v)
	return v, err
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// idBytes: 128 random bits, more than enough that a run's URL cannot be
// guessed from another's.
const idBytes = 16

// validID matches what NewID makes: base64url without padding.
var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

// ValidID says whether s has the form of a run id (checked before any
// query, so a bad id never reaches the database).
func ValidID(s string) bool { return validID.MatchString(s) }

// NewID is a fresh run id: random, URL-safe, 128 bits.
func NewID() string {
	b := make([]byte, idBytes)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrNotFound is returned for a run that is not in the database.
var ErrNotFound = errors.New("no such run")

// CreateRun stores a new queued run and returns it with its id and
// creation time; it is committed when CreateRun returns.
func (s *Store) CreateRun(ctx context.Context, namesTotal int, options json.RawMessage, version string) (Run, error) {
	if options == nil {
		options = json.RawMessage("{}")
	}
	r := Run{ID: NewID(), Created: time.Now().UTC(), State: StateQueued, NamesTotal: namesTotal, Options: options, Version: version}
	_, err := s.w.ExecContext(ctx, `INSERT INTO runs (id, created, state, names_total, options, version) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, r.Created.UnixNano(), r.State, r.NamesTotal, string(r.Options), r.Version)
	if err != nil {
		return Run{}, fmt.Errorf("storing the run: %w", err)
	}
	return r, nil
}

// StartRun marks a queued run running.
func (s *Store) StartRun(ctx context.Context, id string) error {
	return s.exec1(ctx, `UPDATE runs SET state = ? WHERE id = ? AND state = ?`, StateRunning, id, StateQueued)
}

// AddResult stores one domain's result and counts it done, in one
// transaction.
func (s *Store) AddResult(ctx context.Context, res Result) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storing %s: %w", res.Domain, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO results (run_id, seq, domain, verdict, outcome, record) VALUES (?, ?, ?, ?, ?, ?)`,
		res.RunID, res.Seq, res.Domain, res.Verdict, res.Outcome, res.Record); err != nil {
		return fmt.Errorf("storing %s: %w", res.Domain, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET names_done = names_done + 1 WHERE id = ?`, res.RunID); err != nil {
		return fmt.Errorf("storing %s: %w", res.Domain, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storing %s: %w", res.Domain, err)
	}
	return nil
}

// FinishRun ends a run as complete or incomplete.
func (s *Store) FinishRun(ctx context.Context, id, state string) error {
	if state != StateComplete && state != StateIncomplete {
		return fmt.Errorf("finishing run %s: state %q", id, state)
	}
	return s.exec1(ctx, `UPDATE runs SET state = ?, finished = ? WHERE id = ?`, state, time.Now().UTC().UnixNano(), id)
}

// MarkRunningIncomplete marks every queued or running run incomplete: at
// start, those are runs a stopped process left (its queue is gone with
// it). It returns how many it marked.
func (s *Store) MarkRunningIncomplete(ctx context.Context) (int, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE runs SET state = ?, finished = ? WHERE state IN (?, ?)`,
		StateIncomplete, time.Now().UTC().UnixNano(), StateQueued, StateRunning)
	if err != nil {
		return 0, fmt.Errorf("marking unfinished runs incomplete: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (s *Store) exec1(ctx context.Context, q string, args ...any) error {
	res, err := s.w.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

const runColumns = `id, created, finished, state, names_total, names_done, options, version`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var created, finished int64
	var opts string
	if err := sc.Scan(&r.ID, &created, &finished, &r.State, &r.NamesTotal, &r.NamesDone, &opts, &r.Version); err != nil {
		return Run{}, err
	}
	r.Created = time.Unix(0, created).UTC()
	if finished != 0 {
		r.Finished = time.Unix(0, finished).UTC()
	}
	r.Options = json.RawMessage(opts)
	return r, nil
}

// Run reads one run.
func (s *Store) Run(ctx context.Context, id string) (Run, error) {
	r, err := scanRun(s.r.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, ErrNotFound
	}
	return r, err
}

// Results reads a run's results in input order.
func (s *Store) Results(ctx context.Context, id string) ([]Result, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT run_id, seq, domain, verdict, outcome, record FROM results WHERE run_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Result
	for rows.Next() {
		var r Result
		if err := rows.Scan(&r.RunID, &r.Seq, &r.Domain, &r.Verdict, &r.Outcome, &r.Record); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// History is the domain's results, newest run first, at most limit.
func (s *Store) History(ctx context.Context, domain string, limit int) ([]HistoryEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT r.id, r.created, r.finished, r.state, r.names_total, r.names_done, r.options, r.version,
			x.run_id, x.seq, x.domain, x.verdict, x.outcome, x.record
		FROM results x JOIN runs r ON r.id = x.run_id
		WHERE x.domain = ? ORDER BY r.created DESC, x.seq DESC LIMIT ?`, domain, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HistoryEntry
	for rows.Next() {
		var e HistoryEntry
		var created, finished int64
		var opts string
		x := &e.Result
		if err := rows.Scan(&e.Run.ID, &created, &finished, &e.Run.State, &e.Run.NamesTotal, &e.Run.NamesDone, &opts, &e.Run.Version,
			&x.RunID, &x.Seq, &x.Domain, &x.Verdict, &x.Outcome, &x.Record); err != nil {
			return nil, err
		}
		e.Run.Created = time.Unix(0, created).UTC()
		if finished != 0 {
			e.Run.Finished = time.Unix(0, finished).UTC()
		}
		e.Run.Options = json.RawMessage(opts)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Retention bounds what is kept: the newest Runs finished runs, and runs
// no older than Age. Zero fields do not bound.
type Retention struct {
	Runs int
	Age  time.Duration
}

// Prune deletes the finished runs (with their results) that ret does not
// keep; queued and running runs are never deleted. It returns how many
// runs it deleted.
func (s *Store) Prune(ctx context.Context, ret Retention, now time.Time) (int, error) {
	total := 0
	if ret.Age > 0 {
		res, err := s.w.ExecContext(ctx, `DELETE FROM runs WHERE state IN (?, ?) AND created < ?`,
			StateComplete, StateIncomplete, now.Add(-ret.Age).UnixNano())
		if err != nil {
			return total, fmt.Errorf("pruning runs by age: %w", err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
	}
	if ret.Runs > 0 {
		res, err := s.w.ExecContext(ctx, `DELETE FROM runs WHERE state IN (?, ?) AND id NOT IN (
				SELECT id FROM runs WHERE state IN (?, ?) ORDER BY created DESC LIMIT ?)`,
			StateComplete, StateIncomplete, StateComplete, StateIncomplete, ret.Runs)
		if err != nil {
			return total, fmt.Errorf("pruning runs by count: %w", err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
	}
	return total, nil
}

// Count is the number of runs stored.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM runs`).Scan(&n)
	return n, err
}
