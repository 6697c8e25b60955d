package training

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// goChoice is the backend the tests run on: the pure-Go backend, or the default choice
// (XLA on CPU where its plugin is installed) with VGGKIT_TEST_BACKEND=default.
func goChoice(t testing.TB) *backend.Choice {
	if os.Getenv("VGGKIT_TEST_BACKEND") == "default" {
		t.Setenv(backend.EnvVar, "")
	} else {
		t.Setenv(backend.EnvVar, "go")
	}
	c, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tinyModel is a VGG11 with batch norm at 1/16 width on 32 px: fast enough for unit tests.
func tinyModel() vgg.Config {
	c := vgg.Default()
	c.Arch, c.BatchNorm, c.Width, c.InputSize = "vgg11", true, 0.0625, 32
	return c
}

func tinyOptions() Options {
	return Options{Optimizer: "adam", LearningRate: 2e-3, Schedule: "constant", Epochs: 2, BatchSize: 16, Seed: 7, LogEvery: 2}
}

func shapesSet(t testing.TB, split string, perClass int) *data.Set {
	s, err := data.Shapes10(split, perClass)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Train 2 epochs with checkpoints, then start a new learner on the same directory with 3
// epochs: it must resume at the saved step, finish at the same step count as an
// uninterrupted 3-epoch run, with the same weights.
func TestCheckpointResume(t *testing.T) {
	b := goChoice(t)
	trainSet := shapesSet(t, "train", 4) // 40 images: 2 steps of 16 per epoch.
	dir := t.TempDir()
	opts := tinyOptions()
	opts.CheckpointDir = dir
	l1, err := NewLearner(b, tinyModel(), opts, trainSet.Classes)
	if err != nil {
		t.Fatal(err)
	}
	l1.Out = io.Discard
	if err := l1.Fit(trainSet, nil); err != nil {
		t.Fatal(err)
	}
	if l1.Step() != 4 {
		t.Fatalf("after 2 epochs: step %d, want 4", l1.Step())
	}
	meta, err := ReadMeta(dir)
	if err != nil || meta.Step != 4 || len(meta.History.Epochs) != 2 {
		t.Fatalf("checkpoint meta: %+v, %v", meta, err)
	}

	opts.Epochs = 3
	l2, err := NewLearner(b, tinyModel(), opts, trainSet.Classes)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	l2.Out = &out
	if l2.Step() != 4 {
		t.Fatalf("resumed learner starts at step %d, want 4", l2.Step())
	}
	if err := l2.Fit(trainSet, nil); err != nil {
		t.Fatal(err)
	}
	if l2.Step() != 6 || len(l2.History.Epochs) != 3 {
		t.Fatalf("after resume: step %d, %d epochs; want 6, 3", l2.Step(), len(l2.History.Epochs))
	}
	if !strings.Contains(out.String(), "resuming at step 4") {
		t.Errorf("no resume message in:\n%s", out.String())
	}

	opts.CheckpointDir = ""
	l3, err := NewLearner(b, tinyModel(), opts, trainSet.Classes)
	if err != nil {
		t.Fatal(err)
	}
	l3.Out = io.Discard
	if err := l3.Fit(trainSet, nil); err != nil {
		t.Fatal(err)
	}
	if d := maxWeightDiff(t, l2, l3); d > 1e-4 {
		t.Errorf("resumed run differs from an uninterrupted one by %g", d)
	}
}

func maxWeightDiff(t *testing.T, a, b *Learner) float64 {
	var d float64
	n := 0
	for v := range a.store.IterVariables() {
		if !v.Trainable {
			continue
		}
		w := b.store.GetVariable(v.Path())
		if w == nil {
			t.Fatalf("variable %s missing", v.Path())
		}
		x, y := tensors.MustCopyFlatData[float32](v.MustValue()), tensors.MustCopyFlatData[float32](w.MustValue())
		for i := range x {
			d = math.Max(d, math.Abs(float64(x[i]-y[i])))
		}
		n++
	}
	if n == 0 {
		t.Fatal("no trainable variables")
	}
	return d
}

func TestCheckpointBadFiles(t *testing.T) {
	b := goChoice(t)
	trainSet := shapesSet(t, "train", 2)
	dir := t.TempDir()
	opts := tinyOptions()
	opts.Epochs, opts.CheckpointDir = 1, dir
	l, err := NewLearner(b, tinyModel(), opts, trainSet.Classes)
	if err != nil {
		t.Fatal(err)
	}
	l.Out = io.Discard
	if err := l.Fit(trainSet, nil); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, CheckpointFile)
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("checkpoint dir holds %d entries (temporary files left?)", len(entries))
	}
	for name, content := range map[string][]byte{
		"truncated": good[:len(good)-100],
		"bad magic": append([]byte("NOT-A-CHECKPOINT...."), good[20:]...),
		"empty":     {},
	} {
		bad := filepath.Join(t.TempDir(), "ck.vggkit")
		os.WriteFile(bad, content, 0o644)
		_, err := LoadLearner(b, bad)
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s checkpoint: error %v should name %s", name, err, bad)
		}
	}
	// A checkpoint of another model is refused, not half-loaded.
	other := tinyModel()
	other.Width = 0.125
	opts.Epochs = 2
	if _, err := NewLearner(b, other, opts, trainSet.Classes); err == nil || !strings.Contains(err.Error(), "another checkpoint directory") {
		t.Errorf("mismatched model: %v", err)
	}
}

// A diverging run stops with ErrNaN naming the step, and writes no checkpoint.
func TestNaNLossStops(t *testing.T) {
	b := goChoice(t)
	trainSet := shapesSet(t, "train", 8)
	dir := t.TempDir()
	cfg := tinyModel()
	cfg.BatchNorm = false
	opts := tinyOptions()
	opts.Optimizer, opts.LearningRate, opts.Epochs, opts.CheckpointDir = "sgd", 9.9, 50, dir
	l, err := NewLearner(b, cfg, opts, trainSet.Classes)
	if err != nil {
		t.Fatal(err)
	}
	l.Out = io.Discard
	err = l.Fit(trainSet, nil)
	if !errors.Is(err, ErrNaN) || !strings.Contains(err.Error(), "at step") {
		t.Fatalf("want ErrNaN naming the step, got %v", err)
	}
	if l.Step() >= int64(50*trainSet.Len()/16) {
		t.Errorf("training ran to the end (%d steps) despite NaN", l.Step())
	}
}

// Evaluation counts every image, including a last partial batch.
func TestEvaluateCountsEveryImage(t *testing.T) {
	b := goChoice(t)
	test := shapesSet(t, "test", 4).Head(37) // 37 images, batch 16: 16+16+5.
	l, err := NewLearner(b, tinyModel(), tinyOptions(), test.Classes)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Evaluate(test)
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 37 {
		t.Errorf("evaluated %d images, want 37", r.Total)
	}
	sum := 0
	for _, row := range r.Confusion {
		for _, v := range row {
			sum += v
		}
	}
	if sum != 37 {
		t.Errorf("confusion matrix counts %d images", sum)
	}
	preds, err := l.Predict(test, 5)
	if err != nil || len(preds) != 37 || len(preds[0].Top) != 5 {
		t.Fatalf("predict: %v, %d", err, len(preds))
	}
	var p float64
	for _, c := range preds[0].Top {
		p += c.Prob
	}
	if p <= 0 || p > 1.0001 || preds[0].Top[0].Prob < preds[0].Top[1].Prob {
		t.Errorf("top-5 probabilities %+v", preds[0].Top)
	}
	maps, h, w, c, err := l.FeatureMaps(test, []int{0, 1, 2}, -1)
	if err != nil || len(maps) != 3 || h != 1 || w != 1 || c != 32 {
		t.Errorf("last feature maps: %v, %d maps of %dx%dx%d", err, len(maps), h, w, c)
	}
	maps, h, w, c, err = l.FeatureMaps(test, []int{4}, 0)
	if err != nil || len(maps) != 1 || h != 32 || w != 32 || c != 4 {
		t.Errorf("first-layer feature maps: %v, %d maps of %dx%dx%d", err, len(maps), h, w, c)
	}
	if _, _, _, _, err := l.FeatureMaps(test, []int{0}, 99); err == nil {
		t.Error("layer 99 accepted")
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, mutate := range []func(*Options){
		func(o *Options) { o.Optimizer = "lion" },
		func(o *Options) { o.LearningRate = 0 },
		func(o *Options) { o.LearningRate = math.NaN() },
		func(o *Options) { o.Epochs = 0 },
		func(o *Options) { o.BatchSize = 0 },
		func(o *Options) { o.Schedule = "step" },
	} {
		o := tinyOptions()
		mutate(&o)
		if err := o.Validate(); err == nil {
			t.Errorf("accepted %+v", o)
		}
	}
}
