package training

import "fmt"

// Early stopping, as fastai's EarlyStoppingCallback (monitor accuracy, min_delta 0): stop
// once Train.EarlyStop evaluations in a row brought no better test accuracy than the
// best before them. It only stops: the run keeps its last weights (the checkpoint of the
// final epoch), as fastai does without SaveModelCallback; the history says which epoch
// was best. It reads the history, so a resumed run counts the evaluations it made before.

// EarlyStopped tells whether the evaluations in epochs (TestAcc < 0: not evaluated)
// ended patience evaluations without improvement, and which epoch was the best.
func EarlyStopped(epochs []Epoch, patience int) (stop bool, best Epoch) {
	if patience <= 0 {
		return false, best
	}
	best.TestAcc = -1
	wait := 0
	for _, e := range epochs {
		switch {
		case e.TestAcc < 0:
		case e.TestAcc > best.TestAcc:
			best, wait = e, 0
		default:
			wait++
		}
	}
	return wait >= patience, best
}

// earlyStopHook ends training (ErrStop) after an epoch that makes EarlyStopped true. It
// runs last, so that epoch is logged and checkpointed like any other.
func (l *Learner) earlyStopHook() Hook {
	patience := l.Config.Train.EarlyStop
	return Hook{Name: "early stop", OnEpoch: func(s *State, e *Epoch) error {
		stop, best := EarlyStopped(l.History.Epochs, patience)
		if !stop {
			return nil
		}
		l.printLine(fmt.Sprintf("early stop after epoch %d: no better test accuracy in %d evaluations (best %.2f%% at epoch %d)",
			e.Epoch, patience, 100*best.TestAcc, best.Epoch))
		return ErrStop
	}}
}
