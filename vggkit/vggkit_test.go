package vggkit

import (
	"strings"
	"testing"
)

func TestDefaultsAreValid(t *testing.T) {
	for name, c := range map[string]Config{"defaults": Defaults(), "demo": DemoConfig()} {
		if err := c.Model.Validate(); err != nil {
			t.Errorf("%s model: %v", name, err)
		}
		if err := c.Train.Validate(); err != nil {
			t.Errorf("%s train: %v", name, err)
		}
	}
	d := Defaults()
	if d.Model.Arch != "vgg16" || d.Model.InputSize != 224 || d.Model.Activation != "leaky" || d.Model.LeakySlope != 0.2 ||
		d.Model.Head != "gap" || d.Model.Mean[0] != 0.5 || d.Model.Std[0] != 0.5 || d.Train.Optimizer != "adam" {
		t.Errorf("defaults drifted from the tutorial's model: %+v", d.Model)
	}
}

func TestLoadData(t *testing.T) {
	train, test, err := LoadData(DataConfig{Name: "shapes10", Fold: -1, PerClass: 2, Limit: 13})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 13 || test.Len() != 20 || !strings.Contains(train.Name, "Shapes10") {
		t.Fatalf("train %d %q, test %d", train.Len(), train.Name, test.Len())
	}
	if _, _, err := LoadData(DataConfig{Name: "shapes10", Fold: 3}); err == nil {
		t.Error("a fold of Shapes10 was accepted")
	}
	if _, _, err := LoadData(DataConfig{Name: "imagenet", Fold: -1}); err == nil || !strings.Contains(err.Error(), "imagenet") {
		t.Errorf("unknown dataset: %v", err)
	}
}

// The transforms seen from outside: 96 px uint8 -> 224 px floats in [-1, 1].
func TestTransformed(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	train, _, err := LoadData(DataConfig{Name: "shapes10", Fold: -1, PerClass: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Defaults().Model
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
