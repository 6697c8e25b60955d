package loader

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkLoader measures the input pipeline alone on STL-10-like data (5000 random
// 96x96x3 uint8 images, batch 64, shuffled, GOMAXPROCS workers): at 224 px with host
// augmentation (resize 224 + random crop with padding 28 + flip, as torchvision's
// Resize(224), RandomCrop(224, padding=28), RandomHorizontalFlip), and the default path
// (96 px uint8 batches; resize and augmentation left to the graph). One op is one batch.
//
//	GOEXPERIMENT=simd go test ./vggkit/loader -run '^$' -bench Loader -benchtime 200x
//
// bench/pipeline/run.sh runs it beside torchvision's DataLoader.
func BenchmarkLoader(b *testing.B) {
	set := randomSet(5000, 96)
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"host224", Options{Size: 224, Crop: true, Flip: true}},
		{"host224/tensors", Options{Size: 224, Crop: true, Flip: true, Tensors: true}},
		{"graph96", Options{}},
		{"graph96/tensors", Options{Tensors: true}},
	} {
		o := c.o
		o.BatchSize, o.Shuffle, o.DropLast, o.Seed = 64, true, true, 1
		l := mustNew(b, set, o)
		b.Run(fmt.Sprintf("%s/batch=64", c.name), func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for batch := range l.Epochs(context.Background(), 0, 1<<20, 0) {
				if n == 0 {
					b.ResetTimer() // the first batch pays for starting the workers.
				}
				if batch.Images != nil {
					batch.Images.FinalizeAll()
					batch.LabelsT.FinalizeAll()
				}
				if n++; n > b.N {
					break
				}
			}
			b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "img/s")
		})
	}
}
