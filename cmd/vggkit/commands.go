package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/vggkit/vggkit/internal/atomicfile"
	"github.com/vggkit/vggkit/vggkit"
	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/pictures"
	"github.com/vggkit/vggkit/vggkit/report"
	"github.com/vggkit/vggkit/vggkit/training"
	"github.com/vggkit/vggkit/vggkit/vgg"
	"github.com/vggkit/vggkit/vggkit/weights"
)

func runDemo(args []string, stdout io.Writer) error {
	cfg := config.Demo()
	fs := newFlags("demo", stdout)
	out := fs.String("out", "vggkit-demo", "report folder; the checkpoint goes to OUT/checkpoint")
	fs.IntVar(&cfg.Train.Epochs, "epochs", cfg.Train.Epochs, "epochs")
	fs.IntVar(&cfg.Data.Limit, "limit", cfg.Data.Limit, "train on the first N images only (0: all)")
	if err := parseAll(fs, args, &cfg); err != nil {
		return err
	}
	// The demo starts afresh each time; its checkpoint stays for predict and eval.
	ckpt := filepath.Join(*out, "checkpoint")
	if err := os.RemoveAll(ckpt); err != nil {
		return err
	}
	return journey(cfg, ckpt, *out, "vggkit demo", stdout)
}

func runTrain(args []string, stdout io.Writer) error {
	cfg, outDef, ckptDef, err := trainDefaults(args)
	if err != nil {
		return err
	}
	fs := newFlags("train", stdout)
	fs.String("config", "", "a configuration file (JSON, as 'vggkit sweep -plan' writes one per trial): the flags' defaults; the run folder is then the file's folder")
	out := fs.String("out", outDef, "report folder")
	ckpt := fs.String("ckpt", ckptDef, "checkpoint folder: resumed when it holds a checkpoint of the same configuration (empty: none)")
	bindData(fs, &cfg.Data)
	bindModel(fs, &cfg)
	bindTrain(fs, &cfg)
	cpuprofile := fs.String("cpuprofile", "", "write a Go CPU profile of the whole run to this file (go tool pprof; bench/train/README.md)")
	if err := parseAll(fs, args, &cfg); err != nil {
		return err
	}
	if *cpuprofile != "" {
		stopProfile, err := startCPUProfile(*cpuprofile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	return journey(cfg, *ckpt, *out, "vggkit train", stdout)
}

// startCPUProfile starts Go's CPU profiler writing to path; the returned function stops
// it and closes the file.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// parseAll parses the flags, refuses extra arguments, lets the model follow -weights and
// checks the configuration.
func parseAll(fs *flag.FlagSet, args []string, cfg *config.Config) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	weightsDefaults(fs, cfg)
	return validate(*cfg) // the parsed values: a bad one fails before any work.
}

// journey loads data, trains, evaluates and writes the report: what demo and train share.
// Ctrl-C saves a checkpoint and stops (exit 130); running the command again resumes.
func journey(cfg config.Config, ckpt, out, title string, stdout io.Writer) error {
	start := time.Now()
	warnNoSIMD(stdout)
	run, err := vggkit.Open(cfg, ckpt)
	if err != nil {
		return err
	}
	run.Learner.Out = stdout
	fmt.Fprint(stdout, run.Describe())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run.Fit(ctx); err != nil {
		return err
	}
	ev, err := run.Evaluate()
	if err != nil {
		return err
	}
	res := ev.Report
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, res.Table())
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, res.ConfusionTable())
	files, err := report.Write(out, report.Input{Title: title + ": " + run.Train.Name, Config: run.Config, Train: run.Train,
		Test: run.Test, Learner: run.Learner, Result: res, Pred: ev.Pred, Duration: time.Since(start)})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nreport: %s (%d files; open %s)\n", out, len(files), filepath.Join(out, report.IndexHTML))
	fmt.Fprintf(stdout, "dataset %s, test accuracy %.2f%%, %s, wall time %s\n", run.Train.Name, 100*res.Accuracy,
		run.Learner.Backend.Config, time.Since(start).Round(time.Second))
	return nil
}

func runEval(args []string, stdout io.Writer) error {
	fs := newFlags("eval", stdout)
	ckpt := fs.String("ckpt", "vggkit-run/checkpoint", "checkpoint directory or file")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	out := fs.String("out", "", "also write the pictures and metrics.json to this folder")
	dataDir := fs.String("data-dir", "", "where the checkpoint's dataset is now (default: where it was trained from)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q (the dataset and model come from the checkpoint)", errUsage, fs.Args())
	}
	run, err := vggkit.Load(*ckpt, *dataDir)
	if err != nil {
		return err
	}
	ev, err := run.Evaluate()
	if err != nil {
		return err
	}
	res := ev.Report
	if *asJSON {
		js, err := res.JSON()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(js))
	} else {
		fmt.Fprintf(stdout, "model %s (step %d), %s\n", run.Config.Model.Name(), run.Learner.Step(), run.Learner.Backend)
		fmt.Fprint(stdout, res.Table())
		fmt.Fprintln(stdout)
		fmt.Fprint(stdout, res.ConfusionTable())
	}
	if *out != "" {
		if _, err := report.Write(*out, report.Input{Title: "vggkit eval: " + run.Test.Name, Config: run.Config,
			Test: run.Test, Learner: run.Learner, Result: res, Pred: ev.Pred}); err != nil {
			return err
		}
	}
	return nil
}

func runPredict(args []string, stdout io.Writer) error {
	fs := newFlags("predict", stdout)
	ckpt := fs.String("ckpt", "vggkit-run/checkpoint", "checkpoint directory or file")
	topK := fs.Int("top", 5, "how many classes to show per image")
	asJSON := fs.Bool("json", false, "print JSON")
	dataDir := fs.String("data-dir", "", "with -split: where the checkpoint's dataset is now")
	limit := fs.Int("limit", 20, "with -split: the first N images (0: all)")
	split := fs.String("split", "", "predict a split of the checkpoint's dataset instead of image files: train, test, or unlabeled (STL-10's 100,000); -limit N images")
	weightsArg := fs.String("weights", "", "instead of -ckpt: torchvision's ImageNet weights (vgg11..vgg19_bn, or such a .pth/.safetensors file): the 1000 ImageNet classes")
	camOut := fs.String("cam", "", "also write the images with their class activation maps (predicted class) to this PNG")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *weightsArg != "" && *split != "" {
		return fmt.Errorf("%w: -split needs a checkpoint's dataset; -weights has none", errUsage)
	}
	if *split != "" && fs.NArg() > 0 {
		return fmt.Errorf("%w: give image files or -split, not both", errUsage)
	}
	if *split == "" && fs.NArg() == 0 {
		return fmt.Errorf("%w: no images given (JPEG, PNG, GIF, BMP, WebP or TIFF files), and no -split", errUsage)
	}
	switch {
	case *split != "" && !slices.Contains([]string{"train", "test", "unlabeled"}, *split):
		return fmt.Errorf("%w: -split %q: want train, test or unlabeled", errUsage, *split)
	case *topK < 1:
		return fmt.Errorf("%w: -top %d: want 1 or more", errUsage, *topK)
	case *limit < 0:
		return fmt.Errorf("%w: -limit %d: want 0 (all) or more", errUsage, *limit)
	}
	b, err := backend.Shared()
	if err != nil {
		return err
	}
	l, err := predictor(b, *ckpt, *weightsArg)
	if err != nil {
		return err
	}
	var set *data.Set
	names, unread := fs.Args(), error(nil)
	if *split != "" {
		dc := l.Config.Data
		if *dataDir != "" {
			dc.Dir = *dataDir
		}
		if set, err = vggkit.LoadSplit(dc, *split); err != nil {
			return err
		}
		set = set.Head(*limit)
	} else if set, names, unread = readImages(fs.Args(), l, predictCrop(*weightsArg)); set.Len() == 0 {
		return unread
	}
	preds, err := l.Predict(set, *topK)
	if err != nil {
		return err
	}
	if *split != "" {
		for i := range set.Len() {
			names = append(names, fmt.Sprintf("%s #%d", set.Name, i))
		}
	}
	if err := printPredictions(stdout, names, set, preds, *asJSON); err != nil {
		return err
	}
	if *camOut != "" {
		if err := writeCAMs(*camOut, l, set); err != nil {
			return err
		}
	}
	return unread
}

// writeCAMs draws every image of the set with its class activation map for the predicted
// class (CAM on the GAP head, Grad-CAM on the classic one) into a PNG, written whole.
func writeCAMs(path string, l *training.Learner, set *data.Set) error {
	cams, err := l.CAM(set, nil)
	if err != nil {
		return err
	}
	idx := make([]int, set.Len())
	for i := range idx {
		idx[i] = i
	}
	chart, err := pictures.CAMs(set, idx, cams, 4)
	if err != nil {
		return err
	}
	b, err := chart.PNG()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, b); err != nil {
		return fmt.Errorf("-cam %s: %w", path, err)
	}
	return nil
}

// predictor is the model predict runs: a checkpoint's, or torchvision's ImageNet model.
func predictor(b *backend.Choice, ckpt, weightsArg string) (*training.Learner, error) {
	if weightsArg != "" {
		l, err := vggkit.ImageNetModel(weightsArg)
		if errors.Is(err, weights.ErrUnknown) {
			err = fmt.Errorf("%w: %v", errUsage, err)
		}
		return l, err
	}
	if !training.HasCheckpoint(ckpt) {
		return nil, fmt.Errorf("no checkpoint at %s: train first (vggkit train -ckpt %s) or pass -ckpt", ckpt, ckpt)
	}
	return training.Load(b, ckpt)
}

// predictCrop is the share of the shorter side predict keeps: all of it, as the training
// images were stored, or, for ImageNet's weights, torchvision's Resize(256), CenterCrop(224).
func predictCrop(weightsArg string) float64 {
	if weightsArg != "" {
		return data.ImageNetCrop
	}
	return 1
}

// readImages decodes the image files that it can, resized as the model's training
// images were (data.ReadImageCrop: the shorter side resized, its centre crop share cropped,
// the checkpoint's size and channels; the graph then resizes and normalises them as in
// training). It returns them with their names; every file it cannot read is named in the
// error, so one bad file among many costs only its own prediction.
func readImages(paths []string, l *training.Learner, crop float64) (*data.Set, []string, error) {
	h, w, c := l.Images[0], l.Images[1], l.Images[2]
	if h == 0 {
		h, w, c = l.Config.Model.InputSize, l.Config.Model.InputSize, 3
	}
	set := &data.Set{Name: "images", Classes: l.Classes, H: h, W: w, C: c}
	var names []string
	var errs []error
	for _, path := range paths {
		p, err := data.ReadImageCrop(path, h, c, crop)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		set.Pixels = append(set.Pixels, p...)
		set.Labels = append(set.Labels, -1)
		names = append(names, path)
	}
	if len(errs) == 0 {
		return set, names, nil
	}
	return set, names, fmt.Errorf("%d of %d images not read:\n%w", len(errs), len(paths), errors.Join(errs...))
}

func printPredictions(stdout io.Writer, names []string, set *data.Set, preds []training.Prediction, asJSON bool) error {
	if asJSON {
		type item struct {
			Image string               `json:"image"`
			Label string               `json:"label,omitempty"`
			Top   []training.ClassProb `json:"top"`
		}
		var items []item
		for i, p := range preds {
			it := item{Image: names[i], Top: p.Top}
			if set.Labels[i] >= 0 {
				it.Label = set.Classes[set.Labels[i]]
			}
			items = append(items, it)
		}
		js, _ := json.MarshalIndent(items, "", "  ")
		fmt.Fprintln(stdout, string(js))
		return nil
	}
	for i, p := range preds {
		line := names[i]
		if set.Labels[i] >= 0 {
			line += fmt.Sprintf(" (%s)", set.Classes[set.Labels[i]])
		}
		fmt.Fprintf(stdout, "%s:\n", line)
		for _, c := range p.Top {
			fmt.Fprintf(stdout, "  %6.2f%%  %s\n", 100*c.Prob, c.Class)
		}
	}
	return nil
}

func runSummary(args []string, stdout io.Writer) error {
	cfg := config.Default()
	cfg.Model.Classes = 10
	fs := newFlags("summary", stdout)
	bindModel(fs, &cfg)
	fs.IntVar(&cfg.Model.Classes, "classes", cfg.Model.Classes, "number of classes")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := validate(cfg); err != nil {
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
	if fs.NArg() != 1 || !slices.Contains(slices.Concat(data.DownloadNames, weights.Names()), fs.Arg(0)) {
		return fmt.Errorf("%w: say which dataset or pretrained weights: vggkit download %s", errUsage,
			strings.Join(slices.Concat(data.DownloadNames, weights.Names()), "|"))
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	download := data.Download
	if _, ok := weights.Lookup(fs.Arg(0)); ok {
		download = weights.Download
	}
	got, err := download(ctx, fs.Arg(0), *dir, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is in %s\n", fs.Arg(0), got)
	return nil
}
