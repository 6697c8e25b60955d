package cpukernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// kernelGradRef is the definition, in float64.
func kernelGradRef(x, dy []float32, n, h, w, c, ho, wo, k, kh, ph, pw int) []float64 {
	dw := make([]float64, kh*3*c*k)
	for b := range n {
		for oy := range ho {
			for ox := range wo {
				for i := range kh {
					for j := range 3 {
						iy, ix := oy+i-ph, ox+j-pw
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							continue
						}
						for ci := range c {
							xv := float64(x[((b*h+iy)*w+ix)*c+ci])
							for ko := range k {
								dw[((i*3+j)*c+ci)*k+ko] += xv * float64(dy[((b*ho+oy)*wo+ox)*k+ko])
							}
						}
					}
				}
			}
		}
	}
	return dw
}

func TestKernelGradMatchesDefinition(t *testing.T) {
	if !Supported() {
		t.Skip("no AVX-512F on this CPU: the XLA backend keeps XLA's own kernel gradient")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct{ n, h, w, c, k, kh, ph, pw, threads int }{
		{3, 7, 9, 5, 16, 3, 1, 1, 0},   // channels below the tile, odd sizes
		{2, 6, 6, 3, 32, 3, 1, 1, 2},   // the first VGG layer's channels, the 32-wide tile
		{4, 5, 8, 19, 48, 3, 1, 1, 3},  // channel remainders in both tiles' directions
		{2, 9, 7, 8, 64, 3, 0, 0, 1},   // no padding
		{2, 4, 4, 12, 32, 1, 0, 1, 0},  // one row tap, padding only across
		{1, 1, 1, 4, 16, 3, 1, 1, 0},   // a 1x1 map: only the centre tap sees data
		{5, 3, 20, 16, 16, 3, 2, 2, 2}, // padding wider than the taps' reach at the edges
	} {
		ho, wo := s.h+2*s.ph-s.kh+1, s.w+2*s.pw-2
		x := make([]float32, s.n*s.h*s.w*s.c)
		dy := make([]float32, s.n*ho*wo*s.k)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		for i := range dy {
			dy[i] = rng.Float32()*2 - 1
		}
		dw := make([]float32, s.kh*3*s.c*s.k)
		for i := range dw {
			dw[i] = float32(math.NaN()) // the kernel must overwrite, not add to, the result
		}
		if err := KernelGrad(x, dy, dw, s.n, s.h, s.w, s.c, ho, wo, s.k, s.kh, s.ph, s.pw, s.threads); err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		want := kernelGradRef(x, dy, s.n, s.h, s.w, s.c, ho, wo, s.k, s.kh, s.ph, s.pw)
		for i := range want {
			if d := math.Abs(float64(dw[i]) - want[i]); !(d <= 1e-4*(1+math.Abs(want[i]))) {
				t.Fatalf("%+v: dw[%d] = %g, want %g", s, i, dw[i], want[i])
			}
		}
	}
}

func TestKernelGradRejectsBadShapes(t *testing.T) {
	if !Supported() {
		t.Skip("no AVX-512F on this CPU")
	}
	x, dy, dw := make([]float32, 2*4*4*3), make([]float32, 2*4*4*8), make([]float32, 9*3*8)
	if err := KernelGrad(x, dy, dw, 2, 4, 4, 3, 4, 4, 8, 3, 1, 1, 0); err == nil {
		t.Fatal("8 output channels (not a multiple of 16) accepted")
	}
	dy, dw = make([]float32, 2*4*4*16), make([]float32, 9*3*16)
	if err := KernelGrad(x, dy, dw, 2, 4, 4, 3, 4, 4, 16, 3, 0, 1, 0); err == nil {
		t.Fatal("padding that does not give the output size accepted")
	}
	if err := KernelGrad(x[:5], dy, dw, 2, 4, 4, 3, 4, 4, 16, 3, 1, 1, 0); err == nil {
		t.Fatal("a short input slice accepted")
	}
}
