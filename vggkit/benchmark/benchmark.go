// Package benchmark times training steps or evaluation batches of a VGG on random
// images: what `vggkit bench` and bench/run.sh report beside PyTorch.
package benchmark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/loader"
	"github.com/vggkit/vggkit/vggkit/training"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// BenchResult is one benchmark: a model, batch and mode on one backend.
type BenchResult struct {
	Backend   string  `json:"backend"` // e.g. "xla:cuda"
	Device    string  `json:"device"`
	Model     string  `json:"model"`
	Mode      string  `json:"mode"` // "train" (forward, backward, optimizer) or "eval" (forward).
	Batch     int     `json:"batch"`
	Size      int     `json:"size"`
	Precision string  `json:"precision"`
	Optimizer string  `json:"optimizer"`
	FirstStep float64 `json:"first_step_s"` // graph build + XLA compile + first run: the user's wait.
	// StepSeconds is the median step of each timed round; the reported rate uses their median.
	StepSeconds  []float64 `json:"step_s_per_round"`
	ImagesPerSec float64   `json:"images_per_s"`
	GFLOPPerImg  float64   `json:"gflop_per_image"` // 2 x multiply-adds; x3 for a training step.
	TFLOPs       float64   `json:"tflop_per_s"`
	PeakHostMB   float64   `json:"peak_host_rss_mb"`
	DeviceMB     float64   `json:"device_mb,omitempty"` // the process's GPU memory (nvidia-smi), where there is one.
}

// Bench times train steps or evaluation batches of cfg on random uint8 images already at
// the model's size (as the PyTorch reference, bench/torch/vgg_bench.py, does): one step to
// compile and warm up (timed as FirstStep), then rounds x steps timed steps.
func Bench(b *backend.Choice, c config.Config, mode string, rounds, steps int) (*BenchResult, error) {
	if mode != "train" && mode != "eval" {
		return nil, fmt.Errorf("bench mode %q: want train or eval", mode)
	}
	if rounds < 1 || steps < 1 {
		return nil, fmt.Errorf("bench needs rounds >= 1 and steps >= 1, got %d and %d", rounds, steps)
	}
	c = c.Resolve()
	c.Model.Classes = max(2, c.Model.Classes)
	cfg, opts := c.Model, c.Train
	bs, size := opts.BatchSize, cfg.InputSize
	l, err := training.New(b, c, make([]string, cfg.Classes))
	if err != nil {
		return nil, err
	}
	l.Out = io.Discard
	rng := rand.New(rand.NewPCG(1, 2))
	pix := make([]uint8, bs*size*size*3)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	labels := make([]int32, bs)
	for i := range labels {
		labels[i] = int32(rng.IntN(cfg.Classes))
	}
	set := &data.Set{Name: "random", Classes: l.Classes, H: size, W: size, C: 3, Pixels: pix, Labels: labels}
	// The batches come from the loader, as in Fit: built and copied to the device one
	// step ahead by its workers (after the first step: no copy while XLA compiles).
	compiled := make(chan struct{})
	lopts := loader.Options{BatchSize: bs, Tensors: true}
	if !opts.DataParallel && !b.IsGo() { // sharding reads the host copy
		lopts.Device, lopts.DeviceAfter = b.Backend, compiled
	}
	ld, err := loader.New(set, lopts)
	if err != nil {
		return nil, err
	}
	pull, stop := iter.Pull(ld.Epochs(context.Background(), 0, math.MaxInt32, 0))
	defer stop()
	step := func() error {
		batch, ok := pull()
		if !ok {
			return errors.New("bench: the loader stopped")
		}
		if mode == "eval" {
			batch.LabelsT.FinalizeAll()
			_, err := l.Forward(batch.Images) // the logits on the host, as Logits does.
			return err
		}
		_, _, err := l.TrainStep(batch.Images, batch.LabelsT) // waits for the step, as Fit does.
		return err
	}
	sum, err := vgg.Summarize(cfg)
	if err != nil {
		return nil, err
	}
	dev := ""
	if b.Backend.NumDevices() > 0 {
		dev = b.Backend.DeviceDescription(0)
	}
	r := &BenchResult{Backend: b.Config, Device: dev, Model: cfg.Name(), Mode: mode, Batch: bs, Size: size,
		Precision: cfg.Precision, Optimizer: opts.Optimizer,
		GFLOPPerImg: 2 * float64(sum.TotalMACs()) / 1e9}
	if mode == "train" {
		r.GFLOPPerImg *= 3 // backward costs twice the forward.
	}
	t0 := time.Now()
	first := step
	if mode == "eval" {
		first = func() error { _, err := l.Logits(set); return err } // also compiles the forward pass
	}
	if err := first(); err != nil {
		return nil, err
	}
	r.FirstStep = time.Since(t0).Seconds()
	close(compiled)
	if err := step(); err != nil { // a second warm-up: allocators and autotuning settle.
		return nil, err
	}
	for range rounds {
		times := make([]float64, steps)
		for i := range steps {
			t := time.Now()
			if err := step(); err != nil {
				return nil, err
			}
			times[i] = time.Since(t).Seconds()
		}
		r.StepSeconds = append(r.StepSeconds, median(times))
	}
	r.ImagesPerSec = float64(bs) / median(r.StepSeconds)
	r.TFLOPs = r.ImagesPerSec * r.GFLOPPerImg / 1e3
	r.PeakHostMB = peakRSSMB()
	r.DeviceMB = gpuMemoryMB(os.Getpid())
	return r, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// peakRSSMB is the process's peak resident memory (Linux reports ru_maxrss in KiB).
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

// gpuMemoryMB asks nvidia-smi how much GPU memory process pid holds; 0 without a GPU.
func gpuMemoryMB(pid int) float64 {
	if _, err := exec.LookPath("nvidia-smi"); err != nil {
		return 0
	}
	out, err := exec.Command("nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits").Output()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, ",")
		if len(f) == 2 && strings.TrimSpace(f[0]) == strconv.Itoa(pid) {
			mb, _ := strconv.ParseFloat(strings.TrimSpace(f[1]), 64)
			return mb
		}
	}
	return 0
}
