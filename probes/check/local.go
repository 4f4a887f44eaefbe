package check

import (
	"fmt"

	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/transport"
)

// Local errors (model.ErrLocal: out of file descriptors, buffers or
// local ports) are this host's failure. A domain whose check overlapped
// one may rest on a lookup or a probe that failed here, so it is not
// judged: it becomes verdict error naming the cause, with no finding, and
// nothing computed while the count of local errors grew is kept for other
// domains (lru.Work.SetEpoch).

// watchLocal makes the shared work forget what was computed while a local
// error happened.
func (c *Checker) watchLocal() {
	c.units.SetEpoch(transport.LocalErrors)
	c.trusts.SetEpoch(transport.LocalErrors)
	c.resolved.SetEpoch(transport.LocalErrors)
	c.instances.SetEpoch(transport.LocalErrors)
}

// localError returns the first local error among d's results, or a
// general one when the count of local errors grew from mark while d was
// checked (the failed exchange may belong to discovery, or to work that
// d shares with another domain); nil when there was none.
func localError(d *model.Domain, mark int64) error {
	for _, s := range d.Servers {
		for _, r := range s.Results {
			for _, ex := range []*model.Exchange{r.Exchange, r.Fallback} {
				if r.Local() && ex != nil && model.IsLocal(ex.Err) {
					return ex.Err
				}
			}
		}
	}
	if n := transport.LocalErrors() - mark; n > 0 {
		return fmt.Errorf("%w: %d exchange(s) failed on this host while this domain was checked (file descriptors, buffers or ports ran out; raise ulimit -n or lower --concurrency)", model.ErrLocal, n)
	}
	return nil
}

// IsLocalError reports whether a domain was not judged because of a local
// error of this host (its Cause is one).
func IsLocalError(d *model.Domain) bool {
	return d != nil && model.IsLocal(d.Cause)
}

// notJudged is the domain of item it when a local error spoiled its
// check: no matrix and no finding, since any of them may rest on an
// exchange that failed here; verdict error with the cause.
func notJudged(it input.Item, err error) *model.Domain {
	d := &model.Domain{Domain: it.Name, Source: it.Source, Err: err.Error(), Cause: err}
	judge.Summarise(d)
	d.Explanation = "Not checked: " + err.Error() + ". Nothing is concluded about the servers."
	return d
}
