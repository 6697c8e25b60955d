package training

import (
	"context"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/testbackend"
)

// snapshot copies the model's variables (path -> values).
func snapshotVars(t *testing.T, l *Learner) map[string][]float32 {
	t.Helper()
	vars, err := l.Variables()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for p, v := range vars {
		out[p] = tensors.MustCopyFlatData[float32](v)
	}
	return out
}

// maxChange is the largest |a-b| over the variables whose path has the prefix and whose
// name is (or, with stats false, is not) a batch-norm statistic.
func maxChange(a, b map[string][]float32, prefix string, stats bool) float64 {
	var d float64
	for p, x := range a {
		if !strings.HasPrefix(p, prefix) || isStatistic(p) != stats || strings.HasSuffix(p, "avg_weight") {
			continue
		}
		for i := range x {
			d = math.Max(d, math.Abs(float64(x[i]-b[p][i])))
		}
	}
	return d
}

// Fine-tuning from a vggkit checkpoint onto a 5-class task: the trunk starts as the
// checkpoint's, the new head fresh; while frozen (one epoch) only the head changes and the
// batch-norm statistics stay; after, the trunk trains too.
func TestFineTuneFreezesTrunkThenTrainsIt(t *testing.T) {
	b := testbackend.Choice(t)
	_, src := trainedOneEpoch(t, b)
	pre, err := Load(b, src)
	if err != nil {
		t.Fatal(err)
	}
	preVars := snapshotVars(t, pre)

	all := shapesSet(t, "train", 4)
	task, err := all.OnlyClasses(all.Classes[:5]) // a new task: 20 images, batch 16: one step per epoch
	if err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig(tinyModel(), tinyOptions())
	cfg.Train.Weights, cfg.Train.Epochs, cfg.Model.Classes = src, 1, 0
	l, err := New(b, cfg, task.Classes)
	if err != nil {
		t.Fatal(err)
	}
	l.Out = io.Discard
	if _, err := l.Logits(task); err != nil { // builds the new head
		t.Fatal(err)
	}
	start := snapshotVars(t, l)
	if d := maxChange(preVars, start, "features/", false); d != 0 {
		t.Fatalf("trunk not loaded from the checkpoint: differs by %g", d)
	}
	if n := len(start["classifier/0/dense/biases"]); n != 5 {
		t.Fatalf("head has %d outputs, want 5 (the 10-class head loaded?)", n)
	}
	if err := l.Fit(context.Background(), task, nil); err != nil {
		t.Fatal(err)
	}
	frozen := snapshotVars(t, l)
	if d := maxChange(start, frozen, "features/", false); d != 0 {
		t.Errorf("trunk weights changed by %g while frozen", d)
	}
	if d := maxChange(start, frozen, "features/", true); d != 0 {
		t.Errorf("batch-norm statistics changed by %g while frozen", d)
	}
	if d := maxChange(start, frozen, "classifier/", false); d == 0 {
		t.Error("the head did not train while the trunk was frozen")
	}

	l.Config.Train.Epochs = 2 // unfrozen from the second epoch on
	if err := l.Fit(context.Background(), task, nil); err != nil {
		t.Fatal(err)
	}
	after := snapshotVars(t, l)
	if d := maxChange(frozen, after, "features/", false); d == 0 {
		t.Error("trunk weights did not change after unfreezing")
	}
	if d := maxChange(frozen, after, "features/", true); d == 0 {
		t.Error("batch-norm statistics did not change after unfreezing")
	}
}

// With TrunkLR f the trunk's change in one step is f times the change at TrunkLR 1 from
// the same weights and batch (for Adam, whose step a scaled gradient would not change);
// the head's change is the same.
func TestTrunkLearningRateScalesTrunkStep(t *testing.T) {
	b := testbackend.Choice(t)
	set := shapesSet(t, "train", 2)
	step := func(f float64) (before, after map[string][]float32) {
		o := tinyOptions()
		o.TrunkLR = f
		m := tinyModel()
		m.BatchNorm = false // batch statistics would differ in nothing, but keep the check to weights
		l, err := newLearner(b, m, o, set.Classes)
		if err != nil {
			t.Fatal(err)
		}
		l.Out = io.Discard
		if _, err := l.Logits(set); err != nil { // builds the variables
			t.Fatal(err)
		}
		before = snapshotVars(t, l)
		imgs := tensors.FromFlatDataAndDimensions(set.Pixels[:16*set.H*set.W*set.C], 16, set.H, set.W, set.C)
		labels := tensors.FromFlatDataAndDimensions(append([]int32(nil), set.Labels[:16]...), 16, 1)
		if _, _, err := l.TrainStep(imgs, labels); err != nil {
			t.Fatal(err)
		}
		return before, snapshotVars(t, l)
	}
	b1, a1 := step(1)
	bq, aq := step(0.25)
	for p := range b1 {
		if maxChange(map[string][]float32{p: b1[p]}, map[string][]float32{p: bq[p]}, "", false) != 0 {
			t.Fatalf("%s: the two learners start from different weights", p)
		}
		want := 1.0
		if strings.HasPrefix(p, "features/") {
			want = 0.25
		}
		var num, den float64
		for i := range b1[p] {
			d1, dq := float64(a1[p][i]-b1[p][i]), float64(aq[p][i]-bq[p][i])
			num += d1 * dq
			den += d1 * d1
		}
		if den == 0 {
			t.Fatalf("%s did not change", p)
		}
		if got := num / den; math.Abs(got-want) > 0.01*want {
			t.Errorf("%s: step is %.4f x the full-rate step, want %g", p, got, want)
		}
	}
}

// A checkpoint of another trunk is refused, naming what differs.
func TestWeightsFromAnotherTrunkRefused(t *testing.T) {
	b := testbackend.Choice(t)
	_, src := trainedOneEpoch(t, b)
	m := tinyModel()
	m.Width *= 2
	cfg := tinyConfig(m, tinyOptions())
	cfg.Train.Weights, cfg.Model.Classes = src, 0
	_, err := New(b, cfg, shapesSet(t, "train", 1).Classes)
	if err == nil || !strings.Contains(err.Error(), "model.width") || !strings.Contains(err.Error(), src) {
		t.Fatalf("got %v, want an error naming model.width and %s", err, src)
	}
}
