package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/benchmark"
	"github.com/vggkit/vggkit/vggkit/config"
)

// runBench times one model/batch/precision on the chosen backend; bench/gpu/run.sh and
// bench/run.sh put it beside the PyTorch reference.
func runBench(args []string, stdout io.Writer) error {
	cfg := config.Default()
	cfg.Train.Optimizer = "adam"
	fs := newFlags("bench", stdout)
	bindModel(fs, &cfg)
	fs.IntVar(&cfg.Train.BatchSize, "batch", 64, "batch size")
	fs.StringVar(&cfg.Train.Optimizer, "optimizer", cfg.Train.Optimizer, "adam or sgd")
	fs.BoolVar(&cfg.Train.DataParallel, "data-parallel", false, "split each batch over all local devices")
	mode := fs.String("mode", "train", "train (forward, backward, optimizer step) or eval (forward only)")
	rounds := fs.Int("rounds", 3, "timed rounds; img/s uses the median of the rounds' median steps")
	steps := fs.Int("steps", 10, "timed steps per round")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table row")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	cfg.Model.Classes = 10
	if err := validate(cfg); err != nil {
		return err
	}
	switch {
	case *mode != "train" && *mode != "eval":
		return fmt.Errorf("%w: -mode %q: want train or eval", errUsage, *mode)
	case *rounds < 1 || *steps < 1:
		return fmt.Errorf("%w: -rounds %d, -steps %d: want 1 or more each", errUsage, *rounds, *steps)
	}
	warnNoSIMD(stdout)
	b, err := backend.New()
	if err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintln(stdout, b)
	}
	cfg.Train.Epochs, cfg.Train.Schedule = 1, "constant"
	r, err := benchmark.Bench(b, cfg, *mode, *rounds, *steps)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	fmt.Fprintf(stdout, "%s %s batch %d %s: first step (compile) %.1fs, %.1f img/s, %.3g TFLOP/s, host RSS %.0f MB",
		r.Model, r.Mode, r.Batch, r.Precision, r.FirstStep, r.ImagesPerSec, r.TFLOPs, r.PeakHostMB)
	if r.DeviceMB > 0 {
		fmt.Fprintf(stdout, ", GPU %.0f MB", r.DeviceMB)
	}
	fmt.Fprintln(stdout)
	return nil
}
