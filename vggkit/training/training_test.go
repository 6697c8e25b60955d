package training

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/checkpoint"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/testbackend"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// tinyModel is a VGG11 with batch norm at 1/16 width on 32 px: fast enough for unit tests.
func tinyModel() vgg.Config {
	c := vgg.Default()
	c.Arch, c.BatchNorm, c.Width, c.InputSize = "vgg11", true, 0.0625, 32
	return c
}

func tinyOptions() config.Train {
	return config.Train{Optimizer: "adam", LearningRate: 2e-3, Schedule: "constant", Epochs: 2, BatchSize: 16, Seed: 7,
		LogEvery: 2, CheckpointMinutes: -1, EvalEvery: -1}
}

func tinyConfig(m config.Model, o config.Train) config.Config {
	return config.Config{Data: config.Data{Name: "shapes10"}, Model: m, Train: o}
}

// newLearner is New with the model and training settings apart, as most tests vary one.
func newLearner(b *backend.Choice, m config.Model, o config.Train, classes []string) (*Learner, error) {
	m.Classes = 0
	return New(b, tinyConfig(m, o), classes)
}

// newIn is a quiet learner that checkpoints into dir, resuming what is there.
func newIn(t *testing.T, b *backend.Choice, cfg config.Config, dir string, classes []string) *Learner {
	t.Helper()
	var l *Learner
	var err error
	if HasCheckpoint(dir) {
		l, err = Resume(b, cfg, dir)
	} else {
		l, err = New(b, cfg, classes)
	}
	if err != nil {
		t.Fatal(err)
	}
	l.Dir, l.Out = dir, io.Discard
	return l
}

func shapesSet(t testing.TB, split string, perClass int) *data.Set {
	s, err := data.Shapes10(split, perClass)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func argmax(row []float32) int {
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	return best
}

// Train 2 epochs with checkpoints, then resume the same folder with 3 epochs: it must
// resume at the saved step, finish at the same step count as an uninterrupted 3-epoch
// run, with the same weights.
func TestCheckpointResume(t *testing.T) {
	b := testbackend.Choice(t)
	trainSet := shapesSet(t, "train", 4) // 40 images: 2 steps of 16 per epoch.
	dir := t.TempDir()
	cfg := tinyConfig(tinyModel(), tinyOptions())
	l1 := newIn(t, b, cfg, dir, trainSet.Classes)
	if err := l1.Fit(context.Background(), trainSet, nil); err != nil {
		t.Fatal(err)
	}
	if l1.Step() != 4 {
		t.Fatalf("after 2 epochs: step %d, want 4", l1.Step())
	}
	meta, err := ReadMeta(dir)
	if err != nil || meta.Step != 4 || len(meta.History.Epochs) != 2 || meta.Config.Model.Arch != "vgg11" ||
		meta.Config.Data.Name != "shapes10" || meta.Images != [3]int{96, 96, 3} {
		t.Fatalf("checkpoint meta: %+v, %v", meta, err)
	}

	cfg.Train.Epochs = 3
	l2 := newIn(t, b, cfg, dir, trainSet.Classes)
	var out strings.Builder
	l2.Out = &out
	if l2.Step() != 4 {
		t.Fatalf("resumed learner starts at step %d, want 4", l2.Step())
	}
	if err := l2.Fit(context.Background(), trainSet, nil); err != nil {
		t.Fatal(err)
	}
	if l2.Step() != 6 || len(l2.History.Epochs) != 3 {
		t.Fatalf("after resume: step %d, %d epochs; want 6, 3", l2.Step(), len(l2.History.Epochs))
	}
	if !strings.Contains(out.String(), "resuming at step 4") {
		t.Errorf("no resume message in:\n%s", out.String())
	}
	if len(l2.History.Resumes) != 1 || !strings.Contains(l2.History.Resumes[0].Changes[0], "train.epochs: 2 -> 3") {
		t.Errorf("the resume's change is not in the history: %+v", l2.History.Resumes)
	}

	l3, err := New(b, cfg, trainSet.Classes)
	if err != nil {
		t.Fatal(err)
	}
	l3.Out = io.Discard
	if err := l3.Fit(context.Background(), trainSet, nil); err != nil {
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

// trainedOneEpoch trains the tiny model for one epoch on 20 Shapes10 images into a new
// run folder and returns its config and the folder.
func trainedOneEpoch(t *testing.T, b *backend.Choice) (config.Config, string) {
	t.Helper()
	trainSet := shapesSet(t, "train", 2)
	dir := t.TempDir()
	cfg := tinyConfig(tinyModel(), tinyOptions())
	cfg.Train.Epochs = 1
	if err := newIn(t, b, cfg, dir, trainSet.Classes).Fit(context.Background(), trainSet, nil); err != nil {
		t.Fatal(err)
	}
	return cfg, dir
}

// A resume that changes the model, the data or the optimiser is refused, naming the fields.
func TestResumeRefusesAnotherConfiguration(t *testing.T) {
	b := testbackend.Choice(t)
	cfg, dir := trainedOneEpoch(t, b)
	for field, mutate := range map[string]func(*config.Config){
		"model.activation": func(c *config.Config) { c.Model.Activation = "relu" },
		"model.width":      func(c *config.Config) { c.Model.Width = 0.125 },
		"train.optimizer":  func(c *config.Config) { c.Train.Optimizer = "sgd" },
		"data.name":        func(c *config.Config) { c.Data.Name = "cifar10" },
	} {
		other := cfg
		mutate(&other)
		_, err := Resume(b, other, dir)
		if !errors.Is(err, ErrConfigChanged) || !strings.Contains(err.Error(), field) || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s changed: %v", field, err)
		}
	}
}

// Corrupt checkpoints give an error naming the file (and the variable), never a model.
func TestCheckpointBadFiles(t *testing.T) {
	b := testbackend.Choice(t)
	_, dir := trainedOneEpoch(t, b)
	file := filepath.Join(dir, checkpoint.File)
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	entries = slices.DeleteFunc(entries, func(e os.DirEntry) bool { return strings.Contains(e.Name(), ".tfevents.") })
	if len(entries) > 2 { // the checkpoint and the lock file (and TensorBoard's events)
		t.Errorf("checkpoint dir holds %d entries (temporary files left?)", len(entries))
	}
	flipped := func(at int) []byte {
		b := append([]byte(nil), good...)
		b[at] ^= 0x10
		return b
	}
	slope := strings.Index(string(good), "leaky_slope")
	for name, c := range map[string]struct {
		content []byte
		want    string
	}{
		"truncated":         {good[:len(good)-100], ""},
		"bad magic":         {append([]byte("NOT-A-CHECKPOINT...."), good[20:]...), ""},
		"empty":             {[]byte{}, ""},
		"bit in a weight":   {flipped(len(good) - 7), "checksum"},
		"bit in the header": {flipped(slope + 2), "checksum"},
	} {
		bad := filepath.Join(t.TempDir(), "ck.vggkit")
		os.WriteFile(bad, c.content, 0o644)
		_, err := Load(b, bad)
		if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s checkpoint: error %v should name %s and say %q", name, err, bad, c.want)
		}
	}
}

// The guard stops a diverging run, and the checkpoint it leaves holds the weights of the
// last step that passed it: resumed at a lower learning rate, training goes on. (Before,
// a save between the diverging update and the NaN kept diverged weights over the good
// checkpoint, and the resume failed again.)
func TestDivergedRunKeepsLastGoodCheckpoint(t *testing.T) {
	b := testbackend.Choice(t)
	trainSet := shapesSet(t, "train", 8) // 5 steps per epoch
	dir := t.TempDir()
	m := tinyModel()
	m.BatchNorm = false
	cfg := tinyConfig(m, tinyOptions())
	cfg.Train.Epochs, cfg.Train.CheckpointMinutes = 1, 1e-9 // a save after every step.
	if err := newIn(t, b, cfg, dir, trainSet.Classes).Fit(context.Background(), trainSet, nil); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, checkpoint.File))
	if err != nil {
		t.Fatal(err)
	}

	cfg.Train.LearningRate, cfg.Train.Epochs = 9.9, 50
	l := newIn(t, b, cfg, dir, trainSet.Classes)
	err = l.Fit(context.Background(), trainSet, nil)
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "at step") {
		t.Fatalf("want ErrDiverged naming the step, got %v", err)
	}
	meta, err := ReadMeta(dir)
	if err != nil {
		t.Fatalf("no checkpoint kept: %v", err)
	}
	if meta.Step >= l.Step()-1 {
		t.Errorf("checkpoint at step %d, the guard fired at %d: weights no step confirmed were saved", meta.Step, l.Step())
	}
	if now, _ := os.ReadFile(filepath.Join(dir, checkpoint.File)); meta.Step == 5 && string(now) != string(good) {
		t.Error("the checkpoint of step 5 changed")
	}
	if _, err := os.Stat(pending(dir)); !os.IsNotExist(err) {
		t.Errorf("the unconfirmed checkpoint was left in %s", pending(dir))
	}

	cfg.Train.LearningRate, cfg.Train.Epochs = 1e-4, 3
	l2 := newIn(t, b, cfg, dir, trainSet.Classes)
	var losses []float64
	watch := Hook{OnStep: func(s *State) error { losses = append(losses, s.Loss); return nil }}
	if err := l2.Fit(context.Background(), trainSet, nil, watch); err != nil {
		t.Fatalf("resuming the kept checkpoint at lr 1e-4: %v", err)
	}
	if len(losses) < 5 {
		t.Errorf("resumed run took %d steps", len(losses))
	}
}

// Two trainings in one folder: the second is refused, naming the folder and the first.
func TestSecondTrainingInFolderRefused(t *testing.T) {
	b := testbackend.Choice(t)
	trainSet := shapesSet(t, "train", 4)
	dir := t.TempDir()
	cfg := tinyConfig(tinyModel(), tinyOptions())
	first := newIn(t, b, cfg, dir, trainSet.Classes)
	second := newIn(t, b, cfg, dir, trainSet.Classes)
	var secondErr error
	inside := Hook{OnStep: func(s *State) error {
		if s.Step == 1 {
			secondErr = second.Fit(context.Background(), trainSet, nil)
		}
		return nil
	}}
	if err := first.Fit(context.Background(), trainSet, nil, inside); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(secondErr, checkpoint.ErrLocked) || !strings.Contains(secondErr.Error(), dir) ||
		!strings.Contains(secondErr.Error(), strconv.Itoa(os.Getpid())) {
		t.Errorf("second training in %s: %v", dir, secondErr)
	}
	if second.Step() != 0 {
		t.Errorf("the refused training took %d steps", second.Step())
	}
}

// Stopped after an epoch's last step but before its summary (a kill at the boundary),
// the resumed run still records that epoch, over all of its steps.
func TestStopAtEpochBoundaryKeepsTheEpoch(t *testing.T) {
	b := testbackend.Choice(t)
	trainSet := shapesSet(t, "train", 4) // 2 steps per epoch
	dir := t.TempDir()
	cfg := tinyConfig(tinyModel(), tinyOptions())
	cfg.Train.CheckpointMinutes = 1e-9
	killed := errors.New("killed")
	atBoundary := Hook{OnStep: func(s *State) error {
		if s.Step == 2 {
			return killed
		}
		return nil
	}}
	l := newIn(t, b, cfg, dir, trainSet.Classes)
	if err := l.Fit(context.Background(), trainSet, nil, atBoundary); !errors.Is(err, killed) {
		t.Fatalf("want the hook's error, got %v", err)
	}
	l2 := newIn(t, b, cfg, dir, trainSet.Classes)
	if err := l2.Fit(context.Background(), trainSet, nil); err != nil {
		t.Fatal(err)
	}
	h := l2.History.Epochs
	if len(h) != 2 || h[0].Epoch != 1 || h[1].Epoch != 2 || h[0].TrainLoss <= 0 || h[0].Step != 2 {
		t.Errorf("epochs after the resume: %+v", h)
	}
}

// The schedule is computed in one place: PyTorch's CosineAnnealingLR values.
func TestCosineSchedule(t *testing.T) {
	s := NewSchedule(config.Train{LearningRate: 0.1, Schedule: "cosine"}, 100)
	for step, want := range map[int64]float64{0: 0.1, 50: 0.05, 100: 0, 25: 0.05 * (1 + math.Cos(math.Pi/4))} {
		if got := s(step); math.Abs(got-want) > 1e-12 {
			t.Errorf("step %d: lr %g, want %g", step, got, want)
		}
	}
	if c := NewSchedule(config.Train{LearningRate: 0.1, Schedule: "constant"}, 100); c(70) != 0.1 {
		t.Errorf("constant schedule at step 70: %g", c(70))
	}
}

// The learning rate the optimizer uses is the schedule's, step by step.
func TestLoopSetsScheduledRate(t *testing.T) {
	b := testbackend.Choice(t)
	trainSet := shapesSet(t, "train", 4)
	o := tinyOptions()
	o.Schedule, o.Epochs = "cosine", 2
	l, err := newLearner(b, tinyModel(), o, trainSet.Classes)
	if err != nil {
		t.Fatal(err)
	}
	l.Out = io.Discard
	var rates []float64
	rec := Hook{OnStep: func(s *State) error { rates = append(rates, s.LearningRate, l.LearningRate()); return nil }}
	if err := l.Fit(context.Background(), trainSet, nil, rec); err != nil {
		t.Fatal(err)
	}
	sched := NewSchedule(o, 4)
	for i := range 4 {
		if rates[2*i] != sched(int64(i)) || rates[2*i+1] != rates[2*i] {
			t.Errorf("step %d: state %g, store %g, schedule %g", i, rates[2*i], rates[2*i+1], sched(int64(i)))
		}
	}
}

// Evaluation counts every image, including a last partial batch.
func TestEvaluateCountsEveryImage(t *testing.T) {
	b := testbackend.Choice(t)
	test := shapesSet(t, "test", 4).Head(37) // 37 images, batch 16: 16+16+5.
	l, err := newLearner(b, tinyModel(), tinyOptions(), test.Classes)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := l.Evaluate(test)
	if err != nil {
		t.Fatal(err)
	}
	r := ev.Report
	if len(ev.Pred) != 37 || len(ev.Logits) != 37 || ev.Pred[5] != int32(argmax(ev.Logits[5])) {
		t.Errorf("the evaluation's predictions: %d, logits %d", len(ev.Pred), len(ev.Logits))
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
