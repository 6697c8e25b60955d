// Package pictures draws what a notebook and a run's report show: a dataset's images,
// the training curves, per-class accuracy, the confusion matrix, predictions and
// mistakes, feature maps, and images as the model's transforms deliver them. Each
// function returns a plotting.Chart (save it, or show it with nb.Show); captions are
// wrapped to fit under their image.
//
// Data flows one way: pictures draws what data, metrics and training produced, with
// plotting; only the top-level package, report, nb and the command import it.
package pictures

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/vggkit/vggkit/plotting"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/metrics"
	"github.com/vggkit/vggkit/vggkit/training"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// Caption colours: right and wrong predictions.
var (
	right = color.RGBA{0, 128, 0, 255}
	wrong = color.RGBA{200, 0, 0, 255}
)

// Batch is a grid of the first n images of the set with their class names, cols per
// row (the tutorial's imshow of a batch, fastai's show_batch).
func Batch(set *data.Set, n, cols int) (*plotting.Chart, error) {
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

// label is image i's class name, or "(unlabeled)".
func label(set *data.Set, i int) string {
	if l := set.Labels[i]; l >= 0 {
		return set.Classes[l]
	}
	return "(unlabeled)"
}

// Loss draws the training loss over steps.
func Loss(h *training.History) (*plotting.Chart, error) {
	xs := make([]float64, len(h.Steps))
	for i, s := range h.Steps {
		xs[i] = float64(s)
	}
	return plotting.Curves("Training loss", "step", "cross-entropy loss", plotting.Series{Name: "train loss", X: xs, Y: h.Loss})
}

// Accuracy draws train and test accuracy per epoch (test where it was measured).
func Accuracy(h *training.History) (*plotting.Chart, error) {
	var ep, tr, te []float64
	for _, e := range h.Epochs {
		ep = append(ep, float64(e.Epoch))
		tr = append(tr, e.TrainAcc)
		acc := e.TestAcc
		if acc < 0 {
			acc = math.NaN() // not evaluated that epoch: a gap in the curve.
		}
		te = append(te, acc)
	}
	return plotting.Curves("Accuracy", "epoch", "accuracy", plotting.Series{Name: "train", X: ep, Y: tr},
		plotting.Series{Name: "test", X: ep, Y: te})
}

// PerClass draws a report's per-class accuracy as bars, the overall accuracy in the title.
func PerClass(r *metrics.Report) (*plotting.Chart, error) {
	vals := make([]float64, len(r.PerClass))
	for i, c := range r.PerClass {
		vals[i] = c.Accuracy
	}
	return plotting.ClassBars(fmt.Sprintf("Per-class accuracy on %s (overall %.1f%%)", r.Dataset, 100*r.Accuracy),
		"accuracy", r.Classes, vals)
}

// Confusion draws a report's confusion matrix as a heatmap with counts.
func Confusion(r *metrics.Report) (*plotting.Chart, error) {
	return plotting.ConfusionMatrix(fmt.Sprintf("Confusion matrix, %s (%d images)", r.Dataset, r.Total), r.Classes, r.Confusion)
}

// Predictions is a grid of the set's images at indices, captioned with the prediction
// first and the true class below it (see predCaption), green when right and red when wrong; pred holds one predicted class per image of the set
// (metrics.ArgMax of the logits).
func Predictions(set *data.Set, indices []int, pred []int32, cols int) (*plotting.Chart, error) {
	sub := set.Subset(set.Name, indices)
	imgs, err := plotting.ImagesFromUint8(sub.Pixels, sub.Len(), sub.H, sub.W, sub.C)
	if err != nil {
		return nil, err
	}
	captions := make([]string, len(indices))
	colors := make([]color.Color, len(indices))
	for k, i := range indices {
		p := pred[i]
		captions[k] = predCaption(set.Classes[p], label(set, i), -1)
		colors[k] = right
		if set.Labels[i] != p {
			colors[k] = wrong
		}
	}
	return plotting.ImageGrid(imgs, captions, plotting.GridOptions{Cols: cols, CaptionColors: colors,
		Title: "Predictions (green: right, red: wrong)"})
}

// Mistakes is a grid of mistaken images (metrics.ConfidentMistakes) captioned with the
// prediction and its probability first, the true class below (see predCaption).
func Mistakes(set *data.Set, ms []metrics.Mistake, cols int) (*plotting.Chart, error) {
	if len(ms) == 0 {
		return nil, fmt.Errorf("no mistakes to show")
	}
	idx := make([]int, len(ms))
	captions := make([]string, len(ms))
	colors := make([]color.Color, len(ms))
	for k, m := range ms {
		idx[k] = m.Index
		captions[k] = predCaption(set.Classes[m.Pred], label(set, m.Index), m.Prob)
		colors[k] = wrong
	}
	sub := set.Subset(set.Name, idx)
	imgs, err := plotting.ImagesFromUint8(sub.Pixels, sub.Len(), sub.H, sub.W, sub.C)
	if err != nil {
		return nil, err
	}
	return plotting.ImageGrid(imgs, captions, plotting.GridOptions{Cols: cols, CaptionColors: colors,
		Title: "Most confident mistakes"})
}

// predCaption puts the prediction first, on its own line, and the true class on the
// next: a cell is 96 px wide, and with "true: X / pred: Y" on one line two long class
// names ("horizontal stripes") pushed the prediction past the caption's last row. A
// right prediction needs no second line. prob < 0: none shown.
func predCaption(pred, truth string, prob float64) string {
	s := pred
	if prob >= 0 {
		s += fmt.Sprintf(" %.0f%%", 100*prob)
	}
	if truth == pred {
		return s
	}
	return s + "\ntrue: " + truth
}

// FeatureMaps draws up to maxChannels channels of one feature map [h, w, c]
// (training.Learner.FeatureMaps) as grey images, each scaled to its own min..max so
// weak channels stay visible. The title gets the channel count and the map's size.
func FeatureMaps(fmap []float32, h, w, c, maxChannels, cols int, title string) (*plotting.Chart, error) {
	if len(fmap) != h*w*c {
		return nil, fmt.Errorf("feature map has %d values, not %dx%dx%d", len(fmap), h, w, c)
	}
	n := min(c, maxChannels)
	imgs := make([]image.Image, n)
	captions := make([]string, n)
	for ch := range n {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := ch; i < len(fmap); i += c {
			lo, hi = math.Min(lo, float64(fmap[i])), math.Max(hi, float64(fmap[i]))
		}
		g := image.NewGray(image.Rect(0, 0, w, h))
		for p := range h * w {
			v := 0.0
			if hi > lo {
				v = (float64(fmap[p*c+ch]) - lo) / (hi - lo)
			}
			g.Pix[p] = uint8(255 * v)
		}
		imgs[ch] = g
		captions[ch] = fmt.Sprintf("channel %d", ch)
	}
	return plotting.ImageGrid(imgs, captions, plotting.GridOptions{Cols: cols, Title: mapsTitle(title, n, c, h, w)})
}

// mapsTitle adds what the grid shows to title: the map's real channel count, and how
// many of them are drawn when that is fewer (a VGG16's first layer has 64).
func mapsTitle(title string, shown, c, h, w int) string {
	if shown < c {
		return fmt.Sprintf("%s: %d of its %d channels, %dx%d", title, shown, c, h, w)
	}
	return fmt.Sprintf("%s: its %d channels, %dx%d", title, c, h, w)
}

// Transformed is a grid of images as the model receives them: x holds len(indices)
// float images (HWC, h x w, the set's channels) that the model's transforms made of
// the set's images at indices (vggkit.Transformed), normalised with mean and std; they
// are shown unnormalised (x*std + mean, the tutorial's imshow) and captioned with
// their class names. augmented says whether x is the training view (random crop and
// flip), for the title.
func Transformed(set *data.Set, indices []int, x []float32, h, w int, mean, std []float64, augmented bool, cols int) (*plotting.Chart, error) {
	n := len(indices)
	if n == 0 {
		return nil, fmt.Errorf("%s: no images to show", set.Name)
	}
	if len(mean) > 0 || len(std) > 0 {
		var err error
		if mean, std, err = vgg.ChannelStats(mean, std, set.C); err != nil { // as the model normalised them (grey: one value).
			return nil, err
		}
	}
	imgs, err := plotting.ImagesFromFloat(x, n, h, w, set.C, mean, std)
	if err != nil {
		return nil, err
	}
	captions := make([]string, n)
	for k, i := range indices {
		captions[k] = label(set, i)
	}
	title := fmt.Sprintf("resized to %dx%d, normalised (shown unnormalised)", h, w)
	if augmented {
		title = fmt.Sprintf("training view: random crop + flip, then %dx%d", h, w)
	}
	return plotting.ImageGrid(imgs, captions, plotting.GridOptions{Cols: cols, Title: title, Scale: 1})
}
