// Package vggkit is the one-call API over the VGG toolkit: a Run holds a whole
// configuration, its data, the backend and the learner, and the steps of the journey
// hang off it.
//
//	run, _ := vggkit.Open(config.Demo(), "runs/demo") // resumes when runs/demo holds a checkpoint
//	_ = run.Fit(ctx)
//	ev, _ := run.Evaluate()
//	fmt.Print(ev.Report.Table())
package vggkit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vggkit/vggkit/internal/atomicfile"
	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/training"
)

// Run is one training run: its configuration, data, and learner, in a run folder.
type Run struct {
	Config  config.Config // resolved, as saved in the checkpoint.
	Dir     string        // the run folder (checkpoint); "" keeps nothing on disk.
	Train   *data.Set
	Test    *data.Set
	Learner *training.Learner
}

// Open checks cfg, loads its data, and builds the learner on the process's backend. When
// dir holds a checkpoint, the run resumes it: a configuration that differs in more than
// config.Resumable is refused, naming the fields.
func Open(cfg config.Config, dir string) (*Run, error) {
	cfg = cfg.Resolve()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Data.Name = data.Resolve(cfg.Data.Name, cfg.Data.Dir) // the checkpoint names the dataset that ran.
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	train, test, err := LoadData(cfg.Data)
	if err != nil {
		return nil, err
	}
	b, err := backend.Shared()
	if err != nil {
		return nil, err
	}
	var l *training.Learner
	if dir != "" && training.HasCheckpoint(dir) {
		l, err = training.Resume(b, cfg, dir)
	} else {
		l, err = training.New(b, cfg, train.Classes)
	}
	if err != nil {
		return nil, err
	}
	l.Dir, l.Dataset, l.Images = dir, train.Name, [3]int{train.H, train.W, train.C}
	return &Run{Config: l.Config, Dir: dir, Train: train, Test: test, Learner: l}, nil
}

// Load opens the run saved in a checkpoint (a folder or the file) with the data and model
// configuration it was trained with; dataDir, if not "", says where the data is now.
func Load(checkpoint, dataDir string) (*Run, error) {
	if !training.HasCheckpoint(checkpoint) {
		return nil, fmt.Errorf("no checkpoint at %s: train first (vggkit train -ckpt %s)", checkpoint, checkpoint)
	}
	b, err := backend.Shared()
	if err != nil {
		return nil, err
	}
	l, err := training.Load(b, checkpoint)
	if err != nil {
		return nil, err
	}
	cfg := l.Config
	if dataDir != "" {
		cfg.Data.Dir = dataDir
	}
	test, err := LoadSplit(cfg.Data, "test")
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s was trained on %s: %w", checkpoint, l.Dataset, err)
	}
	if len(test.Classes) != len(l.Classes) {
		return nil, fmt.Errorf("checkpoint %s has %d classes, %s has %d", checkpoint, len(l.Classes), test.Name, len(test.Classes))
	}
	return &Run{Config: cfg, Test: test, Learner: l}, nil
}

// checkDir refuses a run folder that is a file, before any work.
func checkDir(dir string) error {
	if dir == "" {
		return nil
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("run folder %s is a file: give a folder for the checkpoint", dir)
	}
	return nil
}

// Fit trains the run to Config.Train.Epochs epochs (the learner's hooks and extra ones).
func (r *Run) Fit(ctx context.Context, extra ...training.Hook) error {
	return r.Learner.Fit(ctx, r.Train, r.Test, extra...)
}

// Trained tells whether every configured epoch is done (Fit would have nothing to do).
func (r *Run) Trained() bool {
	l, steps := r.Learner, r.Train.Len()/max(1, r.Config.Train.BatchSize)
	return l.History.Current == nil && l.Step() >= int64(r.Config.Train.Epochs*steps)
}

// Evaluate evaluates the model on the whole test split. In a run folder the result is
// kept (evaluation.json, for this step and test set), so the cells of a notebook, each
// a new program, share one pass over the test images.
func (r *Run) Evaluate() (*training.Eval, error) {
	key := fmt.Sprintf("%s, %d images, step %d", r.Test.Name, r.Test.Len(), r.Learner.Step())
	path := filepath.Join(r.Dir, "evaluation.json")
	type kept struct {
		Key  string         `json:"key"`
		Eval *training.Eval `json:"eval"`
	}
	if r.Dir != "" {
		var k kept
		if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &k) == nil && k.Key == key && k.Eval != nil {
			return k.Eval, nil
		}
	}
	ev, err := r.Learner.Evaluate(r.Test)
	if err != nil || r.Dir == "" {
		return ev, err
	}
	b, err := json.Marshal(kept{key, ev})
	if err == nil {
		err = atomicfile.Write(path, b)
	}
	return ev, err
}

// Describe is a few lines saying what will run: dataset, model, backend and why.
func (r *Run) Describe() string {
	l, t := r.Learner, r.Config.Train
	s := ""
	if r.Train != nil {
		s += fmt.Sprintf("dataset: %s\n         %s\n", r.Train.Describe(), r.Test.Describe())
	}
	s += fmt.Sprintf("model:   %s, %d classes, augmentation %s\n", r.Config.Model.Name(), r.Config.Model.Classes, r.Config.Model.Augment)
	s += fmt.Sprintf("train:   %s lr %g (%s), batch %d, %d epochs, seed %d\n", t.Optimizer, t.LearningRate,
		t.Schedule, t.BatchSize, t.Epochs, t.Seed)
	if t.Weights != "" {
		s += fmt.Sprintf("weights: %s; %s, then the trunk at %g x lr; normalised with mean %v std %v\n", t.Weights,
			freezeText(t), t.TrunkFactor(), r.Config.Model.Mean, r.Config.Model.Std)
	}
	s += fmt.Sprintf("compute: %s\n", l.Backend)
	if r.Dir != "" {
		s += fmt.Sprintf("run:     %s (step %d)\n", r.Dir, l.Step())
	}
	return s
}

func freezeText(t config.Train) string {
	switch {
	case t.FreezeEpochs < 0:
		return "never frozen"
	case t.FreezeSteps > 0:
		return fmt.Sprintf("trunk frozen for %d steps", t.FreezeSteps)
	}
	return fmt.Sprintf("trunk frozen for %d epoch(s)", t.FreezeEpochs)
}

// LoadData loads the train and test splits. Every set's Name says which dataset it is.
func LoadData(dc config.Data) (trainSet, testSet *data.Set, err error) {
	if trainSet, err = LoadSplit(dc, "train"); err != nil {
		return nil, nil, err
	}
	if testSet, err = LoadSplit(dc, "test"); err != nil {
		return nil, nil, err
	}
	if dc.Limit > 0 {
		trainSet = trainSet.Head(dc.Limit)
	}
	return trainSet, testSet, nil
}

// LoadSplit loads one split by name: "train", "test", or "unlabeled" (STL-10's 100,000
// unlabeled images, label -1); Fold applies to train.
func LoadSplit(dc config.Data, split string) (*data.Set, error) {
	if err := dc.Validate(); err != nil {
		return nil, err
	}
	dc = dc.Resolve()
	opts := data.LoadOptions{Dir: dc.Dir, Fold: data.AllFolds, PerClass: dc.PerClass,
		Channels: dc.Channels, Size: dc.ImageSize, TestFraction: dc.TestFraction, Seed: dc.SplitSeed}
	if split == "train" && dc.Fold > 0 {
		opts.Fold = dc.Fold - 1 // config counts folds from 1, as STL-10's documentation.
	}
	set, err := data.Load(dc.Name, split, opts)
	if err == nil && len(dc.Classes) > 0 {
		set, err = set.OnlyClasses(dc.Classes)
	}
	return set, err
}

// OnGPU tells whether the process's backend runs on a GPU: config.Notebook's input, so
// a notebook trains the tutorial's recipe where the machine allows it. A backend that
// fails to start counts as no GPU (Open then reports the error).
func OnGPU() bool {
	b, err := backend.Shared()
	return err == nil && b.Platform == "cuda"
}
