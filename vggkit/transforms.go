package vggkit

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// Transformed runs the model's input transforms on images of the set, in the compiled
// graph exactly as training and evaluation do: resize to cfg.InputSize and normalise;
// with train, the augmentation (random crop with padding, flip) first. It returns the
// float32 images (HWC) and their size.
func Transformed(set *data.Set, indices []int, cfg vgg.Config, train bool, seed int64) (x []float32, h, w int, err error) {
	b, err := backend.Shared()
	if err != nil {
		return nil, 0, 0, err
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(seed); err != nil {
		return nil, 0, 0, err
	}
	sub := set.Subset(set.Name, indices)
	exec, err := model.NewExec(b.Backend, store, func(scope *model.Scope, images *graph.Node) *graph.Node {
		scope.Store().SetTraining(images.Graph(), train)
		return vgg.Preprocess(scope, cfg, images)
	})
	if err != nil {
		return nil, 0, 0, err
	}
	out, err := exec.Call(tensors.FromFlatDataAndDimensions(sub.Pixels, sub.Len(), sub.H, sub.W, sub.C))
	if err != nil {
		return nil, 0, 0, err
	}
	d := out[0].Shape().Dimensions
	return tensors.MustCopyFlatData[float32](out[0]), d[1], d[2], nil
}
