package vgg

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Preprocess: 0 -> -1 and 255 -> +1 with mean = std = 0.5, and a resize to the model size.
func TestPreprocessNormalises(t *testing.T) {
	c := Default()
	c.InputSize = 32
	img := tensors.FromShape(shapes.Make(dtypes.Uint8, 1, 64, 64, 3))
	tensors.MustMutableFlatData[uint8](img, func(f []uint8) {
		for i := range f {
			if (i/3)%64 >= 32 { // right half white
				f[i] = 255
			}
		}
	})
	out := model.MustCallOnce(goBackend(t), model.NewStore(), func(scope *model.Scope, x *graph.Node) *graph.Node {
		return Preprocess(scope, c, x)
	}, img)
	if !out.Shape().Equal(shapes.Make(dtypes.Float32, 1, 32, 32, 3)) {
		t.Fatalf("shape %s", out.Shape())
	}
	f := tensors.MustCopyFlatData[float32](out)
	left, right := f[(5*32+2)*3], f[(5*32+29)*3]
	if math.Abs(float64(left+1)) > 1e-5 || math.Abs(float64(right-1)) > 1e-5 {
		t.Errorf("left %g (want -1), right %g (want 1)", left, right)
	}
}

// Augment keeps shapes, changes images, and only ever moves content (no new values).
func TestAugmentShiftsAndFlips(t *testing.T) {
	img := tensors.FromShape(shapes.Make(dtypes.Float32, 8, 16, 16, 3))
	tensors.MustMutableFlatData[float32](img, func(f []float32) {
		for i := range f {
			f[i] = float32(1 + i%7)
		}
	})
	store := model.NewStore()
	out := model.MustCallOnce(goBackend(t), store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return Augment(scope, x)
	}, img)
	if !out.Shape().Equal(img.Shape()) {
		t.Fatalf("shape %s", out.Shape())
	}
	in, got := tensors.MustCopyFlatData[float32](img), tensors.MustCopyFlatData[float32](out)
	changed := 0
	for i := range got {
		if got[i] != 0 && (got[i] < 1 || got[i] > 7) {
			t.Fatalf("value %g at %d is neither padding nor an input value", got[i], i)
		}
		if got[i] != in[i] {
			changed++
		}
	}
	if changed == 0 {
		t.Error("augmentation changed nothing in 8 images")
	}
}

// Grey images (1 channel) go through the model: Preprocess keeps one channel, normalised
// with the luma-weighted sum of 3 mean/std values (0.5 for the defaults), and the first
// convolution's kernel is [3,3,1,C]. It panicked on anything but 3 channels.
func TestGreyImages(t *testing.T) {
	c := Default()
	c.InputSize, c.Width, c.Arch = 32, 0.0625, "vgg11"
	img := tensors.FromShape(shapes.Make(dtypes.Uint8, 2, 28, 28, 1))
	tensors.MustMutableFlatData[uint8](img, func(f []uint8) {
		for i := range f {
			f[i] = 255 * uint8(i%2)
		}
	})
	store := model.NewStore()
	out := model.MustCallOnce(goBackend(t), store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		p := Preprocess(scope, c, x)
		logits, _ := Build(scope.In("model"), c, Ops{}, x)
		return graph.Concatenate([]*graph.Node{graph.Reshape(graph.ReduceMax(graph.Abs(p)), 1), graph.Reshape(graph.ReduceSum(logits), 1)}, 0)
	}, img)
	if got := tensors.MustCopyFlatData[float32](out); math.Abs(float64(got[0])-1) > 1e-5 {
		t.Errorf("grey pixels normalised to at most %g, want 1 (0 -> -1, 255 -> 1)", got[0])
	}
	var first []string
	for v := range store.IterVariables() {
		if v.Name() == "weights" && strings.HasSuffix(v.Scope(), "features/0") {
			first = append(first, v.Shape().String())
		}
	}
	if want := shapes.Make(dtypes.Float32, 3, 3, 1, 4).String(); len(first) != 1 || first[0] != want {
		t.Errorf("first kernel %v, want %s", first, want)
	}
	for _, tc := range []struct {
		mean, std []float64
		channels  int
		want      [2]float64 // first mean and std
		err       bool
	}{
		{[]float64{0.485, 0.456, 0.406}, []float64{0.229, 0.224, 0.225}, 1, [2]float64{0.299*0.485 + 0.587*0.456 + 0.114*0.406, 0.299*0.229 + 0.587*0.224 + 0.114*0.225}, false},
		{[]float64{0.3}, []float64{0.2}, 3, [2]float64{0.3, 0.2}, false},
		{[]float64{0.3}, []float64{0.2}, 1, [2]float64{0.3, 0.2}, false},
		{[]float64{0.1, 0.2}, []float64{0.3, 0.4}, 1, [2]float64{}, true},
		{nil, nil, 4, [2]float64{}, true},
	} {
		m, s, err := ChannelStats(tc.mean, tc.std, tc.channels)
		if tc.err {
			if err == nil {
				t.Errorf("%v/%v for %d channels: no error", tc.mean, tc.std, tc.channels)
			}
			continue
		}
		if err != nil || len(m) != tc.channels || math.Abs(m[0]-tc.want[0]) > 1e-12 || math.Abs(s[0]-tc.want[1]) > 1e-12 {
			t.Errorf("%v/%v for %d channels: %v %v %v, want %v", tc.mean, tc.std, tc.channels, m, s, err, tc.want)
		}
	}
}

// ResizeBilinear gives what GoMLX's Interpolate gives (bilinear, half-pixel centres), up
// and down, square or not, one axis or both.
func TestResizeBilinearMatchesInterpolate(t *testing.T) {
	b := goBackend(t)
	for _, c := range [][4]int{{28, 28, 32, 32}, {96, 96, 32, 32}, {7, 12, 16, 5}, {5, 9, 5, 20}} {
		x := tensors.FromShape(shapes.Make(dtypes.Float32, 2, c[0], c[1], 3))
		tensors.MustMutableFlatData[float32](x, func(f []float32) {
			for i := range f {
				f[i] = float32((i*7919)%255) - 100
			}
		})
		run := func(f func(x *graph.Node) *graph.Node) []float32 {
			return tensors.MustCopyFlatData[float32](graph.MustExecOnce(b, f, x))
		}
		got := run(func(x *graph.Node) *graph.Node { return ResizeBilinear(x, c[2], c[3]) })
		want := run(func(x *graph.Node) *graph.Node {
			return graph.Interpolate(x, 2, c[2], c[3], 3).Bilinear().HalfPixelCenters(true).Done()
		})
		if len(got) != len(want) {
			t.Fatalf("%v: %d values, want %d", c, len(got), len(want))
		}
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-3 {
				t.Fatalf("%v: value %d is %g, want %g", c, i, got[i], want[i])
			}
		}
	}
}
