package training

import (
	"errors"
	"io"
	"testing"

	"github.com/vggkit/vggkit/vggkit/testbackend"
)

// A scripted test accuracy, one value per epoch (-1: not evaluated). With patience 2 the
// best is 0.6 at epoch 3; epochs 4 (0.6, not better), 5 (skipped) and 6 (0.55) make two
// evaluations without improvement: training stops after epoch 6, not before.
func TestEarlyStopAtTheRightEpoch(t *testing.T) {
	accs := []float64{0.3, 0.5, 0.6, 0.6, -1, 0.55, 0.7, 0.1}
	l, err := newLearner(testbackend.Choice(t), tinyModel(), tinyOptions(), shapesSet(t, "test", 1).Classes)
	if err != nil {
		t.Fatal(err)
	}
	l.Out = io.Discard
	l.Config.Train.EarlyStop = 2
	hook := l.earlyStopHook()
	stopped := 0
	for i, acc := range accs {
		l.History.Epochs = append(l.History.Epochs, Epoch{Epoch: i + 1, TestAcc: acc})
		err := hook.OnEpoch(&State{Learner: l}, &l.History.Epochs[i])
		if errors.Is(err, ErrStop) {
			stopped = i + 1
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if stopped != 6 {
		t.Fatalf("stopped after epoch %d, want 6", stopped)
	}
	if stop, best := EarlyStopped(l.History.Epochs, 2); !stop || best.Epoch != 3 || best.TestAcc != 0.6 {
		t.Errorf("EarlyStopped: %v, best %+v; want true, epoch 3 at 0.6", stop, best)
	}
	for _, c := range []struct {
		patience int
		want     bool
	}{{0, false}, {1, true}, {3, false}} {
		if stop, _ := EarlyStopped(l.History.Epochs, c.patience); stop != c.want {
			t.Errorf("patience %d: stop %v, want %v", c.patience, stop, c.want)
		}
	}
}
