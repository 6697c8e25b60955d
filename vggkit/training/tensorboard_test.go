package training

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/vggkit/vggkit/vggkit/refstest"
	"github.com/vggkit/vggkit/vggkit/testbackend"
)

// A 2-epoch run with a folder writes event files that TensorBoard's own reader
// (EventAccumulator, tensorboard 2.20) reads back with the exact values the loop had
// (as float32, TensorBoard's simple_value), at the right steps.
func TestTensorBoardEventsReadBack(t *testing.T) {
	py := refstest.Python(t)
	b := testbackend.Choice(t)
	trainSet, test := shapesSet(t, "train", 4), shapesSet(t, "test", 2) // 2 steps per epoch.
	o := tinyOptions()
	o.LogEvery, o.EvalEvery, o.Schedule = 1, 1, "onecycle"
	dir := t.TempDir()
	l := newIn(t, b, tinyConfig(tinyModel(), o), dir, trainSet.Classes)
	want := map[string]map[int64]float32{"train/loss": {}, "train/accuracy": {}, "train/learning_rate": {},
		"test/accuracy": {}, "epoch/train_loss": {}}
	rec := Hook{
		OnStep: func(s *State) error {
			want["train/loss"][s.Step] = float32(s.Loss)
			want["train/accuracy"][s.Step] = float32(s.Accuracy)
			want["train/learning_rate"][s.Step] = float32(s.LearningRate)
			return nil
		},
		OnEpoch: func(s *State, e *Epoch) error {
			want["test/accuracy"][e.Step] = float32(e.TestAcc)
			want["epoch/train_loss"][e.Step] = float32(e.TrainLoss)
			return nil
		}}
	if err := l.Fit(context.Background(), trainSet, test, rec); err != nil {
		t.Fatal(err)
	}
	out := refstest.Run(t, py, dir, `
import json
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(".")
acc.Reload()
print(json.dumps({tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}))
`)
	var got map[string][][2]float64
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if n := len(got["train/images_per_sec"]); n != 4 {
		t.Errorf("train/images_per_sec: %d points, want 4", n)
	}
	for tag, byStep := range want {
		if len(got[tag]) != len(byStep) {
			t.Errorf("%s: TensorBoard read %d points %v, vggkit wrote %d", tag, len(got[tag]), got[tag], len(byStep))
		}
		for _, p := range got[tag] {
			if w, ok := byStep[int64(p[0])]; !ok || float32(p[1]) != w {
				t.Errorf("%s at step %g: TensorBoard read %g, vggkit had %g (%v)", tag, p[0], p[1], w, ok)
			}
		}
	}
}
