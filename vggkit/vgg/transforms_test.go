package vgg

import (
	"math"
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
