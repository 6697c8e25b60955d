package cpukernels

import (
	"fmt"
	"testing"
)

func BenchmarkLayers(b *testing.B) {
	for _, c := range []struct{ size, widthDiv int }{{32, 1}, {96, 4}} {
		for li, l := range vgg16Layers(c.size, c.widthDiv) {
			b.Run(fmt.Sprintf("%d_%d/L%02d_%dx%d_%d_%d", c.size, c.widthDiv, li, l[0], l[0], l[1], l[2]), func(b *testing.B) {
				n := 32
				x, dy, dw := make([]float32, n*l[0]*l[0]*l[1]), make([]float32, n*l[0]*l[0]*l[2]), make([]float32, 9*l[1]*l[2])
				for b.Loop() {
					KernelGrad(x, dy, dw, n, l[0], l[0], l[1], l[0], l[0], l[2], 3, 1, 1, 0)
				}
				fl := 2.0 * 9 * float64(n*l[0]*l[0]*l[1]*l[2])
				b.ReportMetric(fl/b.Elapsed().Seconds()*float64(b.N)/1e9, "GFLOP/s")
			})
		}
	}
}
