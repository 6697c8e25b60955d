package training

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
)

// modelScope is where the model's variables live in the store ("/model/features/0/weights").
const modelScope = "/model/"

// Variables returns the model's variables (weights, biases, batch-norm scale, offset and
// statistics), keyed by their path under the model: "features/0/weights",
// "classifier/0/biases". The tensors are the store's own: do not change them.
func (l *Learner) Variables() (map[string]*tensors.Tensor, error) {
	out := map[string]*tensors.Tensor{}
	for v := range l.store.IterVariables() {
		path, ok := strings.CutPrefix(v.Path(), modelScope)
		if !ok {
			continue // optimizer state, the learning rate, the global step.
		}
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", v.Path(), err)
		}
		out[path] = t
	}
	return out, nil
}

// SetVariables sets model variables by their path under the model (as Variables names
// them), creating those the model has not built yet. A variable the model already has
// must keep its shape; the model checks the others when it is built. Variables it does
// not set keep their values (or get their initial values when the model is built): that
// is how a new head is put on a pretrained trunk.
func (l *Learner) SetVariables(vars map[string]*tensors.Tensor) error {
	paths := make([]string, 0, len(vars))
	for p := range vars {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if v := l.store.GetVariable(modelScope + p); v != nil && !v.Shape().Equal(vars[p].Shape()) {
			return fmt.Errorf("variable %s: shape %s, the model has %s", p, vars[p].Shape(), v.Shape())
		}
	}
	for _, p := range paths {
		if v := l.store.GetVariable(modelScope + p); v != nil {
			if err := v.SetValue(vars[p]); err != nil {
				return fmt.Errorf("variable %s: %w", p, err)
			}
			continue
		}
		v, err := l.store.CreateVariable(modelScope+p, vars[p])
		if err != nil {
			return fmt.Errorf("variable %s: %w", p, err)
		}
		v.SetTrainable(!isStatistic(p)) // batch-norm statistics are updated by the model, not the optimizer.
	}
	l.predict, l.feats, l.camExecs = nil, nil, nil
	return nil
}
