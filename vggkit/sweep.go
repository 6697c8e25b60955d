package vggkit

import (
	"context"
	"io"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/sweep"
)

// Sweep runs a hyperparameter sweep with vggkit's trainer (TrainTrial): every trial is
// an ordinary run folder under opts.Dir, trained with successive halving when
// opts.Rungs is set; the results come back best first (see package sweep).
//
//	plan, _ := sweep.Random(space, 12, 1)
//	results, _ := vggkit.Sweep(ctx, plan, sweep.Options{Dir: sweep.Dir("runs/sweep", plan), Rungs: []int{1, 3}})
func Sweep(ctx context.Context, plan sweep.Plan, opts sweep.Options) ([]sweep.Result, error) {
	if opts.Train == nil {
		opts.Train = TrainTrial
	}
	return sweep.Run(ctx, plan, opts)
}

// TrainTrial trains the run folder dir to cfg.Train.Epochs, quietly (the sweep reports
// progress), resuming its checkpoint: a later rung of successive halving only raises
// the epochs, which a resume may change. The data is loaded again for each trial;
// beside a training of seconds per epoch that costs little, and keeps trials independent.
func TrainTrial(ctx context.Context, cfg config.Config, dir string) error {
	run, err := Open(cfg, dir)
	if err != nil {
		return err
	}
	run.Learner.Out, run.Learner.NoProgressLine = io.Discard, true
	return run.Fit(ctx)
}
