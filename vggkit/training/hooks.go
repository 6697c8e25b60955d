package training

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Hooks are the learner's own hooks, in the order they run: the divergence guard (first,
// so nothing records or saves a diverged step), test evaluation, the loss log, the
// progress line, TensorBoard's event files, checkpoints (so they hold what the others
// recorded) and early stopping (last, so the epoch it stops after is saved).
func (l *Learner) Hooks() []Hook {
	return []Hook{l.guardHook(), l.evalHook(), l.logHook(), l.progressHook(), l.tensorBoardHook(), l.checkpointHook(),
		l.earlyStopHook()}
}

// ErrDiverged is returned (wrapped) when the loss becomes NaN or Inf, or explodes.
var ErrDiverged = errors.New("training diverged")

// guardHook stops training at a non-finite loss, or one ten times above the larger of
// chance level (ln classes) and the first loss this Fit saw: such a step's weights came
// from a diverging update, and the checkpoint hook never promotes them.
func (l *Learner) guardHook() Hook {
	limit := 0.0
	return Hook{Name: "divergence guard", OnStep: func(s *State) error {
		if limit == 0 {
			limit = 10 * math.Max(math.Log(float64(l.Config.Model.Classes)), s.Loss)
		}
		if math.IsNaN(s.Loss) || math.IsInf(s.Loss, 0) || s.Loss > limit {
			return fmt.Errorf("%w: loss = %v at step %d (epoch %d; limit %.3g): try a lower learning rate (now %g); "+
				"the last good checkpoint is kept", ErrDiverged, s.Loss, s.Step, s.Epoch, limit, s.LearningRate)
		}
		return nil
	}}
}

// evalHook measures test accuracy every Train.EvalEvery epochs (0: each; negative: never).
func (l *Learner) evalHook() Hook {
	every := l.Config.Train.EvalEvery
	return Hook{Name: "evaluation", OnEpoch: func(s *State, e *Epoch) error {
		if s.Test == nil || every < 0 || e.Epoch%max(1, every) != 0 {
			return nil
		}
		r, err := l.Evaluate(s.Test)
		if err != nil {
			return err
		}
		e.TestAcc = r.Report.Accuracy
		return nil
	}}
}

// logHook records the mean loss every Train.LogEvery steps (negative: once per epoch)
// into the history, prints it, and prints a line per epoch.
func (l *Learner) logHook() Hook {
	every := l.Config.Train.LogEvery
	var sum float64
	var n int
	record := func(s *State) {
		l.History.Steps = append(l.History.Steps, s.Step)
		l.History.Loss = append(l.History.Loss, sum/float64(n))
		sum, n = 0, 0
	}
	return Hook{Name: "log",
		OnStep: func(s *State) error {
			sum, n = sum+s.Loss, n+1
			if every > 0 && s.Step%int64(every) == 0 {
				l.printLine(fmt.Sprintf("[%d, %5d] loss: %.3f", s.Epoch, s.Step, sum/float64(n)))
				record(s)
			}
			return nil
		},
		OnEpoch: func(s *State, e *Epoch) error {
			if every < 0 && n > 0 {
				record(s)
			}
			msg := fmt.Sprintf("epoch %d/%d: train loss %.4f, train acc %.2f%%", e.Epoch, s.Epochs, e.TrainLoss, 100*e.TrainAcc)
			if e.TestAcc >= 0 {
				msg += fmt.Sprintf(", test acc %.2f%%", 100*e.TestAcc)
			}
			l.printLine(fmt.Sprintf("%s (%.1fs, %.1f img/s)", msg, e.Seconds, e.ImagesPerSec))
			return nil
		}}
}

func (l *Learner) printLine(s string) {
	if l.bar != nil {
		l.bar.println(s)
		return
	}
	fmt.Fprintln(l.Out, s)
}

// progressHook draws the progress line; its ETA leaves out the first step of this
// process, which holds the graph's compilation (see stepRate).
func (l *Learner) progressHook() Hook {
	var rate stepRate
	return Hook{Name: "progress",
		OnStep: func(s *State) error {
			if l.NoProgressLine {
				return nil
			}
			if l.bar == nil {
				l.bar = newProgress(l.Out)
			}
			per, ok := rate.observe(s.Step, time.Now())
			if l.bar.due(s.Step == s.TotalSteps) {
				l.bar.show(progressLine(s, per, ok))
			}
			return nil
		},
		OnEpoch: func(*State, *Epoch) error {
			if l.bar != nil {
				l.bar.clear()
			}
			return nil
		},
		OnEnd: func(_ *State, err error) error {
			if l.bar != nil {
				l.bar.clear()
				l.bar = nil
			}
			rate = stepRate{}
			return err
		}}
}

// stepRate measures the time per step from the end of this process's first step: that
// step compiles the graph (seconds to minutes), and counting it made the first ETA read
// hours for a run of minutes.
type stepRate struct {
	started bool
	first   int64
	since   time.Time
}

// observe records that step ended at now and returns the time per step since the first
// step; ok is false until a step after the first has ended.
func (r *stepRate) observe(step int64, now time.Time) (per time.Duration, ok bool) {
	if !r.started {
		r.started, r.first, r.since = true, step, now
		return 0, false
	}
	if step <= r.first {
		return 0, false
	}
	return now.Sub(r.since) / time.Duration(step-r.first), true
}

// progressLine is the status line; without a rate yet (ok false: only the compiling step
// has run) it says so instead of an ETA.
func progressLine(s *State, per time.Duration, ok bool) string {
	const width = 24
	done := int(float64(width) * float64(s.Step) / float64(s.TotalSteps))
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < done {
			bar[i] = '='
		}
	}
	head := fmt.Sprintf("epoch %d/%d [%s] step %d/%d loss %.4f", s.Epoch, s.Epochs, bar, s.Step, s.TotalSteps, s.Loss)
	if !ok {
		return fmt.Sprintf("%s | first step %s (compiling the graph); ETA after the next steps", head,
			s.StepTime.Round(100*time.Millisecond))
	}
	eta := time.Duration(float64(s.TotalSteps-s.Step) * float64(per)).Round(time.Second)
	return fmt.Sprintf("%s | %.0f ms/step, %.1f img/s, ETA %s", head, float64(per.Microseconds())/1000, s.ImagesPerSec, eta)
}

// checkpointHook saves into l.Dir every Train.CheckpointMinutes and at each epoch's end.
// A save goes to dir/pending first and replaces the checkpoint only once the next step's
// loss, computed with those weights, passed the guard (or training ended well); when the
// guard fires, the pending one is dropped and the last good checkpoint stays.
func (l *Learner) checkpointHook() Hook {
	minutes := l.Config.Train.CheckpointMinutes
	last := time.Now()
	save := func() error {
		last = time.Now()
		return l.Save(pending(l.Dir))
	}
	return Hook{Name: "checkpoint",
		OnStep: func(s *State) error {
			if l.Dir == "" {
				return nil
			}
			if err := promote(l.Dir); err != nil {
				return err
			}
			if minutes > 0 && time.Since(last).Minutes() >= minutes {
				return save()
			}
			return nil
		},
		OnEpoch: func(*State, *Epoch) error {
			if l.Dir == "" {
				return nil
			}
			return save()
		},
		OnEnd: func(s *State, err error) error {
			switch {
			case l.Dir == "":
			case errors.Is(err, ErrDiverged):
				discard(l.Dir)
			case errors.Is(err, context.Canceled):
				// Interrupted between steps: keep the progress (the last loss passed the guard).
				if serr := save(); serr == nil {
					fmt.Fprintf(l.Out, "interrupted: saved at step %d in %s; run again to resume\n", s.Step, l.Dir)
				}
				fallthrough
			default:
				if perr := promote(l.Dir); perr != nil && err == nil {
					err = perr
				}
			}
			return err
		}}
}
