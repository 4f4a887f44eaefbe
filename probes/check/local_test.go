package check

import (
	"errors"
	"fmt"
	"testing"

	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/model"
)

// TestIsLocalErrorByCause: a domain left unjudged by a local error is told
// apart by its cause, not by the words of Err: a wrapped ErrLocal counts,
// another error does not, and neither does an Err that only reads like
// one (a domain read back from JSON, or a server's text).
func TestIsLocalErrorByCause(t *testing.T) {
	t.Parallel()
	it := input.Item{Name: "x.test", Source: "arg"}
	local := notJudged(it, fmt.Errorf("%w: too many open files", model.ErrLocal))
	if !IsLocalError(local) || local.Verdict != model.VerdictError || local.Err == "" {
		t.Errorf("local error: IsLocalError %v, verdict %s, err %q; want true, error, the cause's text", IsLocalError(local), local.Verdict, local.Err)
	}
	other := notJudged(it, errors.New("deadline"))
	if IsLocalError(other) {
		t.Error("a deadline counted as a local error")
	}
	text := &model.Domain{Domain: "x.test", Verdict: model.VerdictError, Err: model.ErrLocal.Error() + ": read back"}
	if IsLocalError(text) || IsLocalError(nil) {
		t.Error("an Err text without its cause counted as a local error")
	}
}
