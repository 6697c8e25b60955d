package training

import (
	"context"
	"io"
	"testing"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/testbackend"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// The end-to-end check: a small VGG learns the embedded Shapes10 set far above chance
// (10%). VGG11-bn at 1/8 width, 32 px, Adam 2e-3 cosine, 3 epochs of 5000 images.
// Measured on 2 cores: 55% test accuracy in 53 s (the 5-epoch demo: 73%). The floor leaves room
// for other machines' numerics.
func TestSmallVGGLearnsShapes10(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about 2 minutes")
	}
	b := testbackend.Choice(t)
	trainSet, testSet := shapesSet(t, "train", 0), shapesSet(t, "test", 0)
	cfg := vgg.Default()
	cfg.Arch, cfg.BatchNorm, cfg.Width, cfg.InputSize = "vgg11", true, 0.125, 32
	opts := config.Train{Optimizer: "adam", LearningRate: 2e-3, Schedule: "cosine", Epochs: 3, BatchSize: 32, Seed: 1, LogEvery: 50}
	l, err := newLearner(b, cfg, opts, trainSet.Classes)
	if err != nil {
		t.Fatal(err)
	}
	l.Out = io.Discard
	if err := l.Fit(context.Background(), trainSet, nil); err != nil {
		t.Fatal(err)
	}
	ev, err := l.Evaluate(testSet)
	if err != nil {
		t.Fatal(err)
	}
	r := ev.Report
	t.Logf("test accuracy %.1f%% after %d steps\n%s", 100*r.Accuracy, l.Step(), r.Table())
	if r.Accuracy < 0.35 {
		t.Errorf("test accuracy %.1f%%, want at least 35%% (chance is 10%%)", 100*r.Accuracy)
	}
	if first, last := l.History.Loss[0], l.History.Loss[len(l.History.Loss)-1]; last >= first {
		t.Errorf("loss did not fall: %g -> %g", first, last)
	}
}
