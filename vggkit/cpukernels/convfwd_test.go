package cpukernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func convRef(x, w []float32, n, h, wd, c, k, kh, kw, ph, pw int, transposed bool) []float64 {
	ho, wo := h+2*ph-kh+1, wd+2*pw-kw+1
	y := make([]float64, n*ho*wo*k)
	for b := range n {
		for oy := range ho {
			for ox := range wo {
				for i := range kh {
					for j := range kw {
						iy, ix := oy+i-ph, ox+j-pw
						if iy < 0 || iy >= h || ix < 0 || ix >= wd {
							continue
						}
						for ci := range c {
							xv := float64(x[((b*h+iy)*wd+ix)*c+ci])
							for ko := range k {
								wi := ((i*kw+j)*c+ci)*k + ko
								if transposed {
									wi = ((i*kw+j)*k+ko)*c + ci
								}
								y[((b*ho+oy)*wo+ox)*k+ko] += xv * float64(w[wi])
							}
						}
					}
				}
			}
		}
	}
	return y
}

func TestConvForwardMatchesDefinition(t *testing.T) {
	if !Supported() {
		t.Skip("no AVX-512F")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range []struct {
		n, h, w, c, k, kh, kw, ph, pw, threads int
		transposed                             bool
	}{
		{3, 4, 4, 20, 64, 3, 3, 1, 1, 0, false},  // pixels not a multiple of the tile
		{2, 2, 2, 16, 128, 3, 3, 1, 1, 2, true},  // 2x2 maps, transposed kernel
		{1, 5, 7, 3, 64, 3, 3, 0, 0, 3, false},   // no padding, odd sizes
		{2, 8, 8, 32, 64, 3, 1, 1, 0, 1, true},   // a 3x1 kernel
		{1, 1, 1, 8, 64, 3, 3, 1, 1, 0, false},   // 1x1 map: the centre tap only
		{3, 4, 4, 16, 192, 3, 3, 1, 1, 4, true},  // 3 channel blocks for 4 threads: one block each
		{2, 4, 4, 16, 128, 3, 3, 1, 1, 4, false}, // 2 channel blocks x 2 pixel ranges
	} {
		ho, wo := s.h+2*s.ph-s.kh+1, s.w+2*s.pw-s.kw+1
		x, w := make([]float32, s.n*s.h*s.w*s.c), make([]float32, s.kh*s.kw*s.c*s.k)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		for i := range w {
			w[i] = rng.Float32()*2 - 1
		}
		y := make([]float32, s.n*ho*wo*s.k)
		for i := range y {
			y[i] = float32(math.NaN())
		}
		if err := ConvForward(x, w, y, s.n, s.h, s.w, s.c, ho, wo, s.k, s.kh, s.kw, s.ph, s.pw, s.transposed, s.threads); err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		want := convRef(x, w, s.n, s.h, s.w, s.c, s.k, s.kh, s.kw, s.ph, s.pw, s.transposed)
		for i := range want {
			if d := math.Abs(float64(y[i]) - want[i]); !(d <= 1e-4*(1+math.Abs(want[i]))) {
				t.Fatalf("%+v: y[%d] = %g, want %g", s, i, y[i], want[i])
			}
		}
	}
	x, w, y := make([]float32, 2*4*4*8), make([]float32, 9*8*32), make([]float32, 2*4*4*32)
	if err := ConvForward(x, w, y, 2, 4, 4, 8, 4, 4, 32, 3, 3, 1, 1, false, 0); err == nil {
		t.Error("32 output channels (not a multiple of 64) accepted")
	}
}

func BenchmarkConvForwardSmallMaps(b *testing.B) {
	if !Supported() {
		b.Skip("no AVX-512F")
	}
	for _, l := range [][3]int{{32, 64, 64}, {16, 64, 128}, {16, 128, 128}, {8, 128, 256}, {8, 256, 256}, {4, 256, 512}, {4, 512, 512}, {2, 512, 512}, {24, 64, 64}, {12, 128, 128}, {6, 128, 128}} {
		for _, tr := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dx%d_%d_%d_transposed=%v", l[0], l[0], l[1], l[2], tr), func(b *testing.B) {
				n, h, c, k := 32, l[0], l[1], l[2]
				x, w, y := make([]float32, n*h*h*c), make([]float32, 9*c*k), make([]float32, n*h*h*k)
				for b.Loop() {
					if err := ConvForward(x, w, y, n, h, h, c, h, h, k, 3, 3, 1, 1, tr, 0); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
