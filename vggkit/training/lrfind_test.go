package training

import (
	"context"
	"fmt"
	"io"
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/testbackend"
)

// A synthetic curve, worked through fastai's rules by hand (rates 1e-5 * 10^(i/4)).
// Valley: the longest strictly falling run ends at i=8 (1.4) and has 7 points
// (3.0 2.9 2.8 2.5 2.0 1.5 1.4), so maxStart = 8-7 = 1, sections = 7/3 and the index is
// 1 + int(2.33) + int(1.17) = 4. Steep: the steepest fall is 2.6 -> 2.0, from i=5.
// Minimum: 1.4 at i=8, suggested /10.
func TestSuggestOnSyntheticCurve(t *testing.T) {
	losses := []float64{3.0, 2.9, 3.1, 2.8, 2.5, 2.6, 2.0, 1.5, 1.4, 1.6, 3.0, 5.0}
	lrs := make([]float64, len(losses))
	for i := range lrs {
		lrs[i] = 1e-5 * math.Pow(10, float64(i)/4)
	}
	if v := Valley(losses); v != 4 {
		t.Errorf("valley index %d, want 4", v)
	}
	if s := Steep(lrs, losses); s != 5 {
		t.Errorf("steep index %d, want 5", s)
	}
	// Suggest drops steps/10 points at the start and 5 at the end: pad the curve so the
	// same points remain (20 planned steps: 2 dropped), with a NaN after them all.
	pad := func(xs []float64, head, tail float64) []float64 {
		out := append([]float64{head, head}, xs...)
		return append(out, tail, math.NaN(), tail, tail, tail)
	}
	sugg, err := Suggest(pad(lrs, 1e-9, 1), pad(losses, 0.1, 0.1), 20)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name             string
		lr, ptLR, ptLoss float64
	}{{"valley", lrs[4], lrs[4], 2.5}, {"minimum", lrs[8] / 10, lrs[8], 1.4}, {"steep", lrs[5], lrs[5], 2.6}}
	for i, w := range want {
		s := sugg[i]
		if s.Name != w.name || s.LR != w.lr || s.PointLR != w.ptLR || s.PointLoss != w.ptLoss {
			t.Errorf("suggestion %d: %+v, want %+v", i, s, w)
		}
	}
	if _, err := Suggest(lrs[:6], losses[:6], 6); err == nil {
		t.Error("6 points (1 after trimming): no error")
	}
	// fastai's arithmetic keeps its quirk: two falling points from the first give
	// maxStart -1 and index -1, which Python reads as the last point.
	if v := Valley([]float64{2, 1}); v != 1 {
		t.Errorf("valley of [2 1]: %d, want 1", v)
	}
}

// The finder sweeps the rates exponentially, smooths the loss as fastai does, and puts
// every variable (weights, Adam's moments, the step, the rate) back as it was.
func TestLRFindRestoresTheLearner(t *testing.T) {
	b := testbackend.Choice(t)
	trainSet := shapesSet(t, "train", 4) // 40 images: 2 batches of 16 per epoch.
	l, err := newLearner(b, tinyModel(), tinyOptions(), trainSet.Classes)
	if err != nil {
		t.Fatal(err)
	}
	l.Out = io.Discard
	for i := range 2 { // a learner with optimizer state to lose.
		imgs := tensors.FromFlatDataAndDimensions(append([]uint8(nil), trainSet.Pixels[:16*trainSet.ImageBytes()]...), 16, trainSet.H, trainSet.W, trainSet.C)
		labels := tensors.FromFlatDataAndDimensions(append([]int32(nil), trainSet.Labels[:16]...), 16, 1)
		if _, _, err := l.TrainStep(imgs, labels); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	before := hostValues(t, l)
	lr0, step0 := l.LearningRate(), l.Step()
	res, err := l.LRFind(context.Background(), trainSet, LRFindOptions{Start: 1e-4, End: 1, Steps: 8, NoStopDiv: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.LRs) != 8 {
		t.Fatalf("%d steps recorded, want 8", len(res.LRs))
	}
	for i, lr := range res.LRs {
		if want := 1e-4 * math.Pow(1e4, float64(i)/8); math.Abs(lr-want) > 1e-12*want {
			t.Errorf("step %d: lr %g, want %g", i, lr, want)
		}
	}
	// Smoothing by hand: the first point is the first loss; the second
	// (0.98*0.02*l0 + 0.02*l1) / (1 - 0.98^2).
	r := res.Raw
	if math.Abs(res.Losses[0]-r[0]) > 1e-12 || math.Abs(res.Losses[1]-(0.98*0.02*r[0]+0.02*r[1])/(1-0.98*0.98)) > 1e-12 {
		t.Errorf("smoothed %v from raw %v", res.Losses[:2], r[:2])
	}
	if l.Step() != step0 || l.LearningRate() != lr0 {
		t.Errorf("after the finder: step %d, lr %g; before %d, %g", l.Step(), l.LearningRate(), step0, lr0)
	}
	after := hostValues(t, l)
	for path, w := range before {
		a := after[path]
		if len(a) != len(w) {
			t.Fatalf("%s: %d values after, %d before", path, len(a), len(w))
		}
		for i := range w {
			if a[i] != w[i] {
				t.Fatalf("%s[%d] = %g after the finder, %g before", path, i, a[i], w[i])
			}
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d variables after the finder, %d before", len(after), len(before))
	}
}

// hostValues copies every variable of the learner's store, by path: float32 ones as
// they are, others (the step, the random state) as text.
func hostValues(t *testing.T, l *Learner) map[string][]float32 {
	out := map[string][]float32{}
	for v := range l.store.IterVariables() {
		val, err := v.Value()
		if err != nil {
			t.Fatal(err)
		}
		data, err := tensors.CopyFlatData[float32](val)
		if err != nil {
			data = []float32{float32(len(fmt.Sprint(val.Value())))}
			out[v.Path()+" as text "+fmt.Sprint(val.Value())] = data
			continue
		}
		out[v.Path()] = data
	}
	return out
}

// Fine-tuning from weights starts with the trunk frozen: the finder sweeps that phase (the
// head alone, as fastai's lr_find on a frozen learner), and the whole model when nothing
// is frozen.
func TestLRFindFineTuneSweepsTheHead(t *testing.T) {
	b := testbackend.Choice(t)
	_, src := trainedOneEpoch(t, b)
	task := shapesSet(t, "train", 4)
	for _, freeze := range []int{1, -1} {
		cfg := tinyConfig(tinyModel(), tinyOptions())
		cfg.Train.Weights, cfg.Train.FreezeEpochs = src, freeze
		l, err := New(b, cfg, task.Classes)
		if err != nil {
			t.Fatal(err)
		}
		l.Out = io.Discard
		if _, err := l.LRFind(context.Background(), task, LRFindOptions{Start: 1e-4, End: 1, Steps: 8, NoStopDiv: true}); err != nil {
			t.Fatal(err)
		}
		if head := l.headTrainer != nil; head != (freeze > 0) {
			t.Errorf("FreezeEpochs %d: the finder trained the head alone: %v, want %v", freeze, head, freeze > 0)
		}
	}
}
