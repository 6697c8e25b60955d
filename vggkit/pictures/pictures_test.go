package pictures

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot"

	"github.com/vggkit/vggkit/plotting"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/metrics"
	"github.com/vggkit/vggkit/vggkit/training"
)

// decode returns a function that renders a chart and decodes the PNG:
// decode(t)(Batch(set, 8, 4)).
func decode(t *testing.T) func(*plotting.Chart, error) image.Image {
	return func(c *plotting.Chart, err error) image.Image {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.PNG()
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
}

func shapes(t *testing.T) *data.Set {
	t.Helper()
	s, err := data.Shapes10("test", 2)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkGridWidth: cols cells of 96 px plus padding; long captions wrap under their
// image instead of widening the grid.
func checkGridWidth(t *testing.T, img image.Image, cols int) {
	t.Helper()
	if w := img.Bounds().Dx(); w < cols*96 || w > cols*96+10*(cols+1) {
		t.Errorf("grid width %d for %d columns of 96 px", w, cols)
	}
}

func TestBatch(t *testing.T) {
	set := shapes(t)
	checkGridWidth(t, decode(t)(Batch(set, 8, 4)), 4)
	if _, err := Batch(set.Head(0).Subset("empty", nil), 8, 4); err == nil || !strings.Contains(err.Error(), "no images") {
		t.Errorf("empty set: %v", err)
	}
	// Unlabeled images are captioned as such.
	u := set.Subset("unlabeled", []int{0})
	u.Labels[0] = -1
	if label(u, 0) != "(unlabeled)" {
		t.Errorf("label of an unlabeled image: %q", label(u, 0))
	}
}

func TestPredictionsAndMistakes(t *testing.T) {
	set := shapes(t)
	pred := make([]int32, set.Len())
	logits := make([][]float32, set.Len())
	for i := range pred {
		pred[i] = (set.Labels[i] + int32(i%2)) % int32(len(set.Classes)) // every other one wrong.
		logits[i] = make([]float32, len(set.Classes))
		logits[i][pred[i]] = float32(1 + i%5)
	}
	checkGridWidth(t, decode(t)(Predictions(set, []int{0, 1, 2, 3, 4, 5}, pred, 3)), 3)
	ms := metrics.ConfidentMistakes(logits, set.Labels, 6)
	if len(ms) != 6 {
		t.Fatalf("%d mistakes", len(ms))
	}
	checkGridWidth(t, decode(t)(Mistakes(set, ms, 3)), 3)
	if _, err := Mistakes(set, nil, 3); err == nil {
		t.Error("no mistakes: no error")
	}
}

func TestCurvesAndReport(t *testing.T) {
	h := &training.History{Steps: []int64{10, 20, 30}, Loss: []float64{2.3, 1.7, 1.2},
		Epochs: []training.Epoch{{Epoch: 1, TrainAcc: 0.3, TestAcc: -1}, {Epoch: 2, TrainAcc: 0.5, TestAcc: 0.45}}}
	decode(t)(Loss(h))
	decode(t)(Accuracy(h))
	r, err := metrics.Compute("toy", []string{"a", "b"}, []int32{0, 0, 1, 1}, []int32{0, 1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	decode(t)(PerClass(r))
	decode(t)(Confusion(r))
}

func TestFeatureMaps(t *testing.T) {
	const h, w, c = 6, 5, 4
	fmap := make([]float32, h*w*c)
	for i := range fmap {
		fmap[i] = float32(i % 7)
	}
	decode(t)(FeatureMaps(fmap, h, w, c, 3, 3, "features"))
	if _, err := FeatureMaps(fmap[1:], h, w, c, 3, 3, "features"); err == nil {
		t.Error("a map of the wrong size was drawn")
	}
}

// Transformed draws normalised images (x = (pixel/255 - 0.5)/0.5), captioned by index.
func TestTransformed(t *testing.T) {
	set := shapes(t)
	idx := []int{3, 4}
	x := make([]float32, 0, 2*set.ImageBytes())
	for _, i := range idx {
		for _, p := range set.Image(i) {
			x = append(x, (float32(p)/255-0.5)/0.5)
		}
	}
	mean, std := []float64{0.5, 0.5, 0.5}, []float64{0.5, 0.5, 0.5}
	// The title is wider than two 96 px cells: the grid is as wide as the title.
	if img := decode(t)(Transformed(set, idx, x, set.H, set.W, mean, std, false, 2)); img.Bounds().Dx() < 2*96 {
		t.Errorf("grid width %d for 2 columns of 96 px", img.Bounds().Dx())
	}
	if _, err := Transformed(set, nil, nil, set.H, set.W, mean, std, true, 2); err == nil {
		t.Error("no images: no error")
	}
}

// The finder's picture: a log-scale rate axis over the curve's range without its last 5
// points (dropped, as fastai does), and it renders.
func TestLRFindPicture(t *testing.T) {
	r := &training.LRFindResult{Suggestions: []training.Suggestion{{Name: "valley", LR: 1e-3, PointLR: 1e-3, PointLoss: 2}}}
	for i := range 30 {
		r.LRs = append(r.LRs, 1e-6*math.Pow(10, float64(i)/5))
		r.Losses = append(r.Losses, 3-float64(i%10)/10)
	}
	c, err := LRFind(r)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Plot()
	if _, ok := p.X.Scale.(plot.LogScale); !ok || p.X.Min != 1e-6 || math.Abs(p.X.Max-r.LRs[24]) > 1e-18 {
		t.Errorf("x axis: scale %T, range [%g, %g]; want log over [1e-6, %g]", p.X.Scale, p.X.Min, p.X.Max, r.LRs[24])
	}
	if png, err := c.PNG(); err != nil || len(png) < 1000 {
		t.Fatalf("png: %d bytes, %v", len(png), err)
	}
}

// Captions put the prediction first and name the true class only when it differs.
func TestPredCaption(t *testing.T) {
	if got := predCaption("vertical stripes", "horizontal stripes", 0.97); got != "vertical stripes 97%\ntrue: horizontal stripes" {
		t.Errorf("mistake caption %q", got)
	}
	if got := predCaption("cat", "cat", -1); got != "cat" {
		t.Errorf("right prediction caption %q", got)
	}
}

// A feature-map grid's title gives the map's real channel count, and says when fewer are drawn.
func TestMapsTitle(t *testing.T) {
	if got := mapsTitle("conv1", 16, 64, 224, 224); got != "conv1: 16 of its 64 channels, 224x224" {
		t.Errorf("%q", got)
	}
	if got := mapsTitle("conv1", 8, 8, 32, 32); got != "conv1: its 8 channels, 32x32" {
		t.Errorf("%q", got)
	}
}
