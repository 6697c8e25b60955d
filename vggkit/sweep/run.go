package sweep

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/training"
)

// TrainFunc trains the run folder dir to cfg.Train.Epochs epochs, resuming what is there
// (vggkit.TrainTrial). A diverged run returns an error wrapping training.ErrDiverged.
type TrainFunc func(ctx context.Context, cfg config.Config, dir string) error

// Options says where and how a sweep runs.
type Options struct {
	Dir   string    // the sweep folder: plan.json and one run folder per trial.
	Train TrainFunc // required.
	// Rungs are the epochs of successive halving, e.g. {1, 3}: every trial trains Rungs[0]
	// epochs, the best 1/Eta by test accuracy go on to Rungs[1] (resuming their
	// checkpoints), and so on. nil: every trial trains its configuration's epochs.
	Rungs []int
	Eta   int            // 0: 3.
	Watch func(Progress) // called as each training starts and ends; may be nil.
}

// Progress is what Watch sees: where the sweep is, and what it has found.
type Progress struct {
	Job, Jobs   int    // the training in progress (1-based) and how many the sweep runs in all.
	Rung, Rungs int    // 1-based.
	Trial       string // the trial in progress; "" once the sweep is done.
	Epochs      int    // what the trial trains to in this rung.
	Done        bool   // the trial just finished (else it is starting).
	Results     []Result
	Best        *Result // the best so far; nil before the first result.
	Elapsed     time.Duration
}

// Run trains the plan in opts.Dir with successive halving and returns every trial's
// result, best first. It is resumable: a trial whose folder already holds the epochs a
// rung asks for is read, not retrained, so running a finished sweep again costs seconds.
func Run(ctx context.Context, plan Plan, opts Options) ([]Result, error) {
	if opts.Train == nil || opts.Dir == "" || len(plan.Trials) == 0 {
		return nil, fmt.Errorf("sweep: need a plan (%d trials), a folder (%q) and a Train function", len(plan.Trials), opts.Dir)
	}
	if err := plan.Write(opts.Dir); err != nil {
		return nil, err
	}
	rungs, eta := opts.Rungs, max(opts.Eta, 2)
	if opts.Eta == 0 {
		eta = 3
	}
	r := &runner{plan: plan, opts: opts, rungs: rungs, eta: eta, start: time.Now(), results: map[string]Result{}}
	return r.run(ctx)
}

type runner struct {
	plan      Plan
	opts      Options
	rungs     []int
	eta       int
	start     time.Time
	job, jobs int
	results   map[string]Result
}

func (r *runner) run(ctx context.Context) ([]Result, error) {
	alive := r.plan.Trials
	r.jobs = jobs(len(alive), len(r.rungs), r.eta)
	for i := 0; i < max(1, len(r.rungs)); i++ {
		if i > 0 {
			alive = r.best(alive, keep(len(alive), r.eta))
		}
		for _, t := range alive {
			if err := r.train(ctx, t, i); err != nil {
				return r.sorted(), err
			}
		}
	}
	r.watch(Progress{Rung: max(1, len(r.rungs))})
	return r.sorted(), nil
}

// keep is how many of n trials go on to the next rung: n/eta, at least one.
func keep(n, eta int) int { return max(1, n/eta) }

func jobs(n, rungs, eta int) int {
	total := n
	for i := 1; i < rungs; i++ {
		n = keep(n, eta)
		total += n
	}
	return total
}

// train runs trial t to rung i's epochs (its own epochs without rungs) and records it.
func (r *runner) train(ctx context.Context, t Trial, rung int) error {
	cfg := t.Config
	if len(r.rungs) > 0 {
		cfg.Train.Epochs = r.rungs[rung]
	}
	dir := filepath.Join(r.opts.Dir, t.Name)
	r.job++
	p := Progress{Rung: rung + 1, Rungs: max(1, len(r.rungs)), Trial: t.Name, Epochs: cfg.Train.Epochs}
	res, err := ReadResult(dir)
	if err != nil || (res.Epochs < cfg.Train.Epochs && res.Diverged == "") {
		r.watch(p)
		if err := r.opts.Train(ctx, cfg, dir); err != nil {
			if !errors.Is(err, training.ErrDiverged) {
				return fmt.Errorf("sweep trial %s: %w", t.Name, err)
			}
			_ = os.WriteFile(filepath.Join(dir, DivergedFile), []byte(err.Error()+"\n"), 0o644)
		}
		if res, err = ReadResult(dir); err != nil {
			return err
		}
	}
	res.Params = t.Params
	r.results[t.Name] = res
	p.Done = true
	r.watch(p)
	return nil
}

func (r *runner) watch(p Progress) {
	if r.opts.Watch == nil {
		return
	}
	p.Job, p.Jobs, p.Results, p.Elapsed = r.job, r.jobs, r.sorted(), time.Since(r.start)
	if len(p.Results) > 0 {
		p.Best = &p.Results[0]
	}
	r.opts.Watch(p)
}

// best keeps the n trials with the highest test accuracy (ties: the plan's order).
func (r *runner) best(trials []Trial, n int) []Trial {
	out := slices.Clone(trials)
	slices.SortStableFunc(out, func(a, b Trial) int { return Better(r.results[a.Name], r.results[b.Name]) })
	return out[:n]
}

func (r *runner) sorted() []Result {
	var out []Result
	for _, t := range r.plan.Trials {
		if res, ok := r.results[t.Name]; ok {
			out = append(out, res)
		}
	}
	Sort(out)
	return out
}
