package vggkit

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/training"
	"github.com/vggkit/vggkit/vggkit/weights"
)

// Transfer is the offline stand-in for fine-tuning ImageNet weights (06-transfer,
// bench/transfer): the demo's model at 64 px pretrained on five Shapes10 classes, then a new task,
// the other five classes from 20 images each, learnt by fine-tuning the pretrained model
// (its trunk frozen for the first epoch) or from scratch for the same number of steps. With VGGKIT_FAST (CI) every run is shorter.
func Transfer() (pretrain, finetune, scratch config.Config) {
	classes := data.Shapes10Classes()
	pretrain = config.Demo()
	pretrain.Model.InputSize = 64 // class activation maps of 4x4, not 2x2
	pretrain.Data.Classes, pretrain.Train.Epochs = classes[:5], 10
	scratch = pretrain
	scratch.Data.Classes, scratch.Data.Limit, scratch.Train.Epochs = classes[5:], 100, 30
	if config.Env().Fast {
		pretrain.Train.Epochs, pretrain.Data.Limit = 2, 1000
		scratch.Train.Epochs = 4
	}
	finetune = scratch.WithWeights(RunDir(pretrain))
	// The stand-in's trunk has seen 2,500 images of five shapes, not ImageNet's 1.28
	// million: it has to change more for the new classes than an ImageNet trunk, and
	// trains best at the head's full rate (bench/transfer measures 0.1 too).
	finetune.Train.TrunkLR = 1
	return pretrain, finetune, scratch
}

// ImageNetModel is torchvision's VGG with its ImageNet weights, for predictions over the
// 1000 ImageNet classes: a variant name ("vgg16", in the cache: `vggkit download vgg16`),
// or a .pth or safetensors file whose name starts with one (vgg16-397923af.pth). Read
// image files for it as torchvision evaluates it: data.ReadImageCrop(path, 224, 3,
// data.ImageNetCrop), as vggkit predict -weights does.
func ImageNetModel(w string) (*training.Learner, error) {
	name := filepath.Base(w)
	if i := strings.IndexAny(name, "-."); i > 0 {
		name = name[:i]
	}
	v, ok := weights.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("%w %s: name a variant (%s) or a file whose name starts with one",
			weights.ErrUnknown, w, strings.Join(weights.Names(), ", "))
	}
	b, err := backend.Shared()
	if err != nil {
		return nil, err
	}
	l, err := training.New(b, config.Config{Model: v.Model(), Train: config.Train{Weights: w}}, weights.ImageNetClasses())
	if err != nil {
		return nil, err
	}
	l.Images = [3]int{224, 224, 3} // torchvision's eval transform ends in a 224 px centre crop.
	return l, nil
}
