package data

import (
	"bytes"
	"math"
	"sync"
	"testing"
	"time"
)

// The default splits are generated once and shared by the tests that need them.
var (
	shapesOnce              sync.Once
	shapesTrain, shapesTest *Set
	shapesGenTime           time.Duration
	shapesErr               error
)

func defaultShapes(t *testing.T) (train, test *Set) {
	t.Helper()
	shapesOnce.Do(func() {
		start := time.Now()
		shapesTrain, shapesErr = Shapes10("train", 0)
		if shapesErr == nil {
			shapesTest, shapesErr = Shapes10("test", 0)
		}
		shapesGenTime = time.Since(start)
	})
	if shapesErr != nil {
		t.Fatal(shapesErr)
	}
	return shapesTrain, shapesTest
}

func TestShapes10Defaults(t *testing.T) {
	train, test := defaultShapes(t)
	t.Logf("generated %d + %d images in %v", train.Len(), test.Len(), shapesGenTime)
	for _, c := range []struct {
		s    *Set
		name string
		per  int
	}{{train, "Shapes10 (embedded) train", 500}, {test, "Shapes10 (embedded) test", 100}} {
		if err := c.s.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.s.Name != c.name {
			t.Errorf("Name %q, want %q", c.s.Name, c.name)
		}
		if c.s.H != 96 || c.s.W != 96 || c.s.C != 3 {
			t.Errorf("%s: %dx%dx%d, want 96x96x3", c.name, c.s.H, c.s.W, c.s.C)
		}
		for k, n := range c.s.CountsPerClass() {
			if n != c.per {
				t.Errorf("%s: class %d has %d images, want %d", c.name, k, n, c.per)
			}
		}
		for i := range c.s.Len() {
			if c.s.Labels[i] != int32(i%10) {
				t.Fatalf("%s: label %d = %d, want %d", c.name, i, c.s.Labels[i], i%10)
			}
		}
	}
	if len(train.Classes) != 10 {
		t.Fatalf("%d classes", len(train.Classes))
	}
	seen := map[string]bool{}
	for _, c := range train.Classes {
		if c == "" || seen[c] {
			t.Errorf("class name %q empty or repeated", c)
		}
		seen[c] = true
	}
}

func TestShapes10Deterministic(t *testing.T) {
	a, err := Shapes10("train", 20)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Shapes10("train", 20)
	if !bytes.Equal(a.Pixels, b.Pixels) {
		t.Error("two calls differ")
	}
	// Image i depends only on the seed and i, not on how the work was split:
	// a larger set starts with the same images.
	c, _ := Shapes10("train", 33)
	if !bytes.Equal(a.Pixels, c.Pixels[:len(a.Pixels)]) {
		t.Error("the first 200 images change with the set's size")
	}
	test, _ := Shapes10("test", 20)
	for i := range a.Len() {
		if bytes.Equal(a.Image(i), test.Image(i)) {
			t.Errorf("train and test image %d are equal", i)
		}
	}
	for i := 1; i < a.Len(); i++ {
		if bytes.Equal(a.Image(i), a.Image(i-1)) {
			t.Errorf("train images %d and %d are equal", i-1, i)
		}
	}
	if _, err := Shapes10("validation", 0); err == nil {
		t.Error("no error for an unknown split")
	}
	if names := Shapes10Classes(); len(names) != 10 || names[0] != a.Classes[0] {
		t.Errorf("Shapes10Classes() = %v", names)
	}
}

// Every image has an object that stands out of the background: its pixel
// values span a wide range, in every image.
func TestShapes10Contrast(t *testing.T) {
	train, _ := defaultShapes(t)
	for i := range train.Len() {
		lo, hi := 255, 0
		for _, b := range train.Image(i) {
			lo, hi = min(lo, int(b)), max(hi, int(b))
		}
		if hi-lo < 80 {
			t.Errorf("image %d (class %d): pixels span %d..%d only", i, train.Labels[i], lo, hi)
		}
	}
}

// nearestMean trains a nearest-class-mean classifier on feature(image) over
// train and returns its accuracy on test. Features are computed on the fly, so
// raw pixels as float64 (1.1 GB for the train split) are never all in memory.
func nearestMean(train, test *Set, feature func(img []uint8) []float64) float64 {
	dim := len(feature(train.Image(0)))
	classes := len(train.Classes)
	means := make([][]float64, classes)
	counts := make([]int, classes)
	for k := range means {
		means[k] = make([]float64, dim)
	}
	for i := range train.Len() {
		m := means[train.Labels[i]]
		for j, v := range feature(train.Image(i)) {
			m[j] += v
		}
		counts[train.Labels[i]]++
	}
	for k, m := range means {
		for j := range m {
			m[j] /= float64(counts[k])
		}
	}
	var mu sync.Mutex
	correct := 0
	parallelFor(test.Len(), func(lo, hi int) {
		c := 0
		for i := lo; i < hi; i++ {
			x := feature(test.Image(i))
			best, bestD := -1, math.Inf(1)
			for k, m := range means {
				d := 0.0
				for j, v := range x {
					d += (v - m[j]) * (v - m[j])
				}
				if d < bestD {
					best, bestD = k, d
				}
			}
			if int32(best) == test.Labels[i] {
				c++
			}
		}
		mu.Lock()
		correct += c
		mu.Unlock()
	})
	return float64(correct) / float64(test.Len())
}

func rawPixels(img []uint8) []float64 {
	x := make([]float64, len(img))
	for i, b := range img {
		x[i] = float64(b)
	}
	return x
}

func meanColour(img []uint8) []float64 {
	x := make([]float64, 3)
	for i, b := range img {
		x[i%3] += float64(b)
	}
	for c := range x {
		x[c] /= float64(len(img) / 3)
	}
	return x
}

// orientationHistogram is a global histogram of gradient orientations (8 bins
// over 180 degrees, weighted by gradient magnitude, normalised): a
// shift-invariant shape feature that raw-pixel templates lack.
func orientationHistogram(img []uint8) []float64 {
	const n = 96
	lum := func(y, x int) float64 {
		o := (y*n + x) * 3
		return float64(img[o]) + float64(img[o+1]) + float64(img[o+2])
	}
	h := make([]float64, 8)
	total := 0.0
	for y := 1; y < n-1; y++ {
		for x := 1; x < n-1; x++ {
			gx, gy := lum(y, x+1)-lum(y, x-1), lum(y+1, x)-lum(y-1, x)
			m := math.Hypot(gx, gy)
			if m < 60 { // Below the pixel noise.
				continue
			}
			a := math.Atan2(gy, gx)
			if a < 0 {
				a += math.Pi
			}
			h[min(int(a/math.Pi*8), 7)] += m
			total += m
		}
	}
	for i := range h {
		h[i] /= total + 1e-9
	}
	return h
}

// The class must not be given away by colour, brightness or position: a
// nearest-class-mean classifier on raw pixels (which would pick up any class
// difference in mean colour, brightness or where the object sits) stays near
// chance (10%). A shift-invariant shape feature does much better, so the class
// is in the images; it is in their shape.
func TestShapes10NotLinearlyEasy(t *testing.T) {
	train, test := defaultShapes(t)
	raw := nearestMean(train, test, rawPixels)
	colour := nearestMean(train, test, meanColour)
	shape := nearestMean(train, test, orientationHistogram)
	t.Logf("nearest class mean accuracy on test: raw pixels %.1f%%, mean colour %.1f%%, orientation histogram %.1f%% (chance 10%%)",
		100*raw, 100*colour, 100*shape)
	if raw >= 0.45 {
		t.Errorf("nearest class mean on raw pixels scores %.1f%%: the class shows in mean colour, brightness or position", 100*raw)
	}
	if colour >= 0.25 {
		t.Errorf("nearest class mean on the mean colour scores %.1f%%: colour gives the class away", 100*colour)
	}
	if shape < 2*raw || shape < 0.35 {
		t.Errorf("an orientation histogram scores only %.1f%% (raw pixels %.1f%%): the shapes do not tell the classes apart", 100*shape, 100*raw)
	}
}

// imageStats are the statistics that must not depend on the class: the mean
// of each channel, and the centroid of the object, taken as the pixels far
// from the image's median colour (the background covers most of the image).
func imageStats(img []uint8) []float64 {
	var hist [3][256]int
	var sum [3]float64
	for i, b := range img {
		hist[i%3][b]++
		sum[i%3] += float64(b)
	}
	n := len(img) / 3
	var med [3]int
	for c := range 3 {
		acc := 0
		for v, k := range hist[c] {
			if acc += k; acc > n/2 {
				med[c] = v
				break
			}
		}
	}
	var cx, cy, w float64
	for p := range n {
		d := 0
		for c := range 3 {
			d += max(int(img[3*p+c])-med[c], med[c]-int(img[3*p+c]))
		}
		if d > 60 {
			cx += float64(p % 96)
			cy += float64(p / 96)
			w++
		}
	}
	if w == 0 {
		cx, cy, w = 47.5, 47.5, 1
	}
	return []float64{sum[0] / float64(n), sum[1] / float64(n), sum[2] / float64(n), cx / w, cy / w}
}

// The class means of colour and of object position agree within sampling
// noise: for each statistic, the range of the 10 class means is under 5
// standard errors (10 draws of pure noise span about 3, rarely 5). This is more
// sensitive than the nearest-class-mean test: a foreground colour or a position
// that shifts with the class by a few percent fails it.
func TestShapes10ColourAndPositionCarryNoClass(t *testing.T) {
	train, _ := defaultShapes(t)
	names := []string{"mean R", "mean G", "mean B", "object centre x", "object centre y"}
	stats := make([][]float64, train.Len())
	parallelFor(train.Len(), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			stats[i] = imageStats(train.Image(i))
		}
	})
	for j, name := range names {
		var sum, sum2 [10]float64
		var count [10]float64
		for i, st := range stats {
			k := train.Labels[i]
			sum[k] += st[j]
			sum2[k] += st[j] * st[j]
			count[k]++
		}
		var within float64 // pooled within-class variance.
		lo, hi := math.Inf(1), math.Inf(-1)
		for k := range 10 {
			m := sum[k] / count[k]
			within += sum2[k] - count[k]*m*m
			lo, hi = min(lo, m), max(hi, m)
		}
		within /= float64(len(stats) - 10)
		se := math.Sqrt(within / count[0])
		t.Logf("%s: class means span %.2f..%.2f = %.1f standard errors", name, lo, hi, (hi-lo)/se)
		if (hi-lo)/se > 5 {
			t.Errorf("%s depends on the class: class means span %.2f..%.2f, %.1f standard errors", name, lo, hi, (hi-lo)/se)
		}
	}
}

// Horizontal stripes have mostly vertical gradients and vertical stripes
// horizontal ones: checks that the two classes are drawn the right way round.
func TestShapes10StripeOrientation(t *testing.T) {
	train, _ := defaultShapes(t)
	var hBins, vBins [8]float64
	for i := range train.Len() {
		var dst *[8]float64
		switch train.Classes[train.Labels[i]] {
		case "horizontal stripes":
			dst = &hBins
		case "vertical stripes":
			dst = &vBins
		default:
			continue
		}
		for b, v := range orientationHistogram(train.Image(i)) {
			dst[b] += v
		}
	}
	// Bins 0 and 7 hold gradients near 0 deg (along x: vertical edges), bins 3
	// and 4 gradients near 90 deg (along y: horizontal edges).
	if hBins[3]+hBins[4] < 3*(hBins[0]+hBins[7]) {
		t.Errorf("horizontal stripes: gradient histogram %.0f, want mostly near 90 deg", hBins)
	}
	if vBins[0]+vBins[7] < 3*(vBins[3]+vBins[4]) {
		t.Errorf("vertical stripes: gradient histogram %.0f, want mostly near 0 deg", vBins)
	}
}

// BenchmarkShapes10 generates the default train and test splits (6000 images).
func BenchmarkShapes10(b *testing.B) {
	for b.Loop() {
		if _, err := Shapes10("train", 0); err != nil {
			b.Fatal(err)
		}
		if _, err := Shapes10("test", 0); err != nil {
			b.Fatal(err)
		}
	}
}
