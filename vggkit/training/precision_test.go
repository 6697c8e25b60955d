package training

import (
	"context"
	"io"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/vggkit/vggkit/vggkit/testbackend"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// bf16 mixed precision: the same weights give logits close to f32's (bf16 keeps 8 bits of
// mantissa, so within a few percent of the logits' spread), the weights stay f32, and a
// short bf16 run learns.
func TestBF16MatchesF32AndLearns(t *testing.T) {
	b := testbackend.Choice(t)
	if b.IsGo() {
		t.Skip("bf16 is for XLA: the pure-Go backend lacks bf16 kernels for some ops")
	}
	set := shapesSet(t, "train", 8)
	cfg := tinyModel()
	f32, err := newLearner(b, cfg, tinyOptions(), set.Classes)
	if err != nil {
		t.Fatal(err)
	}
	want, err := f32.Logits(set)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := f32.Save(dir); err != nil {
		t.Fatal(err)
	}
	cfg.Precision = vgg.BF16
	mixed, err := newLearner(b, cfg, tinyOptions(), set.Classes)
	if err != nil {
		t.Fatal(err)
	}
	if mixed, err = Resume(b, tinyConfig(cfg, tinyOptions()), dir); err != nil {
		t.Fatalf("an f32 checkpoint must load into a bf16 learner: %v", err)
	}
	got, err := mixed.Logits(set)
	if err != nil {
		t.Fatal(err)
	}
	var maxDiff, spread float64
	for i := range want {
		for j := range want[i] {
			maxDiff = math.Max(maxDiff, math.Abs(float64(got[i][j]-want[i][j])))
			spread = math.Max(spread, math.Abs(float64(want[i][j])))
		}
	}
	if spread == 0 || maxDiff > 0.05*spread+1e-3 || maxDiff == 0 {
		t.Errorf("bf16 logits differ from f32 by %g (largest |logit| %g): want small but nonzero", maxDiff, spread)
	}
	for v := range mixed.store.IterVariables() {
		if v.Trainable && v.Shape().DType != dtypes.Float32 {
			t.Errorf("variable %s is %s: master weights must stay f32", v.Scope()+"/"+v.Name(), v.Shape().DType)
		}
	}

	opts := tinyOptions()
	opts.Epochs = 6
	fresh, err := newLearner(b, cfg, opts, set.Classes)
	if err != nil {
		t.Fatal(err)
	}
	fresh.Out = io.Discard
	if err := fresh.Fit(context.Background(), set, nil); err != nil {
		t.Fatal(err)
	}
	h := fresh.History.Epochs
	if first, last := h[0].TrainLoss, h[len(h)-1].TrainLoss; !(last < 0.8*first) {
		t.Errorf("bf16 training loss went from %.3f to %.3f: want a clear decrease", first, last)
	}
}
