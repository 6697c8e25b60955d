package training

import (
	"context"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/testbackend"
)

// Data parallel over 4 XLA CPU host devices (VGGKIT_CPU_DEVICES) computes what one device
// does with the whole batch: the same losses, and weights that give the same logits; the
// checkpoint it saves loads on one device.
func TestDataParallelMatchesOneDevice(t *testing.T) {
	t.Setenv(config.EnvCPUDevices, "4")
	b := testbackend.Choice(t)
	if b.Backend.NumDevices() < 2 {
		t.Skipf("backend %s has %d device: data parallel needs several (VGGKIT_TEST_BACKEND=default with the XLA CPU plugin and VGGKIT_CPU_DEVICES=4 has 4)",
			b.Config, b.Backend.NumDevices())
	}
	set := shapesSet(t, "train", 4) // 40 images: 2 steps of 16
	run := func(parallel bool) (*Learner, [][]float32) {
		opts := tinyOptions()
		opts.Epochs, opts.LogEvery, opts.DataParallel = 1, 1, parallel
		l, err := newLearner(b, tinyModel(), opts, set.Classes)
		if err != nil {
			t.Fatal(err)
		}
		l.Out = io.Discard
		if err := l.Fit(context.Background(), set, nil); err != nil {
			t.Fatal(err)
		}
		logits, err := l.Logits(set.Head(8))
		if err != nil {
			t.Fatal(err)
		}
		return l, logits
	}
	one, wantLogits := run(false)
	par, gotLogits := run(true)
	if par.parallel == nil || len(par.parallel.devices) != b.Backend.NumDevices() {
		t.Fatalf("data parallel not set up: %+v", par.parallel)
	}
	if len(one.History.Loss) != 2 || len(par.History.Loss) != 2 {
		t.Fatalf("losses: %v and %v, want 2 each", one.History.Loss, par.History.Loss)
	}
	for i := range one.History.Loss {
		if d := math.Abs(one.History.Loss[i] - par.History.Loss[i]); d > 1e-3*math.Abs(one.History.Loss[i]) {
			t.Errorf("step %d loss: one device %.6f, data parallel %.6f", i+1, one.History.Loss[i], par.History.Loss[i])
		}
	}
	var maxDiff float64
	for i := range wantLogits {
		for j := range wantLogits[i] {
			maxDiff = math.Max(maxDiff, math.Abs(float64(gotLogits[i][j]-wantLogits[i][j])))
		}
	}
	if maxDiff > 1e-3 {
		t.Errorf("logits after training differ by %g between one device and data parallel", maxDiff)
	}
	dir := t.TempDir()
	if err := par.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Load(b, dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := back.Logits(set.Head(8))
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(float64(again[3][2] - gotLogits[3][2])); d > 1e-5 {
		t.Errorf("the data-parallel checkpoint reloads with logits off by %g", d)
	}
}

func TestDataParallelBatchMustDivide(t *testing.T) {
	t.Setenv(config.EnvCPUDevices, "4")
	b := testbackend.Choice(t)
	set := shapesSet(t, "train", 4)
	opts := tinyOptions()
	opts.BatchSize, opts.DataParallel = 6, true
	l, err := newLearner(b, tinyModel(), opts, set.Classes)
	if err != nil {
		t.Fatal(err)
	}
	l.Out = io.Discard
	err = l.Fit(context.Background(), set, nil)
	n := b.Backend.NumDevices()
	switch {
	case n < 2 && (err == nil || !strings.Contains(err.Error(), "needs several devices")):
		t.Errorf("one device: error %v, want it to say data parallel needs several devices", err)
	case n >= 2 && 6%n != 0 && (err == nil || !strings.Contains(err.Error(), "not a multiple")):
		t.Errorf("%d devices, batch 6: error %v, want it to name the batch size", n, err)
	}
}
