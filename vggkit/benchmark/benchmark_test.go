package benchmark

import (
	"fmt"
	"testing"

	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// BenchmarkVGG16 measures train-step and eval images/s for VGG16 (GAP head, LeakyReLU 0.2,
// Adam) at 32 and 96 px, batch 32, full width and width/4, on the default backend; the
// input is already at the model size, as in bench/torch/vgg_bench.py. Run with
//
//	GOEXPERIMENT=simd go test ./vggkit/benchmark -run '^$' -bench VGG16 -benchtime 5x
//
// (bench/run.sh runs it beside the PyTorch reference.)
func BenchmarkVGG16(b *testing.B) {
	choice, err := backend.New()
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{32, 96} {
		for _, width := range []float64{1, 0.25} {
			for _, mode := range []string{"train", "eval"} {
				name := fmt.Sprintf("%s/size=%d/width=%g/batch=32", mode, size, width)
				b.Run(name, func(b *testing.B) { benchStep(b, choice, size, width, mode) })
			}
		}
	}
}

func benchStep(b *testing.B, choice *backend.Choice, size int, width float64, mode string) {
	cfg := config.Config{Model: vgg.Default(), Train: config.Train{Schedule: "constant", Epochs: 1}}
	cfg.Model.InputSize, cfg.Model.Width = size, width
	b.StopTimer() // the compile is not part of ns/op; img/s is the median step.
	r, err := Bench(choice, cfg, mode, 1, b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.ImagesPerSec, "img/s")
}
