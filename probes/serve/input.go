package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/internal/guard"
)

// badInput is a submission refused for what it holds; its message names
// the input at fault.
type badInput struct{ msg string }

func (e *badInput) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badInput{fmt.Sprintf(format, args...)} }

// maxBadListed bounds the bad entries one refusal lists.
const maxBadListed = 10

// collect validates a submission's entries as check does (probes/input:
// IDNA, structure, one name per line, duplicates checked once) and returns
// the names. Any unusable entry refuses the whole submission, naming each
// (up to maxBadListed): a web client fixes its list and sends it again,
// where check would go on and report them as errors.
func (s *Server) collect(add func(r *input.Reader) error) ([]string, error) {
	var names, bad []string
	nbad := 0
	var tooMany bool
	var r input.Reader
	err := add(&r)
	for _, it := range r.Items() {
		switch {
		case it.Duplicate:
			continue
		case it.Err != nil:
			nbad++
			if len(bad) < maxBadListed {
				bad = append(bad, it.Err.Error())
			}
			continue
		}
		if len(names) >= s.o.MaxNames {
			tooMany = true
			break
		}
		names = append(names, it.Name)
	}
	if err != nil {
		return nil, badf("%v", err)
	}
	if tooMany {
		return nil, badf("too many names: at most %d per submission", s.o.MaxNames)
	}
	if nbad > 0 {
		more := ""
		if nbad > len(bad) {
			more = fmt.Sprintf("; and %d more", nbad-len(bad))
		}
		return nil, badf("%d name(s) cannot be checked: %s%s", nbad, strings.Join(bad, "; "), more)
	}
	if len(names) == 0 {
		return nil, badf("no names to check")
	}
	return names, nil
}

// fromJSON reads {"names": [...]}; each name's source is names[i].
func (s *Server) fromJSON(body []byte) ([]string, error) {
	var req struct {
		Names []string `json:"names"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, badf("request body: not {\"names\": [...]}: %v", err)
	}
	if len(req.Names) > s.o.MaxNames {
		return nil, badf("too many names: %d, at most %d per submission", len(req.Names), s.o.MaxNames)
	}
	return s.collect(func(r *input.Reader) error {
		for i, n := range req.Names {
			r.AddArgs([]string{n})
			relabel(r, fmt.Sprintf("arg %d", i+1), fmt.Sprintf("names[%d]", i))
		}
		return nil
	})
}

// relabel renames the source of the entry just added, so an error names
// the JSON index rather than a command-line argument.
func relabel(r *input.Reader, from, to string) {
	items := r.Items()
	if len(items) == 0 {
		return
	}
	it := &items[len(items)-1]
	if it.Source != from {
		return
	}
	it.Source = to
	if it.Err != nil {
		it.Err = errors.New(to + strings.TrimPrefix(it.Err.Error(), from))
	}
}

// fromText reads a list, one name per line with # comments, as check -f
// reads a file; the source is what the lines came from ("body", "form").
func (s *Server) fromText(source, text string) ([]string, error) {
	return s.collect(func(r *input.Reader) error {
		return r.AddReader(source, strings.NewReader(text))
	})
}

// fromCert reads the DNS names of the certificates in an uploaded file,
// as check --cert does; the file goes to a temporary file first, since
// the reader walks paths.
func (s *Server) fromCert(upload io.Reader, filename string) ([]string, error) {
	f, err := os.CreateTemp("", "caaprobe-serve-cert-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := io.Copy(f, upload); err != nil {
		return nil, badf("certificate file: %v", err)
	}
	tmp := f.Name()
	return s.collect(func(r *input.Reader) error {
		err := r.AddCerts(tmp)
		// Say the uploaded file's name, not the temporary one.
		items := r.Items()
		for i := range items {
			items[i].Source = strings.ReplaceAll(items[i].Source, tmp, filename)
			if items[i].Err != nil {
				items[i].Err = errors.New(strings.ReplaceAll(items[i].Err.Error(), tmp, filename))
			}
		}
		if err != nil {
			return errors.New(strings.ReplaceAll(err.Error(), tmp, filename))
		}
		return nil
	})
}

// runOptions is what a run stores of its request.
func runOptions(names []string, source string) (json.RawMessage, error) {
	return json.Marshal(struct {
		Names  []string `json:"names"`
		Source string   `json:"source"`
	}{names, source})
}

// namesOf reads the names back from a run's options.
func namesOf(opts json.RawMessage) []string {
	var o struct {
		Names []string `json:"names"`
	}
	json.Unmarshal(opts, &o)
	return o.Names
}

// authorised checks the bearer token, in constant time.
func (s *Server) authorised(r *http.Request) bool {
	return len(s.o.Tokens) == 0 || guard.Bearer(r, s.o.Tokens)
}
