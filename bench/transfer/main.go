// Command transfer measures what pretraining buys on a small new task, offline: a VGG is
// pretrained on five Shapes10 classes, then fine-tuned (trunk frozen for the first epoch,
// then trained at a tenth of the rate) on the other five classes from few images, against
// the same model trained from scratch for the same number of steps. It prints one JSON
// object (the figures notebook 06-transfer and README quote come from such a run).
//
//	GOEXPERIMENT=simd go run ./bench/transfer [-limit 100] [-epochs 10] [-dir /tmp/transfer]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/vggkit/vggkit/vggkit"
	"github.com/vggkit/vggkit/vggkit/config"
)

type result struct {
	Name     string  `json:"name"`
	Images   int     `json:"train_images"`
	Steps    int64   `json:"steps"`
	Accuracy float64 `json:"test_accuracy"`
	Seconds  float64 `json:"seconds"`
}

func main() {
	limit := flag.Int("limit", 100, "images of the new task to train on (balanced: 1/5 per class)")
	epochs := flag.Int("epochs", 10, "epochs on the new task (fine-tuning and from scratch)")
	preEpochs := flag.Int("pretrain-epochs", 5, "epochs of pretraining on the first five classes")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "vggkit-transfer"), "run folders (pretraining is reused)")
	flag.Parse()
	if err := run(*limit, *epochs, *preEpochs, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "transfer:", err)
		os.Exit(1)
	}
}

func run(limit, epochs, preEpochs int, dir string) error {
	classes := config.Demo().Data // Shapes10
	_ = classes
	names := []string{"circle", "square", "triangle", "diamond", "star", "cross", "ring", "horizontal stripes", "vertical stripes", "checkerboard"}
	pre := config.Demo()
	pre.Data.Classes, pre.Train.Epochs = names[:5], preEpochs
	pre.Train.CheckpointMinutes = -1
	preDir := filepath.Join(dir, "pretrained")
	p, err := fit("pretrained on "+fmt.Sprint(names[:5]), pre, preDir)
	if err != nil {
		return err
	}
	task := config.Demo()
	task.Data.Classes, task.Data.Limit, task.Train.Epochs = names[5:], limit, epochs
	task.Train.CheckpointMinutes = -1
	ft := task
	ft.Train.Weights = preDir
	stamp := time.Now().Format("150405")
	f, err := fit("fine-tuned", ft, filepath.Join(dir, "finetuned-"+stamp))
	if err != nil {
		return err
	}
	s, err := fit("from scratch", task, filepath.Join(dir, "scratch-"+stamp))
	if err != nil {
		return err
	}
	out := map[string]any{"pretrain": p, "finetune": f, "scratch": s, "new_task_classes": names[5:],
		"model": task.Model.Name(), "freeze_epochs": 1, "trunk_lr": 0.1}
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Println(string(b))
	return nil
}

func fit(name string, cfg config.Config, dir string) (result, error) {
	t0 := time.Now()
	r, err := vggkit.Open(cfg, dir)
	if err != nil {
		return result{}, err
	}
	r.Learner.Out = io.Discard
	if err := r.Fit(context.Background()); err != nil {
		return result{}, err
	}
	ev, err := r.Evaluate()
	if err != nil {
		return result{}, err
	}
	res := result{Name: name, Images: r.Train.Len(), Steps: r.Learner.Step(), Accuracy: ev.Report.Accuracy,
		Seconds: time.Since(t0).Seconds()}
	fmt.Fprintf(os.Stderr, "%s: %d images, %d steps, test accuracy %.1f%% (%.0f s)\n", name, res.Images, res.Steps,
		100*res.Accuracy, res.Seconds)
	return res, nil
}
