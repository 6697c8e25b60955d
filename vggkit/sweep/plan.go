package sweep

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/vggkit/vggkit/internal/atomicfile"
	"github.com/vggkit/vggkit/vggkit/config"
)

// Trial is one setting of a sweep: its run folder's name, the values drawn, and the
// whole configuration it trains with.
type Trial struct {
	Name   string         `json:"name"` // trial-1, trial-2...: the folder, and a Slurm array index.
	Params map[string]any `json:"params"`
	Config config.Config  `json:"config"`
}

// Plan is a sweep's list of trials, with the space they came from.
type Plan struct {
	Space  Space   `json:"space"`
	Trials []Trial `json:"trials"`
}

// Grid is every combination of the parameters' values (a range gives Points values).
func Grid(s Space) (Plan, error) {
	if err := s.Validate(); err != nil {
		return Plan{}, err
	}
	combos := []map[string]any{{}}
	for _, p := range s.Params {
		var next []map[string]any
		for _, c := range combos {
			for _, v := range p.grid() {
				m := map[string]any{p.Path: v}
				for k, x := range c {
					m[k] = x
				}
				next = append(next, m)
			}
		}
		combos = next
	}
	return makePlan(s, combos)
}

// Random is n trials drawn independently from the space with seed (random search beats
// a grid of the same size when few parameters matter: each trial tries a new value of
// every one). Repeated draws of the same setting are drawn again, up to a limit.
func Random(s Space, n int, seed uint64) (Plan, error) {
	if err := s.Validate(); err != nil {
		return Plan{}, err
	}
	if n < 1 {
		return Plan{}, fmt.Errorf("random search of %d trials: need 1 or more", n)
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	seen := map[string]bool{}
	var combos []map[string]any
	for tries := 0; len(combos) < n && tries < 100*n; tries++ {
		m := map[string]any{}
		for _, p := range s.Params {
			m[p.Path] = p.draw(r)
		}
		key, _ := json.Marshal(m)
		if !seen[string(key)] {
			seen[string(key)] = true
			combos = append(combos, m)
		}
	}
	return makePlan(s, combos)
}

func makePlan(s Space, combos []map[string]any) (Plan, error) {
	plan := Plan{Space: s}
	for i, m := range combos {
		cfg := s.Base
		for _, p := range s.Params { // in the space's order: later paths may refine earlier ones.
			var err error
			if cfg, err = Set(cfg, p.Path, m[p.Path]); err != nil {
				return Plan{}, err
			}
		}
		if err := cfg.Validate(); err != nil {
			return Plan{}, fmt.Errorf("trial %d (%v): %w", i+1, m, err)
		}
		plan.Trials = append(plan.Trials, Trial{Name: fmt.Sprintf("trial-%d", i+1), Params: m, Config: cfg})
	}
	return plan, nil
}

// PlanFile is the plan's name in a sweep folder; ConfigFile each trial's configuration.
const (
	PlanFile   = "plan.json"
	ConfigFile = "config.json"
)

// Write puts the plan in dir: dir/plan.json and dir/<trial>/config.json, the file that
// `vggkit train -config` runs (any scheduler can then run the trials).
func (p Plan) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, t := range p.Trials {
		if err := os.MkdirAll(filepath.Join(dir, t.Name), 0o755); err != nil {
			return err
		}
		if err := writeJSON(filepath.Join(dir, t.Name, ConfigFile), t.Config); err != nil {
			return err
		}
	}
	return writeJSON(filepath.Join(dir, PlanFile), p)
}

// ReadPlan reads dir/plan.json.
func ReadPlan(dir string) (Plan, error) {
	var p Plan
	b, err := os.ReadFile(filepath.Join(dir, PlanFile))
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	if err != nil {
		return p, fmt.Errorf("sweep plan in %s: %w", dir, err)
	}
	return p, nil
}

// Dir is a folder under root for this plan, named by a hash of its trials: changing the
// space starts a new sweep, and running the same one again finds its finished trials.
func Dir(root string, p Plan) string {
	b, _ := json.Marshal(p.Trials)
	return filepath.Join(root, fmt.Sprintf("%x", sha256.Sum256(b))[:10])
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'))
}
