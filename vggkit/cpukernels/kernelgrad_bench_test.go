package cpukernels

import (
	"fmt"
	"testing"
)

// vgg16Layers gives (map side, in channels, out channels) of VGG16's convolutions.
func vgg16Layers(size, widthDiv int) [][3]int {
	cfg := []int{64, 64, -1, 128, 128, -1, 256, 256, 256, -1, 512, 512, 512, -1, 512, 512, 512}
	var layers [][3]int
	in := 3
	for _, v := range cfg {
		if v < 0 {
			size /= 2
			continue
		}
		layers = append(layers, [3]int{size, in, v / widthDiv})
		in = v / widthDiv
	}
	return layers
}

// BenchmarkKernelGradVGG16 times the kernel gradients of all 13 convolutions of a VGG16
// training step, batch 32 (compare bench/convops, which times XLA's and PyTorch's).
func BenchmarkKernelGradVGG16(b *testing.B) {
	if !Supported() {
		b.Skip("no AVX-512F")
	}
	for _, c := range []struct{ size, widthDiv int }{{96, 4}, {32, 1}, {96, 1}, {32, 4}} {
		b.Run(fmt.Sprintf("size=%d/width=1of%d", c.size, c.widthDiv), func(b *testing.B) {
			const n = 32
			type buf struct{ x, dy, dw []float32 }
			layers := vgg16Layers(c.size, c.widthDiv)
			bufs := make([]buf, len(layers))
			for i, l := range layers {
				bufs[i] = buf{make([]float32, n*l[0]*l[0]*l[1]), make([]float32, n*l[0]*l[0]*l[2]), make([]float32, 9*l[1]*l[2])}
				for j := range bufs[i].x {
					bufs[i].x[j] = float32(j%7) * 0.1
				}
				for j := range bufs[i].dy {
					bufs[i].dy[j] = float32(j%5) * 0.1
				}
			}
			for b.Loop() {
				for i, l := range layers {
					if err := KernelGrad(bufs[i].x, bufs[i].dy, bufs[i].dw, n, l[0], l[0], l[1], l[0], l[0], l[2], 3, 1, 1, 0); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
