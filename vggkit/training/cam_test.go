package training

import (
	"context"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/testbackend"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// The CAM of a GAP-head model is the classifier's weights over the last feature map,
// computed here on the host from FeatureMaps and Variables; Grad-CAM on the same model is
// that map over h*w (alpha_c = w[c,k]/(h*w)), which checks the gradient path.
func TestCAMIsTheHeadWeightsOverTheFeatureMap(t *testing.T) {
	b := testbackend.Choice(t)
	m := tinyModel()
	m.InputSize = 64 // a 4x4 map at the last convolution: positions to tell apart.
	set := shapesSet(t, "test", 1)
	l, err := newLearner(b, m, tinyOptions(), set.Classes)
	if err != nil {
		t.Fatal(err)
	}
	classes := []int{-1, 3, 9, -1, 0, 1, 2, 3, 4, 5}
	cams, err := l.CAM(set, classes)
	if err != nil {
		t.Fatal(err)
	}
	all := make([]int, set.Len())
	for i := range all {
		all[i] = i
	}
	fm, h, w, c, err := l.FeatureMaps(set, all, len(vgg.Cfgs[m.Arch])-2) // the last convolution, before the final pool
	if err != nil {
		t.Fatal(err)
	}
	vars, err := l.Variables()
	if err != nil {
		t.Fatal(err)
	}
	wts := tensors.MustCopyFlatData[float32](vars["classifier/0/dense/weights"]) // [C, K]
	logits, err := l.Logits(set)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := l.cams(set, classes, true)
	if err != nil {
		t.Fatal(err)
	}
	k, positive := len(set.Classes), 0
	for i, cm := range cams {
		want := classes[i]
		if want < 0 {
			want = argmax(logits[i])
		}
		if cm.Class != want || cm.Pred != argmax(logits[i]) || cm.Method != MethodCAM || cm.H != h || cm.W != w {
			t.Fatalf("image %d: class %d pred %d method %s %dx%d, want class %d pred %d CAM %dx%d", i, cm.Class, cm.Pred,
				cm.Method, cm.H, cm.W, want, argmax(logits[i]), h, w)
		}
		for p := range h * w {
			s := 0.0
			for ch := range c {
				s += float64(wts[ch*k+want]) * float64(fm[i][p*c+ch])
			}
			if s > 0 {
				positive++
			}
			s = math.Max(s, 0)
			if d := math.Abs(float64(cm.Map[p]) - s); d > 1e-4*(1+math.Abs(s)) {
				t.Errorf("image %d position %d: CAM %g, host sum_c w A %g", i, p, cm.Map[p], s)
			}
			if g := float64(grads[i].Map[p]) * float64(h*w); math.Abs(g-s) > 1e-4*(1+math.Abs(s)) {
				t.Errorf("image %d position %d: Grad-CAM*h*w %g, CAM %g", i, p, g, s)
			}
		}
	}
	if positive == 0 {
		t.Error("every map is zero: nothing was compared")
	}
	if _, err := l.CAM(set, []int{10}); err == nil {
		t.Error("CAM took 1 class for 10 images")
	}
}

// The maps mean something: on Shapes10 test images a trained model classifies right, most
// of a map's mass lies on the object, well above the object's share of the image (what
// a uniform map gets). CAM on a GAP-head model trained at 96 px (a 3x3 last feature
// map); Grad-CAM on a classic-head model given that trunk and trained briefly (the
// classic head alone, from scratch, stays near chance in a test's budget). XLA on CPU
// only: the pure-Go backend takes minutes at 96 px.
//
// Measured with XLA on CPU (2 cores: 33 s in all, 21 s and 10 s of training; the pure-Go
// backend trains about 5 times slower), over the 42 of 100 test images each model gets
// right, at the last convolution (6x6 at 96 px): CAM puts 0.327 of its mass on the
// object, whose mean area is 0.175 (1.9 times), and its peak on the object in 62% of
// images; Grad-CAM 0.349 against 0.196, peak on the object in 67%. (After the final
// pool, 3x3, it was 0.262 and 0.303.) A 6x6 map upsampled to 96 px is coarse: the mass
// spills over the object's edges, hence far from all of it inside.
// The floors leave room for other machines' numerics.
func TestCAMMassIsOnTheObject(t *testing.T) {
	if testing.Short() || os.Getenv("VGGKIT_TEST_BACKEND") != "default" {
		t.Skip("trains at 96 px for about a minute: run with VGGKIT_TEST_BACKEND=default (XLA on CPU)")
	}
	b := testbackend.Choice(t)
	test := shapesSet(t, "test", 10)
	masks, err := data.Shapes10Masks("test", 10)
	if err != nil {
		t.Fatal(err)
	}
	gap := camLearner(t, b, vgg.HeadGAP, 300, 4, nil)
	inside, area, peaks := massOnObjects(t, gap, test, masks)
	checkMass(t, MethodCAM, inside, area, peaks)
	trunk, err := gap.Variables()
	if err != nil {
		t.Fatal(err)
	}
	for p := range trunk {
		if !strings.HasPrefix(p, "features/") {
			delete(trunk, p)
		}
	}
	// The trunk's tensors go to the new model as they are: gap is not used again.
	classic := camLearner(t, b, vgg.HeadClassic, 100, 2, trunk)
	inside, area, peaks = massOnObjects(t, classic, test, masks)
	checkMass(t, MethodGradCAM, inside, area, peaks)
}

// checkMass asserts the floors: mass inside at least 1.5 times the area and 0.08 above
// it; the peak on the object in at least 45% of the images (a uniform map's peak would
// be there as often as the object's area: about 18%).
func checkMass(t *testing.T, method string, inside, area, peaks float64) {
	t.Helper()
	if inside < 1.5*area || inside < area+0.08 {
		t.Errorf("%s: mean mass inside the object %.3f, its mean area %.3f: want at least 1.5 times and 0.08 more",
			method, inside, area)
	}
	if peaks < 0.45 {
		t.Errorf("%s: the map's peak on the object in %.0f%% of the images, want at least 45%%", method, 100*peaks)
	}
}

// camLearner trains a VGG11-bn at 1/8 width on 96 px Shapes10 (perClass images of each
// class), starting from the given variables (nil: fresh).
func camLearner(t *testing.T, b *backend.Choice, head string, perClass, epochs int, vars map[string]*tensors.Tensor) *Learner {
	t.Helper()
	m := vgg.Default()
	m.Arch, m.BatchNorm, m.Width, m.InputSize, m.Head, m.Dropout = "vgg11", true, 0.125, 96, head, -1
	opts := config.Train{Optimizer: "adam", LearningRate: 2e-3, Schedule: "cosine", Epochs: epochs, BatchSize: 32, Seed: 1,
		LogEvery: 50, CheckpointMinutes: -1, EvalEvery: -1}
	if vars != nil {
		opts.LearningRate = 1e-3 // a trained trunk: a gentler start.
	}
	train := shapesSet(t, "train", perClass)
	l, err := newLearner(b, m, opts, train.Classes)
	if err != nil {
		t.Fatal(err)
	}
	l.Out = io.Discard
	if err := l.SetVariables(vars); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := l.Fit(context.Background(), train, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s head: %d epochs of %d images in %v (%s)", head, epochs, train.Len(), time.Since(start).Round(time.Second), b.Config)
	return l
}

// massOnObjects is the mean, over test images the model classifies right, of the share of
// the map's mass (upsampled to 96x96) inside the object's mask, and of the mask's share
// of the image; and the share of those images whose map peaks on the object.
func massOnObjects(t *testing.T, l *Learner, test *data.Set, masks [][]bool) (inside, area, peaks float64) {
	t.Helper()
	cams, err := l.CAM(test, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, cm := range cams {
		if cm.Pred != int(test.Labels[i]) {
			continue // a map of the wrong class says little about where the object is.
		}
		up := cm.Upsample(test.H, test.W)
		in, a := massInside(up, masks[i])
		inside, area, n = inside+in, area+a, n+1
		if masks[i][argmax(up)] {
			peaks++
		}
	}
	if n < len(cams)/4 {
		t.Fatalf("%s: %d of %d test images right: too few to measure", cams[0].Method, n, len(cams))
	}
	inside, area, peaks = inside/float64(n), area/float64(n), peaks/float64(n)
	t.Logf("%s: %d of %d test images right; mean mass inside the object %.3f, mean object area %.3f; peak on the object in %.0f%%",
		cams[0].Method, n, len(cams), inside, area, 100*peaks)
	return inside, area, peaks
}

// massInside is the share of the map's mass on the mask's pixels, and the mask's share of
// the pixels.
func massInside(m []float32, mask []bool) (inside, area float64) {
	total := 0.0
	for p, v := range m {
		total += float64(v)
		if mask[p] {
			inside += float64(v)
			area++
		}
	}
	area /= float64(len(mask))
	if total == 0 {
		return area, area // no evidence anywhere: as good as uniform.
	}
	return inside / total, area
}
