package training

import (
	"github.com/vggkit/vggkit/vggkit/tfevents"
)

// tensorBoardHook writes the run's curves as TensorBoard event files into the run folder
// (l.Dir; none without one, or with NoTensorBoard), so `tensorboard --logdir DIR` shows
// one run and `--logdir PARENT` one run per folder. At each log point (Train.LogEvery
// steps; once per epoch when negative): train/loss (mean since the last point),
// train/accuracy (running, this epoch), train/learning_rate and train/images_per_sec
// (over the same steps); after each epoch: epoch/train_loss and, when evaluated,
// test/accuracy. Each process writes a new file; a resumed run's steps carry on.
func (l *Learner) tensorBoardHook() Hook {
	every := int64(l.Config.Train.LogEvery)
	var w *tfevents.Writer
	var loss, secs float64
	var n, images int
	open := func() bool {
		if w == nil && l.Dir != "" && !l.NoTensorBoard {
			var err error
			if w, err = tfevents.Create(l.Dir); err != nil {
				l.printLine("tensorboard: " + err.Error() + " (training goes on without event files)")
				l.NoTensorBoard = true
			}
		}
		return w != nil
	}
	point := func(s *State) error {
		err := scalars(w, s.Step, "train/loss", loss/float64(n), "train/accuracy", s.Accuracy,
			"train/learning_rate", s.LearningRate, "train/images_per_sec", float64(images)/secs)
		loss, secs, n, images = 0, 0, 0, 0
		return err
	}
	return Hook{Name: "tensorboard",
		OnStep: func(s *State) error {
			if !open() {
				return nil
			}
			loss, secs, n, images = loss+s.Loss, secs+s.StepTime.Seconds(), n+1, images+l.Config.Train.BatchSize
			if every > 0 && s.Step%every == 0 {
				return point(s)
			}
			return nil
		},
		OnEpoch: func(s *State, e *Epoch) error {
			if !open() {
				return nil
			}
			if every < 0 && n > 0 {
				if err := point(s); err != nil {
					return err
				}
			}
			if err := scalars(w, e.Step, "epoch/train_loss", e.TrainLoss); err != nil {
				return err
			}
			if e.TestAcc >= 0 {
				if err := scalars(w, e.Step, "test/accuracy", e.TestAcc); err != nil {
					return err
				}
			}
			return w.Flush()
		},
		OnEnd: func(_ *State, err error) error {
			if w != nil {
				if cerr := w.Close(); err == nil {
					err = cerr
				}
				w = nil
			}
			return err
		}}
}

// scalars writes tag, value pairs at step and flushes them, so a running TensorBoard
// sees each point as it comes.
func scalars(w *tfevents.Writer, step int64, kv ...any) error {
	for i := 0; i < len(kv); i += 2 {
		if err := w.Scalar(kv[i].(string), step, kv[i+1].(float64)); err != nil {
			return err
		}
	}
	return w.Flush()
}
