package config

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// The zero Config is a valid run: the tutorial's model with vggkit's corrections.
func TestZeroValueIsTheDefault(t *testing.T) {
	var zero Config
	if err := zero.Validate(); err != nil {
		t.Fatalf("the zero config: %v", err)
	}
	d := zero.Resolve()
	if d.Model.Arch != "vgg16" || d.Model.InputSize != 224 || d.Model.Activation != "leaky" || d.Model.LeakySlope != 0.2 ||
		d.Model.Head != "gap" || d.Model.Mean[0] != 0.5 || d.Model.Std[0] != 0.5 || d.Train.Optimizer != "adam" ||
		d.Train.BatchSize != 32 || d.Train.Epochs != 30 || d.Data.Name != "auto" || d.Data.Fold != 0 {
		t.Errorf("defaults drifted from the tutorial's model: %+v", d)
	}
	if d2 := d.Resolve(); len(Diff(d, d2)) != 0 {
		t.Errorf("Resolve is not idempotent: %v", Diff(d, d2))
	}
	// A partial config keeps what it sets: cifar10 with fold 0 means every image (once a trap).
	c := Config{Data: Data{Name: "cifar10"}}
	if err := c.Validate(); err != nil || c.Resolve().Data.Fold != 0 {
		t.Errorf("cifar10 alone: %v", err)
	}
	for name, c := range map[string]Config{"demo": Demo(), "notebook": Notebook("shapes10", false), "notebook-gpu": Notebook("shapes10", true), "default": Default()} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestValidateNamesTheField(t *testing.T) {
	for want, mutate := range map[string]func(*Config){
		"width NaN":          func(c *Config) { c.Model.Width = math.NaN() },
		`arch "vgg17"`:       func(c *Config) { c.Model.Arch = "vgg17" },
		"learning rate 1000": func(c *Config) { c.Train.LearningRate = 1e3 },
		"fold 10":            nil,
		"fold 11":            func(c *Config) { c.Data.Fold = 11 },
		`augment "yes"`:      func(c *Config) { c.Model.Augment = "yes" },
		"batch size -1":      func(c *Config) { c.Train.BatchSize = -1 },
		"std[1]":             func(c *Config) { c.Model.Mean, c.Model.Std = []float64{0, 0, 0}, []float64{1, 0, 1} },
	} {
		c := Default()
		if mutate == nil {
			c.Data.Fold = 10
			if err := c.Validate(); err != nil {
				t.Errorf("fold 10 is valid: %v", err)
			}
			continue
		}
		mutate(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error naming %q, got %v", want, err)
		}
	}
}

func TestDiffNamesFields(t *testing.T) {
	a, b := Default(), Default()
	b.Model.Activation, b.Train.Epochs = "relu", 40
	got := Diff(a, b)
	if len(got) != 2 || got[0] != `model.activation: "leaky" -> "relu"` || got[1] != "train.epochs: 30 -> 40" {
		t.Errorf("diff %q", got)
	}
	if got := Diff(a, b, Resumable...); len(got) != 1 || !strings.HasPrefix(got[0], "model.activation") {
		t.Errorf("diff without the resumable fields: %q", got)
	}
	// Saved and read back, a config is the same config.
	js, _ := json.Marshal(a)
	var back Config
	if err := json.Unmarshal(js, &back); err != nil || len(Diff(a, back)) != 0 {
		t.Errorf("JSON round trip: %v %v", err, Diff(a, back))
	}
}

// ImageNet weights bring their preprocessing and activation; a vggkit checkpoint does not.
func TestImageNetWeightsDefaults(t *testing.T) {
	c := Config{Train: Train{Weights: "vgg16_bn"}}.Resolve()
	m := c.Model
	if m.Arch != "vgg16" || !m.BatchNorm || m.Activation != "relu" || m.Mean[0] != 0.485 || m.Std[0] != 0.229 {
		t.Errorf("vgg16_bn weights: model %+v", m)
	}
	if c.Train.FreezeEpochs != 1 || c.Train.TrunkLR != 0.1 {
		t.Errorf("fine-tuning defaults: freeze %d epochs, trunk lr %g", c.Train.FreezeEpochs, c.Train.TrunkLR)
	}
	own := Config{Train: Train{Weights: t.TempDir()}}.Resolve() // a run folder
	if own.Model.Mean[0] != 0.5 || own.Model.Activation != "leaky" {
		t.Errorf("checkpoint weights changed the model: %+v", own.Model)
	}
	for w, want := range map[string]bool{"vgg11": true, "a/vgg16-397923af.pth": true, "x.safetensors": true,
		"runs/x/checkpoint.vggkit": false, "": false} {
		if got := ImageNetWeights(w); got != want {
			t.Errorf("ImageNetWeights(%q) = %v", w, got)
		}
	}
	if c := (Config{}).Resolve(); c.Train.TrunkFactor() != 1 || c.Train.FreezeEpochs != 0 {
		t.Errorf("without weights: trunk lr %g, freeze %d", c.Train.TrunkFactor(), c.Train.FreezeEpochs)
	}
}

// Weights set on a config resolved without them (config.Demo, as notebooks do) still get
// their defaults: the trunk at 0.1 (it was 1: resolved before), and for ImageNet weights
// the model follows them (the demo's LeakyReLU, 0.5 normalisation and VGG11-BN go).
func TestWithWeightsOnAResolvedConfig(t *testing.T) {
	own := Demo().WithWeights(t.TempDir()).Resolve()
	if own.Train.TrunkFactor() != 0.1 || own.Train.FreezeEpochs != 1 || own.Model.Arch != "vgg11" || own.Model.Mean[0] != 0.5 {
		t.Errorf("from a vggkit run: trunk lr %g, freeze %d, model %+v", own.Train.TrunkFactor(), own.Train.FreezeEpochs, own.Model)
	}
	in := Demo().WithWeights("vgg16").Resolve()
	m := in.Model
	if in.Train.TrunkFactor() != 0.1 || m.Arch != "vgg16" || m.BatchNorm || m.Activation != "relu" || m.Mean[1] != 0.456 || m.Std[1] != 0.224 {
		t.Errorf("from vgg16: trunk lr %g, model %+v", in.Train.TrunkFactor(), m)
	}
	if m.Width != 0.125 || m.InputSize != 32 {
		t.Errorf("from vgg16: width %g and input size %d should stay the demo's", m.Width, m.InputSize)
	}
}

// The notebooks' run follows the machine: the tutorial's recipe on a GPU, the demo's
// small VGG on a CPU; VGGKIT_FAST shortens either.
func TestNotebookFollowsTheMachine(t *testing.T) {
	t.Setenv(EnvFast, "")
	g := Notebook("stl10", true).Resolve()
	if m := g.Model; m.Arch != "vgg16" || m.Activation != "leaky" || m.LeakySlope != 0.2 || m.InputSize != 224 ||
		m.Precision != BF16 || m.BatchNorm || m.Width != 1 || g.Data.Name != "stl10" {
		t.Errorf("GPU notebook run: %+v, want the tutorial's VGG16 at 224 px in bf16 on stl10", g)
	}
	c := Notebook("auto", false).Resolve()
	if d := Diff(Demo(), c, "data.name"); len(d) != 0 || c.Model.Precision != F32 {
		t.Errorf("CPU notebook run differs from the demo: %v", d)
	}
	if !strings.Contains(NotebookWhy(true), "VGG16") || !strings.Contains(NotebookWhy(false), "no GPU") {
		t.Errorf("reasons: %q / %q", NotebookWhy(true), NotebookWhy(false))
	}
	t.Setenv(EnvFast, "1")
	for _, gpu := range []bool{false, true} {
		if f := Notebook("auto", gpu); f.Train.Epochs != 2 || f.Data.Limit != 2000 {
			t.Errorf("VGGKIT_FAST (gpu %v): %d epochs on %d images, want 2 on 2000", gpu, f.Train.Epochs, f.Data.Limit)
		}
	}
}
