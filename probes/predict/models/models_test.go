package models_test

import (
	"testing"

	"github.com/caaprobe/caaprobe/probes/predict/models"
	"github.com/caaprobe/caaprobe/probes/predict/predicttest"
	"github.com/caaprobe/caaprobe/probes/predict/unbound"
)

// TestRegistry: Unbound is the default and the only model shipped; a
// registered model comes after it and goes again with its unregister; a
// second model of the same name is refused.
func TestRegistry(t *testing.T) {
	if got := models.Default().Name(); got != (unbound.Model{}).Name() {
		t.Fatalf("default model %q, want unbound", got)
	}
	if n := len(models.Models()); n != 1 {
		t.Fatalf("%d models shipped, want 1", n)
	}
	unregister := models.Register(predicttest.Strict{})
	ms := models.Models()
	if len(ms) != 2 || ms[0].Name() != "unbound" || ms[1].Name() != "strict" || models.Default().Name() != "unbound" {
		t.Errorf("after Register: %v, default %q; want [unbound strict], default unbound", names(ms), models.Default().Name())
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("registering strict twice did not panic")
			}
		}()
		models.Register(predicttest.Strict{})
	}()
	unregister()
	if ms := models.Models(); len(ms) != 1 || ms[0].Name() != "unbound" {
		t.Errorf("after unregister: %v, want [unbound]", names(ms))
	}
}

func names[M interface{ Name() string }](ms []M) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name())
	}
	return out
}
