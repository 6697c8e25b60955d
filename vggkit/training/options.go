// Package training trains and evaluates a VGG on a dataset: the loop (progress, loss
// printing, NaN stop), optimizers and schedules, checkpoints that resume, and
// prediction over whole splits.
package training

import "fmt"

// Options are the training hyperparameters. Defaults live in vggkit.Defaults.
type Options struct {
	Optimizer    string  `json:"optimizer"`     // "adam" or "sgd" (with momentum).
	LearningRate float64 `json:"learning_rate"` // peak learning rate.
	Momentum     float64 `json:"momentum"`      // sgd only.
	WeightDecay  float64 `json:"weight_decay"`  // L2 added to the gradient (PyTorch's weight_decay).
	Schedule     string  `json:"schedule"`      // "constant" or "cosine" (to 0 over all epochs).
	Epochs       int     `json:"epochs"`
	BatchSize    int     `json:"batch_size"`
	Seed         uint64  `json:"seed"`      // shuffling, initialisation and augmentation.
	LogEvery     int     `json:"log_every"` // print the mean loss every N steps (0: once per epoch).

	CheckpointDir     string  `json:"-"`                  // "" disables checkpoints.
	CheckpointMinutes float64 `json:"checkpoint_minutes"` // also save every N minutes (0: only at epoch ends).
	EvalEachEpoch     bool    `json:"eval_each_epoch"`    // test accuracy after every epoch.
	DataParallel      bool    `json:"data_parallel"`      // split each batch over all local devices (GPUs).
}

// Validate names the first bad option and its value.
func (o Options) Validate() error {
	switch o.Optimizer {
	case "adam", "sgd":
	default:
		return fmt.Errorf("unknown optimizer %q: valid are adam, sgd", o.Optimizer)
	}
	switch o.Schedule {
	case "constant", "cosine":
	default:
		return fmt.Errorf("unknown schedule %q: valid are constant, cosine", o.Schedule)
	}
	if !(o.LearningRate > 0 && o.LearningRate < 10) {
		return fmt.Errorf("learning rate %g out of range (0, 10)", o.LearningRate)
	}
	if o.Momentum < 0 || o.Momentum >= 1 {
		return fmt.Errorf("momentum %g out of range [0, 1)", o.Momentum)
	}
	if o.WeightDecay < 0 {
		return fmt.Errorf("weight decay %g must be >= 0", o.WeightDecay)
	}
	if o.Epochs < 1 {
		return fmt.Errorf("epochs %d: need at least 1", o.Epochs)
	}
	if o.BatchSize < 1 {
		return fmt.Errorf("batch size %d: need at least 1", o.BatchSize)
	}
	if o.LogEvery < 0 || o.CheckpointMinutes < 0 {
		return fmt.Errorf("log-every %d and checkpoint minutes %g must be >= 0", o.LogEvery, o.CheckpointMinutes)
	}
	return nil
}
