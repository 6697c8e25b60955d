package sweep

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/training"
)

// DivergedFile, in a trial's folder, holds the message of a run whose loss blew up: a
// result (that setting is too aggressive), not a failure of the sweep.
const DivergedFile = "diverged.txt"

// Result is what a trial's run folder says: its settings, how far it trained, and how well.
type Result struct {
	Name      string           `json:"name"`
	Params    map[string]any   `json:"params"`
	Config    config.Config    `json:"config"`
	Epochs    int              `json:"epochs"`        // epochs trained.
	TestAcc   float64          `json:"test_accuracy"` // at the last evaluated epoch; -1: none.
	TrainLoss float64          `json:"train_loss"`    // of the last epoch.
	Seconds   float64          `json:"seconds"`       // training time, summed over the epochs.
	Diverged  string           `json:"diverged,omitempty"`
	History   training.History `json:"history"`
}

// ReadResult reads the result of the run folder dir (its checkpoint's metadata).
func ReadResult(dir string) (Result, error) {
	res := Result{Name: filepath.Base(dir), TestAcc: -1}
	if b, err := os.ReadFile(filepath.Join(dir, DivergedFile)); err == nil {
		res.Diverged = strings.TrimSpace(string(b))
	}
	if !training.HasCheckpoint(dir) {
		if res.Diverged != "" {
			return res, nil
		}
		return res, fmt.Errorf("trial %s: no checkpoint yet: %w", dir, os.ErrNotExist)
	}
	m, err := training.ReadMeta(dir)
	if err != nil {
		return res, err
	}
	res.Config, res.History = m.Config, m.History
	for _, e := range m.History.Epochs {
		res.Epochs, res.TrainLoss, res.Seconds = e.Epoch, e.TrainLoss, res.Seconds+e.Seconds
		if e.TestAcc >= 0 {
			res.TestAcc = e.TestAcc
		}
	}
	return res, nil
}

// Collect reads every trial folder under dir (those with a checkpoint or a divergence),
// best first; dir/plan.json, when there, gives each trial its parameters. Trials not yet
// run are left out, so a sweep can be collected while it runs.
func Collect(dir string) ([]Result, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	plan, planErr := ReadPlan(dir)
	params := map[string]map[string]any{}
	for _, t := range plan.Trials {
		params[t.Name] = t.Params
	}
	var out []Result
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		res, err := ReadResult(filepath.Join(dir, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, nil, err
		}
		res.Params = params[res.Name]
		out = append(out, res)
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("no trial results in %s (no run folders with a checkpoint)", dir)
	}
	paths := plan.Space.Paths()
	if planErr != nil {
		paths = varying(out)
		for i := range out {
			out[i].Params = map[string]any{}
			for _, p := range paths {
				out[i].Params[p] = Get(out[i].Config, p)
			}
		}
	}
	Sort(out)
	return out, paths, nil
}

// Paths lists the space's parameters in order.
func (s Space) Paths() []string {
	var out []string
	for _, p := range s.Params {
		out = append(out, p.Path)
	}
	return out
}

// varying lists the configuration fields that differ between results (without a plan,
// those are the sweep's parameters), leaving out the epochs, which halving varies.
func varying(rs []Result) []string {
	var out []string
	for _, r := range rs[1:] {
		for _, d := range config.Diff(rs[0].Config, r.Config, "train.epochs", "data.dir") {
			if p, _, _ := strings.Cut(d, ":"); !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Better orders results best first: higher test accuracy, then more epochs, then the plan's order.
func Better(a, b Result) int {
	if c := cmp.Compare(b.TestAcc, a.TestAcc); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Epochs, a.Epochs); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(len(a.Name), len(b.Name)), strings.Compare(a.Name, b.Name)) // trial-2 before trial-10.
}

// Sort sorts results best first.
func Sort(rs []Result) { slices.SortStableFunc(rs, Better) }
