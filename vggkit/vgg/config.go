// Package vgg builds the VGG family (torchvision's A/B/D/E configurations) on GoMLX,
// with the input transforms (resize, normalise, augmentation) inside the compiled graph.
// It is the model only, written as torchvision's models/vgg.py: a configuration table and
// small functions over GoMLX's primitives. The faster forms of those primitives that
// some backends need come in through Ops (vggkit/backend's Choice.Ops).
package vgg

import (
	"sort"

	"github.com/vggkit/vggkit/vggkit/config"
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

// The model's configuration lives in package config (one place for every setting);
// these names keep the model's code readable.
type Config = config.Model

// Heads and precisions, as config names them.
const (
	HeadGAP     = config.HeadGAP     // global average pool + Linear(512, classes): the tutorial's head.
	HeadClassic = config.HeadClassic // adaptive avg-pool 7x7, 4096, 4096, classes with dropout: torchvision's.
	F32         = config.F32
	BF16        = config.BF16
)

// Default is the tutorial's model: VGG16, LeakyReLU(0.2), GAP head, 10 classes, 224 px, mean/std 0.5, no augmentation.
func Default() Config { return config.Model{Classes: 10, Augment: config.NoAugment}.Resolve() }
