package vggkit

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vggkit/vggkit/plotting"
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

// ShowTransformed is a grid of the first n images after the transforms, unnormalised for
// display (the tutorial's imshow: x*std + mean).
func ShowTransformed(set *data.Set, n, cols int, cfg vgg.Config, train bool) (*plotting.Chart, error) {
	n = min(n, set.Len())
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	x, h, w, err := Transformed(set, idx, cfg, train, 1)
	if err != nil {
		return nil, err
	}
	imgs, err := plotting.ImagesFromFloat(x, n, h, w, set.C, cfg.Mean, cfg.Std)
	if err != nil {
		return nil, err
	}
	captions := make([]string, n)
	for i := range captions {
		captions[i] = label(set, i)
	}
	title := fmt.Sprintf("resized to %dx%d, normalised (shown unnormalised)", h, w)
	if train {
		title = fmt.Sprintf("training view: random crop + flip, then %dx%d", h, w)
	}
	return plotting.ImageGrid(imgs, captions, plotting.GridOptions{Cols: cols, Title: title, Scale: 1})
}
