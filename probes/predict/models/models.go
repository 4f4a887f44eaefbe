// Package models is the registry of resolver models: the list caaprobe
// ships, the default first, and Register for a model added at run time (a
// test's, or a build's own). It is its own package so that the graph stays
// one way: the models import predict, this package imports them, and the
// engine imports this package; predict imports none of them.
package models

import (
	"fmt"
	"slices"
	"sync"

	"github.com/caaprobe/caaprobe/probes/predict"
	"github.com/caaprobe/caaprobe/probes/predict/unbound"
)

// shipped are the resolver models caaprobe ships, one line each, the
// default first: its outcome is the JSON "outcome", and the policy and the
// explanation are the CA's reading of it. Adding a model is its folder
// under probes/predict and one line here.
var shipped = []predict.Model{
	unbound.Model{}, // Unbound with use-caps-for-id, as Let's Encrypt runs it
}

var (
	mu         sync.RWMutex
	registered = slices.Clone(shipped)
)

// Register adds m after the models registered so far and returns the
// function that removes it again. A second model of the same name, or a
// model with no name, is a programming error.
func Register(m predict.Model) (unregister func()) {
	mu.Lock()
	defer mu.Unlock()
	if m.Name() == "" {
		panic("models: a resolver model without a name")
	}
	for _, o := range registered {
		if o.Name() == m.Name() {
			panic(fmt.Sprintf("models: resolver model %q registered twice", m.Name()))
		}
	}
	registered = append(registered, m)
	return func() {
		mu.Lock()
		defer mu.Unlock()
		registered = slices.DeleteFunc(registered, func(o predict.Model) bool { return o.Name() == m.Name() })
	}
}

// Default is the model whose outcome is the domain's Outcome.
func Default() predict.Model {
	mu.RLock()
	defer mu.RUnlock()
	return registered[0]
}

// Models are every registered model, the default first.
func Models() []predict.Model {
	mu.RLock()
	defer mu.RUnlock()
	return slices.Clone(registered)
}
