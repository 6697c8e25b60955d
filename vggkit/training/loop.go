package training

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/vggkit/vggkit/vggkit/checkpoint"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/loader"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// State is what the loop shares with its hooks.
type State struct {
	Learner          *Learner
	Epoch, Epochs    int   // 1-based epoch in progress, and the last one.
	Step, TotalSteps int64 // global step after this one, and where training ends.
	StepsPerEpoch    int
	Loss, Accuracy   float64 // this step's loss and (running, this epoch) training accuracy.
	LearningRate     float64 // the rate this step used.
	StepTime         time.Duration
	ImagesPerSec     float64
	Sums             *EpochSums // the epoch in progress.
	Test             *data.Set  // for evaluation hooks; may be nil.

	firstStep chan struct{} // closed after the first step: the loader then starts copying ahead.
}

// Hook is a piece of the training loop: logging, progress, evaluation, checkpoints, the
// divergence guard, a notebook's live view, early stopping... Each function is optional;
// an error stops training (ErrStop ends it without an error).
type Hook struct {
	Name    string
	OnStep  func(s *State) error
	OnEpoch func(s *State, e *Epoch) error // e can be changed (the evaluation hook sets TestAcc).
	OnEnd   func(s *State, err error) error
}

// ErrStop, returned by a hook, ends training early without an error.
var ErrStop = errors.New("stop training")

// Fit trains until Config.Train.Epochs epochs are done in total (a resumed learner
// continues), then returns. The loop itself only feeds batches, sets the learning rate
// from the schedule and calls the hooks: first the learner's own (Hooks), then extra.
func (l *Learner) Fit(ctx context.Context, train, test *data.Set, extra ...Hook) (err error) {
	s, batches, err := l.start(train, test)
	if err != nil || s == nil {
		return err
	}
	release, err := l.lock()
	if err != nil {
		return err
	}
	defer release()
	hooks := append(l.Hooks(), extra...)
	defer func() { err = end(hooks, s, err) }()
	sched := NewSchedule(l.Config.Train, s.TotalSteps)
	if c := l.History.Current; c != nil && int(s.Step) == c.Epoch*s.StepsPerEpoch {
		s.Epoch, s.Sums = c.Epoch, c // stopped after an epoch's last step, before its summary.
		if err := l.finishEpoch(hooks, s); err != nil {
			return err
		}
	}
	for epoch := int(s.Step) / s.StepsPerEpoch; epoch < s.Epochs; epoch++ {
		s.beginEpoch(l, epoch+1)
		for batch := range batches.Epoch(epoch, int(s.Step)-epoch*s.StepsPerEpoch) {
			if err := l.trainOn(ctx, s, sched(s.Step), batch, hooks); err != nil {
				return err
			}
		}
		if err := l.finishEpoch(hooks, s); err != nil {
			return err
		}
	}
	return nil
}

// lock takes the run folder for this training: one training per folder. Lock also
// removes what a killed save left behind, and an unconfirmed pending save is dropped.
func (l *Learner) lock() (release func() error, err error) {
	if l.Dir == "" {
		return func() error { return nil }, nil
	}
	release, err = checkpoint.Lock(l.Dir)
	if err == nil {
		discard(l.Dir)
	}
	return release, err
}

// trainOn runs one step at learning rate lr and then the hooks.
func (l *Learner) trainOn(ctx context.Context, s *State, lr float64, b *loader.Batch, hooks []Hook) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.LearningRate = lr
	l.setLearningRate(lr)
	if err := l.step(s, b); err != nil {
		return err
	}
	return each(hooks, func(h Hook) error { return call1(h.OnStep, s) })
}

// finishEpoch records the epoch in the history and runs the hooks' OnEpoch.
func (l *Learner) finishEpoch(hooks []Hook, s *State) error {
	l.History.Epochs = append(l.History.Epochs, s.endEpoch(l))
	e := &l.History.Epochs[len(l.History.Epochs)-1]
	return each(hooks, func(h Hook) error { return call2(h.OnEpoch, s, e) })
}

// start checks the data, works out the plan and makes the loader; a nil State means
// there is nothing left to train.
func (l *Learner) start(train, test *data.Set) (*State, *loader.Loader, error) {
	if err := train.Validate(); err != nil {
		return nil, nil, err
	}
	if len(train.Classes) != l.Config.Model.Classes {
		return nil, nil, fmt.Errorf("%s has %d classes, the model %d", train.Name, len(train.Classes), l.Config.Model.Classes)
	}
	if err := vgg.CheckInput(l.Config.Model, train.C); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", train.Name, err)
	}
	if l.Images[2] != 0 && l.Images[2] != train.C {
		return nil, nil, fmt.Errorf("%s has images of %d channels, but the model was trained on %d", train.Name, train.C, l.Images[2])
	}
	bs := l.Config.Train.BatchSize
	s := &State{Learner: l, Epochs: l.Config.Train.Epochs, StepsPerEpoch: train.Len() / bs, Step: l.Step(), Test: test,
		firstStep: make(chan struct{})}
	if s.StepsPerEpoch == 0 {
		return nil, nil, fmt.Errorf("batch size %d is larger than %s (%d images)", bs, train.Name, train.Len())
	}
	if l.Dataset == "" {
		l.Dataset = train.Name
	}
	l.Images = [3]int{train.H, train.W, train.C}
	s.TotalSteps = int64(s.Epochs * s.StepsPerEpoch)
	l.freezeSteps = l.FreezeSteps(s.StepsPerEpoch)
	if s.Step >= s.TotalSteps && l.History.Current == nil {
		fmt.Fprintf(l.Out, "already trained %d steps (%d epochs): nothing to do\n", s.Step, s.Epochs)
		return nil, nil, nil
	}
	if stop, best := EarlyStopped(l.History.Epochs, l.Config.Train.EarlyStop); stop && l.History.Current == nil {
		fmt.Fprintf(l.Out, "stopped early after epoch %d (best test accuracy at epoch %d): nothing to do; raise early_stop to go on\n",
			len(l.History.Epochs), best.Epoch)
		return nil, nil, nil
	}
	if s.Step > 0 {
		fmt.Fprintf(l.Out, "resuming at step %d of %d (epoch %d)\n", s.Step, s.TotalSteps, int(s.Step)/s.StepsPerEpoch+1)
	}
	if l.Config.Train.DataParallel && l.parallel == nil {
		if err := l.setupDataParallel(); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(l.Out, "data parallel: each batch of %d split over %d devices\n", bs, len(l.parallel.devices))
	}
	lopts := loader.Options{BatchSize: bs, Shuffle: true, DropLast: true, Seed: l.Config.Train.Seed, Tensors: true}
	if l.parallel == nil && !l.Backend.IsGo() {
		lopts.Device, lopts.DeviceAfter = l.Backend.Backend, s.firstStep // data parallel shards from the host copy.
	}
	batches, err := loader.New(train, lopts)
	return s, batches, err
}

// step runs one training step and updates the state.
func (l *Learner) step(s *State, b *loader.Batch) error {
	t0 := time.Now()
	var err error
	s.Loss, s.Accuracy, err = l.TrainStep(b.Images, b.LabelsT)
	if s.firstStep != nil {
		close(s.firstStep)
		s.firstStep = nil
	}
	if err != nil {
		return fmt.Errorf("training step %d: %w", s.Step+1, err)
	}
	s.Step++
	s.StepTime = time.Since(t0)
	s.ImagesPerSec = float64(l.Config.Train.BatchSize) / s.StepTime.Seconds()
	s.Sums.Steps++
	s.Sums.Loss += s.Loss
	s.Sums.Acc = s.Accuracy
	s.Sums.Images += l.Config.Train.BatchSize
	s.Sums.Seconds += s.StepTime.Seconds()
	return nil
}

// beginEpoch continues the sums a checkpoint saved mid-epoch, or starts new ones.
func (s *State) beginEpoch(l *Learner, epoch int) {
	s.Epoch = epoch
	if c := l.History.Current; c != nil && c.Epoch == epoch {
		s.Sums = c
	} else {
		s.Sums = &EpochSums{Epoch: epoch}
	}
	l.History.Current = s.Sums
	for _, t := range []*train.Trainer{l.trainer, l.headTrainer} {
		if t != nil {
			_ = t.ResetTrainMetrics()
		}
	}
}

func (s *State) endEpoch(l *Learner) Epoch {
	c := s.Sums
	l.History.Current = nil
	e := Epoch{Epoch: c.Epoch, Step: s.Step, TrainAcc: c.Acc, TestAcc: -1, Seconds: c.Seconds}
	if c.Steps > 0 {
		e.TrainLoss = c.Loss / float64(c.Steps)
	}
	if c.Seconds > 0 {
		e.ImagesPerSec = float64(c.Images) / c.Seconds
	}
	return e
}

func each(hooks []Hook, fn func(Hook) error) error {
	for _, h := range hooks {
		if err := fn(h); err != nil {
			if h.Name != "" && !errors.Is(err, ErrStop) {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
			return err
		}
	}
	return nil
}

// end gives every hook the outcome (they may replace it); ErrStop becomes success.
func end(hooks []Hook, s *State, err error) error {
	if errors.Is(err, ErrStop) {
		err = nil
	}
	for _, h := range hooks {
		if h.OnEnd != nil {
			err = h.OnEnd(s, err)
		}
	}
	return err
}

func call1(fn func(*State) error, s *State) error {
	if fn == nil {
		return nil
	}
	return fn(s)
}

func call2(fn func(*State, *Epoch) error, s *State, e *Epoch) error {
	if fn == nil {
		return nil
	}
	return fn(s, e)
}

func scalar(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}
