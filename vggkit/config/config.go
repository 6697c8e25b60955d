// Package config is the one place for a run's configuration, its defaults and the
// environment variables vggkit reads. A Config's zero value is a valid run: the
// tutorial's recipe as vggkit corrects it (see Resolve). The whole Config is saved in
// every checkpoint and report, so eval, predict and resume rebuild exactly what ran.
package config

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Config is everything one run needs.
type Config struct {
	Data  Data  `json:"data"`
	Model Model `json:"model"`
	Train Train `json:"train"`
}

// Data says which dataset to load.
type Data struct {
	Name     string `json:"name"`      // "" or "auto" (STL-10 if present, else Shapes10), "stl10", "shapes10", "cifar10", "cifar100", "cifar100-coarse", "mnist", "fashion-mnist", "kmnist", "folder:DIR".
	Dir      string `json:"dir"`       // where the dataset's files are; "": the cache dir (Env().Cache).
	Fold     int    `json:"fold"`      // STL-10 training fold 1..10 (its fold_indices.txt, 1000 images each); 0: all 5000 images.
	PerClass int    `json:"per_class"` // Shapes10 images per class (0: 500 train / 100 test).
	Limit    int    `json:"limit"`     // train on the first N training images only (0: all).
	// Only these classes, relabelled in this order (nil: all): a task made from part of a dataset.
	Classes []string `json:"classes"`

	Channels     int     `json:"channels"`      // 0: the dataset's own (MNIST family: grey as 3 channels); 1: grey; 3: RGB.
	ImageSize    int     `json:"image_size"`    // image folders: stored size (0: 96); the model's input size is separate.
	TestFraction float64 `json:"test_fraction"` // image folders without train/ and test/: share held out (0: 0.2).
	SplitSeed    uint64  `json:"split_seed"`    // image folders without train/ and test/: which images are held out.
}

// Model describes one VGG (the table of torchvision's models/vgg.py) and its input transforms.
type Model struct {
	Arch       string  `json:"arch"`        // "vgg11", "vgg13", "vgg16" (default), "vgg19".
	BatchNorm  bool    `json:"batch_norm"`  // the _bn variants.
	Activation string  `json:"activation"`  // "leaky" (default, the tutorial's) or "relu".
	LeakySlope float64 `json:"leaky_slope"` // LeakyReLU's negative slope (0: the tutorial's 0.2).
	Head       string  `json:"head"`        // "gap" (default: global average pool + Linear) or "classic" (7x7 pool, 4096, 4096).
	Width      float64 `json:"width"`       // channel multiplier (0: 1, VGG's widths; 0.25 is width/4).
	Classes    int     `json:"classes"`     // 0: the dataset's.
	InputSize  int     `json:"input_size"`  // images are resized to InputSize x InputSize in the graph (0: 224).
	Dropout    float64 `json:"dropout"`     // classic head (0: torchvision's 0.5; negative: none).

	// Normalisation of x/255: 3 values (R, G, B) or 1 for every channel (nil: the
	// tutorial's 0.5 per channel). Grey images (Data.Channels 1) use the luma-weighted sum
	// of 3 values (0.299 R + 0.587 G + 0.114 B, as RGB is made grey): vgg.Normalization.
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`

	Augment string `json:"augment"` // training only: "crop-flip" (default: random crop with padding + horizontal flip) or "none".

	// Precision of the convolutions: "f32" (default) or "bf16" (mixed precision: bf16
	// activations and convolutions, f32 weights, batch norm, head and loss, as PyTorch's
	// autocast). It does not change the weights.
	Precision string `json:"precision"`
}

// Train holds the optimisation and the loop's settings.
type Train struct {
	Optimizer    string  `json:"optimizer"`     // "adam" (default), "adamw" (decoupled weight decay) or "sgd" (with momentum, PyTorch's).
	LearningRate float64 `json:"learning_rate"` // peak learning rate (0: 1e-4).
	Momentum     float64 `json:"momentum"`      // sgd only (0: 0.9, torchvision's recipe; negative: none).
	WeightDecay  float64 `json:"weight_decay"`  // adam, sgd: L2 added to the gradient (PyTorch's weight_decay); adamw: w -= lr*wd*w (PyTorch's AdamW).
	Schedule     string  `json:"schedule"`      // "cosine" (default: to 0 over all epochs), "onecycle" (LearningRate is the peak) or "constant".
	Epochs       int     `json:"epochs"`        // total epochs; a resumed run continues up to this many (0: 30).
	BatchSize    int     `json:"batch_size"`    // 0: 32.
	Seed         uint64  `json:"seed"`          // shuffling, initialisation and augmentation.

	LogEvery          int     `json:"log_every"`            // mean loss every N steps (0: 100; negative: once per epoch).
	CheckpointMinutes float64 `json:"checkpoint_minutes"`   // also save every N minutes (0: 10; negative: at epoch ends only).
	EvalEvery         int     `json:"eval_every"`           // test accuracy every N epochs (0: every epoch; negative: never).
	DataParallel      bool    `json:"data_parallel"`        // split each batch over all local devices (GPUs).
	EarlyStop         int     `json:"early_stop,omitempty"` // stop after N evaluations without a better test accuracy (0: never).

	// Fine-tuning. Weights is where the initial weights come from: "" (random, He
	// initialisation), a torchvision variant ("vgg16", "vgg16_bn", ...: its file in the cache,
	// see `vggkit download`), a torchvision .pth or a safetensors file (torchvision's or timm's
	// names), or a vggkit checkpoint (a run folder or its checkpoint file). The trunk's
	// weights are loaded; the head too when it has the same shape, else it starts fresh.
	Weights      string  `json:"weights"`
	FreezeEpochs int     `json:"freeze_epochs"` // with Weights: train only the head for the first N epochs, batch-norm statistics kept (0: 1; negative: never).
	FreezeSteps  int     `json:"freeze_steps"`  // with Weights: freeze for this many steps instead of FreezeEpochs (0: use FreezeEpochs).
	TrunkLR      float64 `json:"trunk_lr"`      // the trunk's learning rate as a fraction of the head's once unfrozen (0: 0.1 with Weights, else 1; see TrunkFactor).
}

// Names of the choices, as the fields above accept them.
const (
	HeadGAP     = "gap"
	HeadClassic = "classic"
	F32         = "f32"
	BF16        = "bf16"
	CropFlip    = "crop-flip"
	NoAugment   = "none"
)

// Optimizers and Schedules are the valid Train.Optimizer and Train.Schedule values.
var (
	Optimizers = []string{"adam", "adamw", "sgd"}
	Schedules  = []string{"cosine", "onecycle", "constant"}
)

// Archs are the VGG variants: torchvision's configurations A, B, D and E.
var Archs = []string{"vgg11", "vgg13", "vgg16", "vgg19"}

// Resolve returns c with every zero field set to its default. Defaults, and where
// they differ from the tutorial (VGG16, LeakyReLU 0.2, GAP head, 224 px, mean = std =
// 0.5, Adam lr 1e-5, batch 4, 100 epochs, no augmentation):
//   - batch 32 (4 leaves a GPU idle and makes batch statistics noisy);
//   - lr 1e-4 with a cosine schedule (1e-5 needs the tutorial's 100 epochs; 1e-3
//     diverges at full width without batch norm, as measured);
//   - random crop + flip, which STL-10's 500 images per class need;
//   - 30 epochs, test accuracy after every epoch over the whole test split.
func (c Config) Resolve() Config {
	if ImageNetWeights(c.Train.Weights) {
		c.Model = imageNetDefaults(c.Model, c.Train.Weights)
	}
	c.Data = c.Data.Resolve()
	c.Model = c.Model.Resolve()
	c.Train = c.Train.Resolve()
	return c
}

// Resolve fills the data defaults.
func (d Data) Resolve() Data {
	d.Name = or(d.Name, "auto")
	return d
}

// Resolve fills the model defaults (Classes stays 0 until the data says).
func (m Model) Resolve() Model {
	m.Arch = or(m.Arch, "vgg16")
	m.Activation = or(m.Activation, "leaky")
	m.LeakySlope = orF(m.LeakySlope, 0.2)
	m.Head = or(m.Head, HeadGAP)
	m.Width = orF(m.Width, 1)
	m.InputSize = orI(m.InputSize, 224)
	m.Dropout = orF(m.Dropout, 0.5)
	if m.Mean == nil {
		m.Mean = []float64{0.5, 0.5, 0.5}
	}
	if m.Std == nil {
		m.Std = []float64{0.5, 0.5, 0.5}
	}
	m.Augment = or(m.Augment, CropFlip)
	m.Precision = or(m.Precision, F32)
	return m
}

// ImageNetMean and ImageNetStd are the normalisation torchvision's pretrained weights
// expect (of x/255, R, G, B).
var (
	ImageNetMean = []float64{0.485, 0.456, 0.406}
	ImageNetStd  = []float64{0.229, 0.224, 0.225}
)

// Resolve fills the training defaults.
func (t Train) Resolve() Train {
	if t.Weights != "" {
		t.FreezeEpochs = orI(t.FreezeEpochs, 1)
		t.TrunkLR = orF(t.TrunkLR, 0.1)
	}
	t.Optimizer = or(t.Optimizer, "adam")
	t.LearningRate = orF(t.LearningRate, 1e-4)
	t.Momentum = orF(t.Momentum, 0.9)
	t.Schedule = or(t.Schedule, "cosine")
	t.Epochs = orI(t.Epochs, 30)
	t.BatchSize = orI(t.BatchSize, 32)
	t.LogEvery = orI(t.LogEvery, 100)
	t.CheckpointMinutes = orF(t.CheckpointMinutes, 10)
	return t
}

// ImageNetWeights tells whether Train.Weights names ImageNet weights (torchvision's or
// timm's: a variant name or a .pth/.safetensors file) rather than a vggkit checkpoint.
func ImageNetWeights(w string) bool {
	if w == "" {
		return false
	}
	if st, err := os.Stat(w); err == nil && st.IsDir() {
		return false // a run folder
	}
	ext := strings.ToLower(filepath.Ext(w))
	return ext == ".pth" || ext == ".pt" || ext == ".safetensors" || !strings.ContainsAny(w, `/\.`)
}

// TrunkFactor is the trunk's learning rate as a fraction of the head's: TrunkLR, which
// stays 0 (1) without Weights, so that a config resolved before its Weights were set
// still gets 0.1 with them.
func (t Train) TrunkFactor() float64 { return orF(t.TrunkLR, 1) }

// WithWeights returns c starting from pretrained weights w (Train.Weights), its model
// following them: ImageNet weights bring ImageNet's normalisation and ReLU, and a variant
// name its arch and batch norm (torchvision's VGGs), replacing what c had (c may be
// resolved already, as config.Demo is); a vggkit run folder changes nothing else.
func (c Config) WithWeights(w string) Config {
	c.Train.Weights = w
	if !ImageNetWeights(w) {
		return c
	}
	m := &c.Model
	m.Mean, m.Std, m.Activation = nil, nil, ""
	if arch, _ := strings.CutSuffix(w, "_bn"); contains(Archs, arch) {
		m.Arch, m.BatchNorm = "", false
	}
	c.Model = imageNetDefaults(c.Model, w)
	return c
}

// imageNetDefaults makes the model's unset fields follow ImageNet weights: torchvision's
// VGGs use ReLU and were trained on inputs normalised with ImageNet's statistics; a
// variant's name ("vgg16_bn") says the arch and batch norm.
func imageNetDefaults(m Model, weights string) Model {
	if m.Mean == nil && m.Std == nil {
		m.Mean, m.Std = ImageNetMean, ImageNetStd
	}
	m.Activation = or(m.Activation, "relu")
	if arch, bn := strings.CutSuffix(weights, "_bn"); m.Arch == "" && contains(Archs, arch) {
		m.Arch, m.BatchNorm = arch, m.BatchNorm || bn
	}
	return m
}

// Default is the zero Config resolved: the tutorial's model on STL-10 (or Shapes10).
func Default() Config { return Config{}.Resolve() }

// Demo is a small VGG that learns the embedded Shapes10 set in a few minutes on two CPU
// cores: VGG11 with batch norm at 1/8 width on 32 px inputs, Adam 2e-3, 5 epochs, no
// augmentation (too few epochs for it to pay off).
func Demo() Config {
	c := Default()
	c.Data.Name = "shapes10"
	c.Model.Arch, c.Model.BatchNorm, c.Model.Width, c.Model.InputSize = "vgg11", true, 0.125, 32
	c.Model.Augment = NoAugment
	c.Train.LearningRate, c.Train.Epochs, c.Train.LogEvery = 2e-3, 5, 50
	return c
}

// Notebook is the notebooks' training run (03-training, 04-evaluation), the one place
// that decides it from the machine (gpu: the backend runs on a GPU, see
// vggkit.OnGPU). On a GPU, the tutorial's recipe: VGG16, LeakyReLU 0.2, 224 px, on
// dataset (STL-10 when present), with bf16 convolutions. On a CPU that recipe takes hours
// per epoch, so the demo's small VGG instead (minutes for the whole run). With
// VGGKIT_FAST (CI), either runs 2 epochs on the first 2000 images. NotebookWhy says which.
func Notebook(dataset string, gpu bool) Config {
	c := Demo()
	if gpu {
		c = Default()
		c.Model.Precision = BF16
	}
	c.Data.Name = dataset
	if Env().Fast {
		c.Train.Epochs, c.Data.Limit = 2, 2000
	}
	return c
}

// NotebookWhy is a line for the notebook: which run Notebook picked, and why.
func NotebookWhy(gpu bool) string {
	if gpu {
		return "GPU found: the tutorial's recipe (VGG16, LeakyReLU 0.2, 224 px, bf16 convolutions), as the tutorial trained it on Colab's GPU"
	}
	return "no GPU: the demo's small VGG (VGG11 with batch norm at 1/8 width, 32 px), which trains in minutes on a CPU; " +
		"the tutorial's VGG16 at 224 px would take hours per epoch here (on a GPU this notebook picks it)"
}

// Validate resolves c and names the first bad field and its value.
func (c Config) Validate() error {
	c = c.Resolve()
	if err := c.Data.Validate(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := c.Model.Validate(); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	if err := c.Train.Validate(); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// Validate checks the data fields.
func (d Data) Validate() error {
	switch {
	case d.Fold < 0 || d.Fold > 10:
		return fmt.Errorf("fold %d out of range: 1..10, or 0 for all training images", d.Fold)
	case d.PerClass < 0 || d.Limit < 0:
		return fmt.Errorf("per-class %d and limit %d must be >= 0", d.PerClass, d.Limit)
	case d.Channels != 0 && d.Channels != 1 && d.Channels != 3:
		return fmt.Errorf("channels %d: want 1, 3, or 0 for the dataset's own", d.Channels)
	case d.ImageSize < 0 || d.ImageSize > 4096:
		return fmt.Errorf("image size %d out of range [0, 4096]", d.ImageSize)
	case !(d.TestFraction >= 0 && d.TestFraction < 1):
		return fmt.Errorf("test fraction %g out of range [0, 1)", d.TestFraction)
	}
	return nil
}

// Validate checks the model fields (resolved).
func (m Model) Validate() error {
	m = m.Resolve()
	switch {
	case !contains(Archs, m.Arch):
		return fmt.Errorf("unknown arch %q: valid are %s", m.Arch, strings.Join(Archs, ", "))
	case m.Activation != "relu" && m.Activation != "leaky":
		return fmt.Errorf("unknown activation %q: valid are leaky, relu", m.Activation)
	case !finite(m.LeakySlope) || m.LeakySlope < 0 || m.LeakySlope >= 1:
		return fmt.Errorf("leaky slope %g out of range (0, 1)", m.LeakySlope)
	case m.Head != HeadGAP && m.Head != HeadClassic:
		return fmt.Errorf("unknown head %q: valid are %s, %s", m.Head, HeadGAP, HeadClassic)
	case !(m.Width > 0 && m.Width <= 4):
		return fmt.Errorf("width %g out of range (0, 4]", m.Width)
	case m.Classes == 1 || m.Classes < 0:
		return fmt.Errorf("classes %d: need at least 2 (or 0: the dataset's)", m.Classes)
	case m.InputSize < 32 || m.InputSize > 4096:
		return fmt.Errorf("input size %d: VGG needs at least 32 (five 2x2 pools), at most 4096", m.InputSize)
	case !finite(m.Dropout) || m.Dropout >= 1:
		return fmt.Errorf("dropout %g out of range [0, 1) (negative: none)", m.Dropout)
	case len(m.Mean) != len(m.Std) || (len(m.Mean) != 1 && len(m.Mean) != 3):
		return fmt.Errorf("mean has %d values, std %d: want 3 (R, G, B) or 1 (every channel)", len(m.Mean), len(m.Std))
	case m.Augment != CropFlip && m.Augment != NoAugment:
		return fmt.Errorf("unknown augment %q: valid are %s, %s", m.Augment, CropFlip, NoAugment)
	case m.Precision != F32 && m.Precision != BF16:
		return fmt.Errorf("unknown precision %q: valid are %s, %s", m.Precision, F32, BF16)
	}
	for i := range m.Std {
		if !finite(m.Mean[i]) || !(m.Std[i] > 0) || !finite(m.Std[i]) {
			return fmt.Errorf("mean[%d] = %g, std[%d] = %g: need finite values and std > 0", i, m.Mean[i], i, m.Std[i])
		}
	}
	return nil
}

// Validate checks the training fields (resolved).
func (t Train) Validate() error {
	t = t.Resolve()
	switch {
	case !contains(Optimizers, t.Optimizer):
		return fmt.Errorf("unknown optimizer %q: valid are %s", t.Optimizer, strings.Join(Optimizers, ", "))
	case !contains(Schedules, t.Schedule):
		return fmt.Errorf("unknown schedule %q: valid are %s", t.Schedule, strings.Join(Schedules, ", "))
	case t.EarlyStop < 0:
		return fmt.Errorf("early stop %d: need 0 (never) or a patience of 1 or more evaluations", t.EarlyStop)
	case !(t.LearningRate > 0 && t.LearningRate < 10):
		return fmt.Errorf("learning rate %g out of range (0, 10)", t.LearningRate)
	case !(t.Momentum < 1) || !finite(t.Momentum):
		return fmt.Errorf("momentum %g out of range: below 1 (negative: none)", t.Momentum)
	case !(t.WeightDecay >= 0 && t.WeightDecay < 1):
		return fmt.Errorf("weight decay %g out of range [0, 1)", t.WeightDecay)
	case t.Epochs < 1 || t.Epochs > 1_000_000:
		return fmt.Errorf("epochs %d: need 1 or more", t.Epochs)
	case t.BatchSize < 1 || t.BatchSize > 1<<16:
		return fmt.Errorf("batch size %d out of range [1, 65536]", t.BatchSize)
	case !(t.TrunkLR >= 0 && t.TrunkLR <= 10):
		return fmt.Errorf("trunk lr %g out of range (0, 10]: a fraction of the head's learning rate (0: the default)", t.TrunkLR)
	case t.FreezeSteps < 0:
		return fmt.Errorf("freeze steps %d: need 0 or more", t.FreezeSteps)
	case !finite(t.CheckpointMinutes):
		return fmt.Errorf("checkpoint minutes %g: need a number", t.CheckpointMinutes)
	}
	return nil
}

// Resumable lists the fields a resumed run may change: how long it trains (and so the
// schedule's length), the learning rate (to go on, lower, after a divergence), how it
// computes (precision, devices) and how it reports. Everything else would mix two runs
// in one history; the changes made are recorded in the history.
var Resumable = []string{"train.epochs", "train.learning_rate", "model.precision", "train.data_parallel",
	"train.log_every", "train.checkpoint_minutes", "train.eval_every", "train.early_stop", "data.dir"}

// Diff lists the fields (JSON paths such as "model.activation") whose resolved values
// differ between a and b, as "path: a -> b", sorted; fields in skip are left out.
func Diff(a, b Config, skip ...string) []string {
	ma, mb := flat(a.Resolve()), flat(b.Resolve())
	var out []string
	for k, va := range ma {
		if vb := mb[k]; va != vb && !contains(skip, k) {
			out = append(out, fmt.Sprintf("%s: %s -> %s", k, va, vb))
		}
	}
	sort.Strings(out)
	return out
}

// flat maps each leaf's JSON path to its JSON value.
func flat(c Config) map[string]string {
	b, _ := json.Marshal(c)
	var tree map[string]any
	_ = json.Unmarshal(b, &tree)
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				walk(strings.TrimPrefix(prefix+"."+k, "."), x)
			}
			return
		}
		js, _ := json.Marshal(v)
		out[prefix] = string(js)
	}
	walk("", tree)
	return out
}

// Name is a short label such as "vgg16_bn gap w0.25 @224".
func (m Model) Name() string {
	m = m.Resolve()
	s := m.Arch
	if m.BatchNorm {
		s += "_bn"
	}
	s += " " + m.Head
	if m.Width != 1 {
		s += fmt.Sprintf(" w%g", m.Width)
	}
	s += fmt.Sprintf(" @%d", m.InputSize)
	if m.Precision == BF16 {
		s += " bf16"
	}
	return s
}

// Channels scales a configured channel count by the width multiplier (at least 1).
func (m Model) Channels(n int) int { return max(1, int(float64(n)*orF(m.Width, 1)+0.5)) }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orF(x, def float64) float64 {
	if x == 0 {
		return def
	}
	return x
}

func orI(x, def int) int {
	if x == 0 {
		return def
	}
	return x
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func contains(s []string, x string) bool { return slices.Contains(s, x) }
