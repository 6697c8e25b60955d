// Command transfer measures what pretraining buys on a small new task, offline, with the
// runs of vggkit.Transfer (notebook 06-transfer's): a VGG pretrained on five Shapes10
// classes, fine-tuned on the other five from 20 images each (its trunk at the head's rate,
// and at a tenth of it), against the same model trained from scratch for the same steps.
// It prints one JSON object.
//
//	GOEXPERIMENT=simd go run ./bench/transfer [-dir /tmp/vggkit-transfer]
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
	Run      string  `json:"run"`
	Images   int     `json:"train_images"`
	Steps    int64   `json:"steps"`
	Accuracy float64 `json:"test_accuracy"`
	Seconds  float64 `json:"seconds"`
}

func main() {
	dir := flag.String("dir", filepath.Join(os.TempDir(), "vggkit-transfer"), "working folder: runs/ is made there (a finished run is reused)")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "transfer:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Chdir(dir); err != nil { // the fine-tuning run names the pretrained one by its relative folder.
		return err
	}
	pre, ft, scratch := vggkit.Transfer()
	tenth := ft // ImageNet practice: the trunk at a tenth of the rate (the stand-in's trunk needs more)
	tenth.Train.TrunkLR = 0.1
	out := map[string]any{}
	for _, r := range []struct {
		name string
		cfg  config.Config
	}{{"pretrain", pre}, {"finetune", ft}, {"finetune_trunk_lr_0.1", tenth}, {"scratch", scratch}} {
		dir := vggkit.RunDir(r.cfg)
		if r.cfg.Train.TrunkLR == 0.1 {
			dir += "-trunk0.1"
		}
		res, err := fit(r.cfg, dir)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		out[r.name] = res
	}
	out["model"], out["new_task_classes"] = ft.Model.Name(), ft.Data.Classes
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Println(string(b))
	return nil
}

func fit(cfg config.Config, dir string) (result, error) {
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
	res := result{Run: dir, Images: r.Train.Len(), Steps: r.Learner.Step(), Accuracy: ev.Report.Accuracy,
		Seconds: time.Since(t0).Seconds()}
	fmt.Fprintf(os.Stderr, "%s: %d images, %d steps, test accuracy %.1f%% (%.0f s)\n", dir, res.Images, res.Steps,
		100*res.Accuracy, res.Seconds)
	return res, nil
}
