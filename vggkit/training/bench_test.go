package training

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// BenchmarkVGG16 measures train-step and eval images/s for VGG16 (GAP head, LeakyReLU 0.2,
// Adam) at 32 and 96 px, batch 32, full width and width/4, on the default backend; the
// input is already at the model size, as in bench/torch/vgg_bench.py. Run with
//
//	GOEXPERIMENT=simd go test ./vggkit/training -run '^$' -bench VGG16 -benchtime 5x
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
	const bs = 32
	cfg := vgg.Default()
	cfg.InputSize, cfg.Width = size, width
	opts := benchOptions()
	opts.BatchSize = bs
	l, err := NewLearner(choice, cfg, opts, make([]string, 10))
	if err != nil {
		b.Fatal(err)
	}
	l.Out = io.Discard
	rng := rand.New(rand.NewPCG(1, 2))
	pix := make([]uint8, bs*size*size*3)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	labels := make([]int32, bs)
	for i := range labels {
		labels[i] = int32(rng.IntN(10))
	}
	set := &data.Set{Name: "random", Classes: l.Classes, H: size, W: size, C: 3, Pixels: pix, Labels: labels}
	step := func() {
		if mode == "eval" {
			if _, err := l.Logits(set); err != nil {
				b.Fatal(err)
			}
			return
		}
		l.stepsPerEpoch = 1
		imgs := tensors.FromFlatDataAndDimensions(append([]uint8(nil), pix...), bs, size, size, 3)
		labs := tensors.FromFlatDataAndDimensions(append([]int32(nil), labels...), bs, 1)
		out, err := l.trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{imgs}, Labels: []*tensors.Tensor{labs}})
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range out {
			t.FinalizeAll()
		}
	}
	step() // compile and warm up outside the timer.
	b.ResetTimer()
	times := make([]float64, b.N)
	for i := range b.N {
		t0 := time.Now()
		step()
		times[i] = time.Since(t0).Seconds()
	}
	// The median step, as bench/torch/vgg_bench.py reports: robust to a noisy machine.
	slices.Sort(times)
	b.ReportMetric(float64(bs)/times[len(times)/2], "img/s")
}

func benchOptions() Options {
	return Options{Optimizer: "adam", LearningRate: 1e-4, Schedule: "constant", Epochs: 1, BatchSize: 32, Seed: 1}
}
