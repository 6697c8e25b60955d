package vggkit

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggkit/vggkit/vggkit/config"
)

func TestLoadData(t *testing.T) {
	train, test, err := LoadData(config.Data{Name: "shapes10", PerClass: 2, Limit: 13})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 13 || test.Len() != 20 || !strings.Contains(train.Name, "Shapes10") {
		t.Fatalf("train %d %q, test %d", train.Len(), train.Name, test.Len())
	}
	if _, _, err := LoadData(config.Data{Name: "shapes10", Fold: 3}); err == nil {
		t.Error("a fold of Shapes10 was accepted")
	}
	if _, _, err := LoadData(config.Data{Name: "imagenet"}); err == nil || !strings.Contains(err.Error(), "imagenet") {
		t.Errorf("unknown dataset: %v", err)
	}
}

// The transforms seen from outside: 96 px uint8 -> 224 px floats in [-1, 1].
func TestTransformed(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	train, _, err := LoadData(config.Data{Name: "shapes10", PerClass: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default().Model
	x, h, w, err := Transformed(train, []int{0, 1}, cfg, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	if h != 224 || w != 224 || len(x) != 2*224*224*3 {
		t.Fatalf("got %dx%d, %d values", h, w, len(x))
	}
	lo, hi := x[0], x[0]
	for _, v := range x {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < -1.0001 || hi > 1.0001 || hi-lo < 0.5 {
		t.Errorf("values in [%g, %g], want within [-1, 1] and spread", lo, hi)
	}
	aug, _, _, err := Transformed(train, []int{0, 1}, cfg, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	same := true
	for i := range aug {
		if aug[i] != x[i] {
			same = false
			break
		}
	}
	if same {
		t.Error("the training view equals the evaluation view: no augmentation")
	}
}

func TestReceptiveField(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	for n, want := range map[int]int{1: 3, 2: 5, 3: 7} {
		got, err := ReceptiveField(n)
		if err != nil || got != want {
			t.Errorf("%d layers: %d (%v), want %d", n, got, err, want)
		}
	}
}

// A whole run through the one value: open (fresh), fit, evaluate; opened again on the
// same folder it resumes, and the evaluation carries its predictions.
func TestOpenFitEvaluate(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	cfg := config.Demo()
	cfg.Data.PerClass, cfg.Train.Epochs, cfg.Train.BatchSize = 4, 1, 16
	cfg.Model.Width = 0.0625
	dir := filepath.Join(t.TempDir(), "run")
	run, err := Open(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	run.Learner.Out = io.Discard
	if err := run.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	ev, err := run.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Report.Total != run.Test.Len() || len(ev.Pred) != run.Test.Len() || !strings.Contains(ev.Report.Dataset, "Shapes10") {
		t.Errorf("evaluation of %d test images: %d counted, %d predictions", run.Test.Len(), ev.Report.Total, len(ev.Pred))
	}
	cfg.Train.Epochs = 2
	again, err := Open(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Learner.Step() != run.Learner.Step() || again.Learner.Step() == 0 {
		t.Errorf("reopened at step %d, the run stopped at %d", again.Learner.Step(), run.Learner.Step())
	}
	loaded, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Config.Data.Name != "shapes10" || loaded.Config.Data.PerClass != 4 || loaded.Test.Len() != 40 {
		t.Errorf("loaded run: data %+v, %d test images", loaded.Config.Data, loaded.Test.Len())
	}
}

// Bad settings are refused before any data is loaded or any step is taken.
func TestOpenRefusesBadSettings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o644)
	for name, c := range map[string]struct {
		mutate func(*config.Config)
		dir    string
		want   string
	}{
		"NaN width":            {func(c *config.Config) { c.Model.Width = math.NaN() }, "", "width NaN"},
		"fold 11":              {func(c *config.Config) { c.Data.Fold = 11 }, "", "fold 11"},
		"unknown optimizer":    {func(c *config.Config) { c.Train.Optimizer = "lion" }, "", `"lion"`},
		"run folder is a file": {func(*config.Config) {}, file, file},
	} {
		cfg := config.Demo()
		c.mutate(&cfg)
		if _, err := Open(cfg, c.dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
}

// Trained says whether Fit has anything left to do.
func TestRunTrained(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	cfg := config.Demo()
	cfg.Data.PerClass, cfg.Model.Width, cfg.Train.Epochs, cfg.Train.EvalEvery = 2, 0.0625, 1, -1
	cfg.Train.BatchSize = 10
	run, err := Open(cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run.Learner.Out = io.Discard
	if run.Trained() {
		t.Fatal("a fresh run says it is trained")
	}
	if err := run.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !run.Trained() {
		t.Errorf("after %d steps of %d epochs, the run says it is not trained", run.Learner.Step(), cfg.Train.Epochs)
	}
}
