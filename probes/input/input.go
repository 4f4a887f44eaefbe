// Package input is where the names caaprobe checks come from: command-line
// arguments, name lists (files or stdin) and the DNS names in TLS
// certificates. It turns each entry into one normalised name and keeps every
// entry it could not use, with an error naming the source and line, so that
// the report can list it with verdict "error": nothing a user wrote is
// silently dropped. It also splits the work into shards for runs spread over
// several machines.
package input

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"
	"strings"

	"github.com/caaprobe/caaprobe/probes/lru"
)

// Item is one input entry, in input order.
type Item struct {
	// Name is the normalised name (lowercase A-labels, no trailing dot,
	// e.g. "xn--bcher-kva.example" or "*.example.com"). For an unusable
	// entry it is the raw text made safe to print (see sanitise), so the
	// report can still show what the user wrote.
	Name string
	// Source says where the entry came from: "names.txt:12", "stdin:3",
	// "arg 2", "cert.pem (SAN 3)", or a certificate file's path.
	Source string
	// Err is non-nil when the entry cannot be checked; its message starts
	// with Source and says what is wrong.
	Err error
	// Duplicate marks a name seen earlier in any source; Err then says
	// where ("names.txt:9: duplicate of names.txt:3"). The first occurrence
	// is not marked.
	Duplicate bool
}

// Reader collects names from several sources and removes duplicates across
// all of them. The zero value is ready to use. A Reader is not safe for
// concurrent use: sources are read one after another, in the order the user
// gave them, which is also the order of the report.
type Reader struct {
	// Stdin is read by AddFile("-"). It is a field rather than os.Stdin so
	// that tests and callers embedding caaprobe can supply their own.
	Stdin io.Reader

	items []Item
	// first maps a normalised name to the Source that introduced it, for
	// the most recent dedupeWindow distinct names.
	first *lru.Cache[string, string]
	args  int
	// yield, when set (see Stream), gets each item instead of items;
	// stopped is set once it has said stop, and the sources stop reading.
	yield   func(Item) bool
	stopped bool
	// certStats counts the last AddCerts call (see CertStats).
	certStats CertStats
}

// dedupeWindow bounds the names remembered for removing duplicates: a
// repeat within the last 32,768 distinct names is found (listed names
// repeat next to each other or nearby, certificates of one directory
// likewise); one further back is checked again. The memory held is
// bounded by it, not by the length of the input.
const dedupeWindow = 1 << 15

// Items returns the entries collected so far, in input order. The slice is
// the Reader's own; callers must not append to it while still adding.
func (r *Reader) Items() []Item { return r.items }

// Stream returns the items that add puts into a Reader, as they are read:
// add runs when the sequence is iterated, with a Reader that hands each
// item on at once and keeps none, so a list of millions of names is never
// held in memory. When the loop stops early the sources stop being read.
// The error add returns (a source that cannot be read at all) is stored
// in *err when the iteration ends; items read before it were yielded.
func Stream(stdin io.Reader, add func(r *Reader) error, err *error) iter.Seq[Item] {
	return func(yield func(Item) bool) {
		r := &Reader{Stdin: stdin, yield: yield}
		if e := add(r); e != nil && !r.stopped {
			*err = e
		}
	}
}

// add records one item: kept, or handed to the stream.
func (r *Reader) add(it Item) {
	switch {
	case r.stopped:
	case r.yield != nil:
		r.stopped = !r.yield(it)
	default:
		r.items = append(r.items, it)
	}
}

// seen returns the source that introduced name, if it is remembered.
func (r *Reader) seen(name string) (string, bool) {
	if r.first == nil {
		return "", false
	}
	return r.first.Get(name)
}

// AddArgs adds names given on the command line. They are numbered "arg 1",
// "arg 2", … across all calls, so a later call continues the count.
func (r *Reader) AddArgs(args []string) {
	for _, a := range args {
		if r.stopped {
			return
		}
		r.args++
		r.addListed(a, "arg "+strconv.Itoa(r.args))
	}
}

// AddFile adds the names in a list file, one per line (see AddReader for the
// syntax). The path "-" reads r.Stdin under the source name "stdin". The
// returned error is for a file that cannot be opened or read at all; bad
// lines become Items with Err.
func (r *Reader) AddFile(path string) error {
	if path == "-" {
		if r.Stdin == nil {
			return errors.New(`names from "-" (stdin): no standard input available`)
		}
		return r.AddReader("stdin", r.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading names: %w", err)
	}
	defer f.Close()
	return r.AddReader(path, f)
}

// addListed adds one entry a user wrote by hand (an argument or a line).
// A repeat of an earlier name is recorded as a duplicate with an error,
// because in a hand-written list a repeat is often a typo for another name.
func (r *Reader) addListed(raw, source string) {
	name, err := Normalise(raw)
	if err != nil {
		r.addBad(raw, source, err)
		return
	}
	if first, ok := r.seen(name); ok {
		r.add(Item{
			Name:      name,
			Source:    source,
			Err:       fmt.Errorf("%s: duplicate of %s", source, first),
			Duplicate: true,
		})
		return
	}
	r.addGood(name, source)
}

func (r *Reader) addGood(name, source string) {
	if r.first == nil {
		r.first = lru.New[string, string](dedupeWindow)
	}
	r.first.Add(name, source)
	r.add(Item{Name: name, Source: source})
}

// addBad records an unusable entry. Bad entries are never marked as
// duplicates of each other: each keeps its own message, which says more
// than "duplicate" would.
func (r *Reader) addBad(raw, source string, err error) {
	r.add(Item{
		Name:   sanitise(strings.TrimSpace(raw)),
		Source: source,
		Err:    fmt.Errorf("%s: %w", source, err),
	})
}
