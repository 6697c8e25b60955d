package vggkit

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"

	"github.com/vggkit/vggkit/plotting"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/training"
)

// Mistake is a wrongly classified image and how sure the model was.
type Mistake struct {
	Index int     // image index in the set.
	Pred  int32   // predicted class.
	Prob  float64 // softmax probability of the predicted class.
}

// ConfidentMistakes returns the n wrong predictions the model was most sure of (fastai's
// top losses, restricted to errors), most confident first.
func ConfidentMistakes(logits [][]float32, labels []int32, n int) []Mistake {
	var out []Mistake
	for i, row := range logits {
		p := training.SoftmaxRow(row)
		best := 0
		for j := range p {
			if p[j] > p[best] {
				best = j
			}
		}
		if int32(best) != labels[i] {
			out = append(out, Mistake{Index: i, Pred: int32(best), Prob: p[best]})
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Prob > out[b].Prob })
	return out[:min(n, len(out))]
}

// ShowMistakes is a grid of mistaken images captioned "true / pred (prob)".
func ShowMistakes(set *data.Set, ms []Mistake, cols int) (*plotting.Chart, error) {
	if len(ms) == 0 {
		return nil, fmt.Errorf("no mistakes to show")
	}
	idx := make([]int, len(ms))
	captions := make([]string, len(ms))
	colors := make([]color.Color, len(ms))
	for k, m := range ms {
		idx[k] = m.Index
		captions[k] = fmt.Sprintf("true: %s / pred: %s (%.0f%%)", label(set, m.Index), set.Classes[m.Pred], 100*m.Prob)
		colors[k] = color.RGBA{200, 0, 0, 255}
	}
	sub := set.Subset(set.Name, idx)
	imgs, err := plotting.ImagesFromUint8(sub.Pixels, sub.Len(), sub.H, sub.W, sub.C)
	if err != nil {
		return nil, err
	}
	return plotting.ImageGrid(imgs, captions, plotting.GridOptions{Cols: cols, CaptionColors: colors,
		Title: "Most confident mistakes"})
}

// ShowFeatureMaps draws up to maxChannels channels of one feature map [h, w, c] as
// grey images, each scaled to its own min..max so weak channels stay visible.
func ShowFeatureMaps(fmap []float32, h, w, c, maxChannels, cols int, title string) (*plotting.Chart, error) {
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
	return plotting.ImageGrid(imgs, captions, plotting.GridOptions{Cols: cols, Title: title})
}
