package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vggkit/vggkit/vggkit"
	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/metrics"
	"github.com/vggkit/vggkit/vggkit/report"
	"github.com/vggkit/vggkit/vggkit/training"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

func runDemo(args []string, stdout io.Writer) error {
	cfg := vggkit.DemoConfig()
	cfg.Train.CheckpointDir = ""
	fs := newFlags("demo", stdout)
	out := fs.String("out", "vggkit-demo", "report folder")
	fs.IntVar(&cfg.Train.Epochs, "epochs", cfg.Train.Epochs, "epochs")
	fs.IntVar(&cfg.Data.Limit, "limit", cfg.Data.Limit, "train on the first N images only (0: all)")
	fs.StringVar(&cfg.Train.CheckpointDir, "ckpt", "", "checkpoint directory (empty: none; the demo starts fresh)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	return journey(cfg, *out, "vggkit demo", stdout)
}

func runTrain(args []string, stdout io.Writer) error {
	cfg := vggkit.Defaults()
	cfg.Train.CheckpointDir = "vggkit-run/checkpoint"
	fs := newFlags("train", stdout)
	out := fs.String("out", "vggkit-run", "report folder")
	bindData(fs, &cfg.Data)
	bindModel(fs, &cfg)
	bindTrain(fs, &cfg)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	return journey(cfg, *out, "vggkit train", stdout)
}

// journey loads data, trains, evaluates and writes the report: what demo and train share.
func journey(cfg vggkit.Config, out, title string, stdout io.Writer) error {
	start := time.Now()
	warnNoSIMD(stdout)
	trainSet, testSet, err := vggkit.LoadData(cfg.Data)
	if err != nil {
		return err
	}
	l, err := vggkit.NewLearner(cfg, trainSet)
	if err != nil {
		return err
	}
	l.Out = stdout
	fmt.Fprint(stdout, vggkit.Describe(l, trainSet, testSet))
	if cfg.Train.CheckpointDir != "" {
		fmt.Fprintf(stdout, "checkpoints: %s\n", cfg.Train.CheckpointDir)
	}
	// Ctrl-C stops the process; the last periodic or epoch checkpoint is the resume point.
	stopSignals := make(chan os.Signal, 1)
	signal.Notify(stopSignals, os.Interrupt)
	defer signal.Stop(stopSignals)
	go func() {
		<-stopSignals
		fmt.Fprintf(os.Stderr, "\ninterrupted: resume with the same command (last checkpoint: %s)\n", cfg.Train.CheckpointDir)
		os.Exit(130)
	}()
	if err := l.Fit(trainSet, testSet); err != nil {
		return err
	}
	logits, err := l.Logits(testSet)
	if err != nil {
		return err
	}
	pred := metrics.ArgMax(logits)
	res, err := metrics.Compute(testSet.Name, l.Classes, testSet.Labels, pred)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, res.Table())
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, res.ConfusionTable())
	files, err := report.Write(out, report.Input{Title: title + ": " + trainSet.Name, Config: cfg, Train: trainSet,
		Test: testSet, Learner: l, Result: res, Pred: pred, Duration: time.Since(start)})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nreport: %s (%d files; open %s)\n", out, len(files), filepath.Join(out, report.IndexHTML))
	fmt.Fprintf(stdout, "dataset %s, test accuracy %.2f%%, %s, wall time %s\n", trainSet.Name, 100*res.Accuracy,
		l.Backend.Config, time.Since(start).Round(time.Second))
	return nil
}

func runEval(args []string, stdout io.Writer) error {
	cfg := vggkit.Defaults()
	fs := newFlags("eval", stdout)
	ckpt := fs.String("ckpt", "vggkit-run/checkpoint", "checkpoint directory or file")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	out := fs.String("out", "", "also write the pictures and metrics.json to this folder")
	bindData(fs, &cfg.Data)
	if err := parse(fs, args); err != nil {
		return err
	}
	l, err := loadLearner(*ckpt)
	if err != nil {
		return err
	}
	_, testSet, err := vggkit.LoadData(cfg.Data)
	if err != nil {
		return err
	}
	if len(testSet.Classes) != len(l.Classes) {
		return fmt.Errorf("checkpoint %s has %d classes, %s has %d", *ckpt, len(l.Classes), testSet.Name, len(testSet.Classes))
	}
	res, err := l.Evaluate(testSet)
	if err != nil {
		return err
	}
	if *asJSON {
		js, err := res.JSON()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(js))
	} else {
		fmt.Fprintf(stdout, "model %s (step %d), %s\n", l.Model.Name(), l.Step(), l.Backend)
		fmt.Fprint(stdout, res.Table())
		fmt.Fprintln(stdout)
		fmt.Fprint(stdout, res.ConfusionTable())
	}
	if *out != "" {
		if _, err := report.Write(*out, report.Input{Title: "vggkit eval: " + testSet.Name, Config: cfg, Learner: l, Result: res}); err != nil {
			return err
		}
	}
	return nil
}

// requireCheckpoint says how to get a checkpoint where there is none.
func requireCheckpoint(ckpt string) error {
	if !training.HasCheckpoint(ckpt) {
		return fmt.Errorf("no checkpoint at %s: train first (vggkit train -ckpt %s) or pass -ckpt", ckpt, ckpt)
	}
	return nil
}

func loadLearner(ckpt string) (*training.Learner, error) {
	if err := requireCheckpoint(ckpt); err != nil {
		return nil, err
	}
	b, err := backend.New()
	if err != nil {
		return nil, err
	}
	l, err := training.LoadLearner(b, ckpt)
	if err != nil {
		return nil, err
	}
	l.Out = io.Discard
	return l, nil
}

func runPredict(args []string, stdout io.Writer) error {
	fs := newFlags("predict", stdout)
	ckpt := fs.String("ckpt", "vggkit-run/checkpoint", "checkpoint directory or file")
	topK := fs.Int("top", 5, "how many classes to show per image")
	asJSON := fs.Bool("json", false, "print JSON")
	dc := vggkit.Defaults().Data
	bindData(fs, &dc)
	split := fs.String("split", "", "predict a dataset split instead of image files: train, test, or unlabeled (STL-10's 100,000); -limit N images")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *split != "" {
		if fs.NArg() > 0 {
			return fmt.Errorf("%w: give image files or -split, not both", errUsage)
		}
		return predictSplit(*ckpt, dc, *split, *topK, *asJSON, stdout)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: no images given (JPEG, PNG, GIF, BMP, WebP or TIFF files), and no -split", errUsage)
	}
	// Decode every image first: a bad file fails before any work.
	if err := requireCheckpoint(*ckpt); err != nil {
		return err
	}
	meta, err := training.ReadMeta(*ckpt)
	if err != nil {
		return err
	}
	size := meta.Model.InputSize
	var pixels [][]uint8
	for _, path := range fs.Args() {
		// The decoder training images go through: shorter side to size, centre crop.
		p, err := data.ReadImage(path, size, 3)
		if err != nil {
			return err
		}
		pixels = append(pixels, p)
	}
	l, err := loadLearner(*ckpt)
	if err != nil {
		return err
	}
	set := &data.Set{Name: "images", Classes: l.Classes, H: size, W: size, C: 3}
	for _, p := range pixels {
		set.Pixels = append(set.Pixels, p...)
		set.Labels = append(set.Labels, -1)
	}
	preds, err := l.Predict(set, *topK)
	if err != nil {
		return err
	}
	if *asJSON {
		type item struct {
			Image string               `json:"image"`
			Top   []training.ClassProb `json:"top"`
		}
		var items []item
		for i, p := range preds {
			items = append(items, item{fs.Arg(i), p.Top})
		}
		js, _ := json.MarshalIndent(items, "", "  ")
		fmt.Fprintln(stdout, string(js))
		return nil
	}
	for i, p := range preds {
		fmt.Fprintf(stdout, "%s:\n", fs.Arg(i))
		for _, c := range p.Top {
			fmt.Fprintf(stdout, "  %6.2f%%  %s\n", 100*c.Prob, c.Class)
		}
	}
	return nil
}

func runSummary(args []string, stdout io.Writer) error {
	cfg := vggkit.Defaults()
	fs := newFlags("summary", stdout)
	bindModel(fs, &cfg)
	fs.IntVar(&cfg.Model.Classes, "classes", cfg.Model.Classes, "number of classes")
	if err := parse(fs, args); err != nil {
		return err
	}
	s, err := vgg.Summarize(cfg.Model)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	fmt.Fprint(stdout, s)
	return nil
}

func runDownload(args []string, stdout io.Writer) error {
	fs := newFlags("download", stdout)
	dir := fs.String("dir", data.DefaultCacheDir(), "cache directory ($VGGKIT_CACHE overrides the default)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || !slices.Contains(data.DownloadNames, fs.Arg(0)) {
		return fmt.Errorf("%w: say which dataset: vggkit download %s", errUsage, strings.Join(data.DownloadNames, "|"))
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	got, err := data.Download(ctx, fs.Arg(0), *dir, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is in %s\n", fs.Arg(0), got)
	return nil
}

// predictSplit prints the top classes for the first -limit images of a dataset split
// (STL-10's unlabeled images are what this is for: a model's guesses on data it never saw).
func predictSplit(ckpt string, dc vggkit.DataConfig, split string, topK int, asJSON bool, stdout io.Writer) error {
	if err := requireCheckpoint(ckpt); err != nil {
		return err
	}
	set, err := vggkit.LoadSplit(dc, split)
	if err != nil {
		return err
	}
	if dc.Limit <= 0 {
		dc.Limit = 20 // the unlabeled split alone is 100,000 images.
	}
	set = set.Head(dc.Limit)
	l, err := loadLearner(ckpt)
	if err != nil {
		return err
	}
	preds, err := l.Predict(set, topK)
	if err != nil {
		return err
	}
	if asJSON {
		js, _ := json.MarshalIndent(preds, "", "  ")
		fmt.Fprintln(stdout, string(js))
		return nil
	}
	fmt.Fprintf(stdout, "%s, first %d images:\n", set.Name, set.Len())
	for i, p := range preds {
		line := fmt.Sprintf("%5d", i)
		if set.Labels[i] >= 0 {
			line += fmt.Sprintf(" (%s)", set.Classes[set.Labels[i]])
		}
		for _, c := range p.Top {
			line += fmt.Sprintf("  %s %.1f%%", c.Class, 100*c.Prob)
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}
