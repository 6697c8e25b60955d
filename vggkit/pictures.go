package vggkit

import (
	"fmt"
	"image/color"

	"github.com/vggkit/vggkit/plotting"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/metrics"
	"github.com/vggkit/vggkit/vggkit/training"
)

// ShowBatch is a grid of the first n images of the set with their class names
// (the tutorial's imshow of a batch, fastai's show_batch).
func ShowBatch(set *data.Set, n, cols int) (*plotting.Chart, error) {
	n = min(n, set.Len())
	if n <= 0 {
		return nil, fmt.Errorf("%s: no images to show", set.Name)
	}
	imgs, err := plotting.ImagesFromUint8(set.Pixels[:n*set.ImageBytes()], n, set.H, set.W, set.C)
	if err != nil {
		return nil, err
	}
	captions := make([]string, n)
	for i := range captions {
		captions[i] = label(set, i)
	}
	return plotting.ImageGrid(imgs, captions, plotting.GridOptions{Cols: cols, Title: set.Name})
}

func label(set *data.Set, i int) string {
	if l := set.Labels[i]; l >= 0 {
		return set.Classes[l]
	}
	return "(unlabeled)"
}

// LossCurve draws the training loss over steps, and test accuracy per epoch when recorded.
func LossCurve(h *training.History) (*plotting.Chart, error) {
	xs := make([]float64, len(h.Steps))
	for i, s := range h.Steps {
		xs[i] = float64(s)
	}
	return plotting.Curves("Training loss", "step", "cross-entropy loss", plotting.Series{Name: "train loss", X: xs, Y: h.Loss})
}

// AccuracyCurve draws train and test accuracy per epoch.
func AccuracyCurve(h *training.History) (*plotting.Chart, error) {
	var ep, tr, te []float64
	for _, e := range h.Epochs {
		ep = append(ep, float64(e.Epoch))
		tr = append(tr, e.TrainAcc)
		acc := e.TestAcc
		if acc < 0 {
			acc = nan()
		}
		te = append(te, acc)
	}
	return plotting.Curves("Accuracy", "epoch", "accuracy", plotting.Series{Name: "train", X: ep, Y: tr},
		plotting.Series{Name: "test", X: ep, Y: te})
}

func nan() float64 { var z float64; return z / z }

// ClassBars draws per-class accuracy.
func ClassBars(r *metrics.Report) (*plotting.Chart, error) {
	vals := make([]float64, len(r.PerClass))
	for i, c := range r.PerClass {
		vals[i] = c.Accuracy
	}
	return plotting.ClassBars(fmt.Sprintf("Per-class accuracy on %s (overall %.1f%%)", r.Dataset, 100*r.Accuracy),
		"accuracy", r.Classes, vals)
}

// Confusion draws the confusion-matrix heatmap with counts.
func Confusion(r *metrics.Report) (*plotting.Chart, error) {
	return plotting.ConfusionMatrix(fmt.Sprintf("Confusion matrix, %s (%d images)", r.Dataset, r.Total), r.Classes, r.Confusion)
}

// ShowPredictions is a grid of images with "true / pred" captions, green when right and
// red when wrong.
func ShowPredictions(set *data.Set, indices []int, pred []int32, cols int) (*plotting.Chart, error) {
	sub := set.Subset(set.Name, indices)
	imgs, err := plotting.ImagesFromUint8(sub.Pixels, sub.Len(), sub.H, sub.W, sub.C)
	if err != nil {
		return nil, err
	}
	captions := make([]string, len(indices))
	colors := make([]color.Color, len(indices))
	for k, i := range indices {
		p := pred[i]
		captions[k] = fmt.Sprintf("true: %s / pred: %s", label(set, i), set.Classes[p])
		colors[k] = color.RGBA{0, 128, 0, 255}
		if set.Labels[i] != p {
			colors[k] = color.RGBA{200, 0, 0, 255}
		}
	}
	return plotting.ImageGrid(imgs, captions, plotting.GridOptions{Cols: cols, CaptionColors: colors,
		Title: "Predictions (green: right, red: wrong)"})
}
