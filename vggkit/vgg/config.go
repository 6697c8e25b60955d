// Package vgg builds the VGG family (torchvision's A/B/D/E configurations) on GoMLX,
// with the input transforms (resize, normalise, augmentation) inside the compiled graph.
package vgg

import (
	"fmt"
	"sort"
	"strings"
)

// M marks a 2x2 max-pool in a configuration; other entries are 3x3 conv output channels.
const M = 0

// Cfgs is the table that drives the variants, as torchvision's `cfgs` (A, B, D, E).
var Cfgs = map[string][]int{
	"vgg11": {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M},
	"vgg13": {64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M},
	"vgg16": {64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M},
	"vgg19": {64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M},
}

// Archs lists the variant names, sorted.
func Archs() []string {
	names := make([]string, 0, len(Cfgs))
	for n := range Cfgs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Heads.
const (
	HeadGAP     = "gap"     // global average pool + Linear(512, classes): the tutorial's head.
	HeadClassic = "classic" // adaptive avg-pool 7x7, 4096, 4096, classes with dropout: torchvision's.
)

// Config describes one model. The zero value is not valid: start from Default().
type Config struct {
	Arch       string  `json:"arch"`        // vgg11, vgg13, vgg16, vgg19.
	BatchNorm  bool    `json:"batch_norm"`  // the _bn variants.
	Activation string  `json:"activation"`  // "relu" or "leaky".
	LeakySlope float64 `json:"leaky_slope"` // slope of LeakyReLU (the tutorial's 0.2).
	Head       string  `json:"head"`        // "gap" or "classic".
	Width      float64 `json:"width"`       // channel multiplier: 1 is VGG, 0.25 is width/4.
	Classes    int     `json:"classes"`
	InputSize  int     `json:"input_size"` // images are resized to InputSize x InputSize inside the graph.
	Dropout    float64 `json:"dropout"`    // classic head only (torchvision: 0.5).

	// Transforms (in the graph).
	Mean    []float64 `json:"mean,omitempty"` // per channel; the tutorial uses 0.5/0.5.
	Std     []float64 `json:"std,omitempty"`
	Augment bool      `json:"augment"` // random crop with padding + horizontal flip, training only.

	// Precision of the convolutions: "f32" (or "") or "bf16" (mixed precision: bf16
	// activations and convolutions, f32 weights, batch norm, head and loss, as PyTorch's
	// autocast). It does not change the weights, so checkpoints move between precisions.
	Precision string `json:"precision,omitempty"`
}

// Precisions accepted by Config.Precision.
const (
	F32  = "f32"
	BF16 = "bf16"
)

// Default is the tutorial's model: VGG16, LeakyReLU(0.2), GAP head, 10 classes, 224 px, mean/std 0.5.
func Default() Config {
	return Config{Arch: "vgg16", Activation: "leaky", LeakySlope: 0.2, Head: HeadGAP, Width: 1,
		Classes: 10, InputSize: 224, Dropout: 0.5, Mean: []float64{0.5, 0.5, 0.5}, Std: []float64{0.5, 0.5, 0.5}, Precision: F32}
}

// Validate reports the first bad field, naming it and its value.
func (c Config) Validate() error {
	if _, ok := Cfgs[c.Arch]; !ok {
		return fmt.Errorf("unknown arch %q: valid are %s", c.Arch, strings.Join(Archs(), ", "))
	}
	switch c.Activation {
	case "relu", "leaky":
	default:
		return fmt.Errorf("unknown activation %q: valid are relu, leaky", c.Activation)
	}
	if c.Head != HeadGAP && c.Head != HeadClassic {
		return fmt.Errorf("unknown head %q: valid are %s, %s", c.Head, HeadGAP, HeadClassic)
	}
	if c.Width <= 0 || c.Width > 4 {
		return fmt.Errorf("width %g out of range (0, 4]", c.Width)
	}
	if c.Classes < 2 {
		return fmt.Errorf("classes %d: need at least 2", c.Classes)
	}
	if c.InputSize < 32 {
		return fmt.Errorf("input size %d: VGG needs at least 32 (five 2x2 pools)", c.InputSize)
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return fmt.Errorf("dropout %g out of range [0, 1)", c.Dropout)
	}
	if len(c.Mean) != len(c.Std) {
		return fmt.Errorf("mean has %d values, std %d", len(c.Mean), len(c.Std))
	}
	switch c.Precision {
	case "", F32, BF16:
	default:
		return fmt.Errorf("unknown precision %q: valid are %s, %s", c.Precision, F32, BF16)
	}
	for i, s := range c.Std {
		if s <= 0 {
			return fmt.Errorf("std[%d] = %g: must be > 0", i, s)
		}
	}
	return nil
}

// Channels scales a configured channel count by the width multiplier (at least 1).
func (c Config) Channels(n int) int {
	return max(1, int(float64(n)*c.Width+0.5))
}

// Name is a short label such as "vgg16_bn gap w0.25 @224".
func (c Config) Name() string {
	s := c.Arch
	if c.BatchNorm {
		s += "_bn"
	}
	s += " " + c.Head
	if c.Width != 1 {
		s += fmt.Sprintf(" w%g", c.Width)
	}
	s += fmt.Sprintf(" @%d", c.InputSize)
	if c.Precision == BF16 {
		s += " bf16"
	}
	return s
}
