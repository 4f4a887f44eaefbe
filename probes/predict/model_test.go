package predict

import (
	"testing"

	"github.com/caaprobe/caaprobe/probes/model"
)

func TestWorse(t *testing.T) {
	ok, in, sf, un := model.OutcomeOK, model.OutcomeIntermittent, model.OutcomeServfail, model.OutcomeUnknown
	for _, tc := range []struct{ a, b, want model.Outcome }{
		{ok, in, in}, {in, ok, in}, {in, sf, sf}, {sf, ok, sf}, {ok, un, ok}, {un, ok, ok}, {sf, un, sf},
	} {
		if got := Worse(tc.a, tc.b); got != tc.want {
			t.Errorf("Worse(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}
