// Package sweep explores hyperparameters: a Space of settings, plans drawn from it (a
// grid, or random search with log-scaled ranges), and Run, which trains each trial as an
// ordinary run folder with successive halving. Collect reads the results back from the
// folders, so a sweep spread over machines (one `vggkit train -config` per trial) is
// gathered the same way as one run here.
//
// The package trains nothing itself: Options.Train does (vggkit.Sweep passes vggkit's
// trainer), which keeps this package below vggkit and its loop testable in milliseconds.
package sweep

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/vggkit/vggkit/vggkit/config"
)

// Param is one dimension of a Space: a configuration field, named by its JSON path
// ("train.learning_rate", "model.batch_norm"), and the values it takes: Values, or a
// range Min..Max (log-scaled when Log: a learning rate's scale is its exponent).
type Param struct {
	Path   string  `json:"path"`
	Values []any   `json:"values,omitempty"`
	Min    float64 `json:"min,omitempty"`
	Max    float64 `json:"max,omitempty"`
	Log    bool    `json:"log,omitempty"`
	Points int     `json:"points,omitempty"` // a range's grid points (0: 3).
}

// Space is what a sweep explores: a base configuration and the parameters that vary.
type Space struct {
	Base   config.Config `json:"base"`
	Params []Param       `json:"params"`
}

// Choice is a parameter that takes one of values.
func Choice(path string, values ...any) Param { return Param{Path: path, Values: values} }

// LogUniform is a parameter drawn between lo and hi on a log scale.
func LogUniform(path string, lo, hi float64) Param {
	return Param{Path: path, Min: lo, Max: hi, Log: true}
}

// Validate names the first parameter that is not well formed.
func (s Space) Validate() error {
	if len(s.Params) == 0 {
		return fmt.Errorf("sweep space has no parameters")
	}
	for _, p := range s.Params {
		if err := p.validate(s.Base); err != nil {
			return err
		}
	}
	return nil
}

func (p Param) validate(base config.Config) error {
	switch {
	case len(p.Values) == 0 && !(p.Min < p.Max):
		return fmt.Errorf("parameter %s: give values, or a range with min %g < max %g", p.Path, p.Min, p.Max)
	case len(p.Values) == 0 && p.Log && !(p.Min > 0):
		return fmt.Errorf("parameter %s: a log range needs min > 0 (got %g)", p.Path, p.Min)
	}
	for _, x := range p.grid() {
		if _, err := Set(base, p.Path, x); err != nil {
			return err
		}
	}
	return nil
}

// grid is a range's grid points (a choice's values are its own grid).
func (p Param) grid() []any {
	if len(p.Values) > 0 {
		return p.Values
	}
	n := p.Points
	if n <= 0 {
		n = 3
	}
	out := make([]any, n)
	for i := range out {
		f := float64(i) / float64(max(1, n-1))
		if p.Log {
			out[i] = round2(math.Exp(math.Log(p.Min) + f*(math.Log(p.Max)-math.Log(p.Min))))
		} else {
			out[i] = round2(p.Min + f*(p.Max-p.Min))
		}
	}
	return out
}

// draw picks one value at random: a choice uniformly, a range uniformly in its scale.
func (p Param) draw(r *rand.Rand) any {
	if len(p.Values) > 0 {
		return p.Values[r.IntN(len(p.Values))]
	}
	u := r.Float64()
	if p.Log {
		return round2(math.Exp(math.Log(p.Min) + u*(math.Log(p.Max)-math.Log(p.Min))))
	}
	return round2(p.Min + u*(p.Max-p.Min))
}

// round2 keeps two significant digits: 0.0037, not 0.003712...; tables and folder
// names stay readable, and nothing a sweep can tell apart is lost.
func round2(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 2, 64), 64)
	return v
}

// Set returns cfg with the field at path (JSON names, dot-separated) set to v; an
// unknown path or a value of the wrong type is an error naming both.
func Set(cfg config.Config, path string, v any) (config.Config, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return cfg, err
	}
	var tree map[string]any
	if err := json.Unmarshal(b, &tree); err != nil {
		return cfg, err
	}
	keys := strings.Split(path, ".")
	node := tree
	for i, k := range keys {
		if _, ok := node[k]; !ok {
			return cfg, fmt.Errorf("parameter %s: the configuration has no field %q", path, strings.Join(keys[:i+1], "."))
		}
		if i == len(keys)-1 {
			node[k] = v
			break
		}
		next, ok := node[k].(map[string]any)
		if !ok {
			return cfg, fmt.Errorf("parameter %s: %q is not a group of fields", path, strings.Join(keys[:i+1], "."))
		}
		node = next
	}
	if b, err = json.Marshal(tree); err != nil {
		return cfg, fmt.Errorf("parameter %s = %v: %w", path, v, err)
	}
	var out config.Config
	if err := json.Unmarshal(b, &out); err != nil {
		return cfg, fmt.Errorf("parameter %s = %v: %w", path, v, err)
	}
	return out, nil
}

// Get reads the field at path of cfg (as JSON decodes it: float64, bool, string...).
func Get(cfg config.Config, path string) any {
	b, _ := json.Marshal(cfg)
	var node any
	_ = json.Unmarshal(b, &node)
	for _, k := range strings.Split(path, ".") {
		m, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = m[k]
	}
	return node
}

// Label is a parameter's short name for tables and plots: "learning rate" for
// "train.learning_rate".
func Label(path string) string {
	return strings.ReplaceAll(path[strings.LastIndex(path, ".")+1:], "_", " ")
}
