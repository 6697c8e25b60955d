package main

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/vggkit/vggkit/vggkit/backend"
)

// The timed alternatives must compute the same kernel gradient as the autodiff one, or the
// comparison in README.md would be between different things. 2x2 maps take the im2col
// path of conv, 4x4 maps XLA's (or the backend's) convolution.
func TestWgradFormsAgree(t *testing.T) {
	b, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, hw := range []int{2, 4} {
		x, k, v := randT(2, hw, hw, 3), randT(3, 3, 3, 5), randT(2, hw, hw, 5)
		want := tensors.MustCopyFlatData[float32](MustNewExec(b.Backend, wgradForms["conv"]).MustExec(x, k, v)[0])
		for name, fn := range wgradForms {
			if name == "conv" || name == "cols-only" {
				continue
			}
			got := tensors.MustCopyFlatData[float32](MustNewExec(b.Backend, fn).MustExec(x, k, v)[0])
			if d := maxDiff(got, want); d > 1e-4 {
				t.Errorf("%dx%d maps: wgrad form %q differs from autodiff by %g", hw, hw, name, d)
			}
		}
	}
}

// cols-only is the im2col matrix: its centre tap (dy=dx=1) is x itself.
func TestColsOnlyCentreTap(t *testing.T) {
	b, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	x := randT(1, 3, 3, 2)
	cols := MustNewExec(b.Backend, wgradForms["cols-only"]).MustExec(x, randT(3, 3, 2, 1), randT(1, 3, 3, 1))[0]
	c := cols.Value().([][]float32) // [9 pixels, 9 taps * 2 channels]
	xs := tensors.MustCopyFlatData[float32](x)
	for p := range 9 {
		for ch := range 2 {
			if got, want := c[p][4*2+ch], xs[p*2+ch]; got != want {
				t.Fatalf("pixel %d channel %d: centre tap %g, want %g", p, ch, got, want)
			}
		}
	}
}

func maxDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}
