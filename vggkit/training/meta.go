package training

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/checkpoint"
	"github.com/vggkit/vggkit/vggkit/config"
)

// Meta is what a checkpoint says about itself besides the weights: the whole
// configuration of the run (as torchvision's reference scripts save their args), so that
// eval, predict and resume rebuild the same data and model.
type Meta struct {
	Config  config.Config `json:"config"`
	Classes []string      `json:"classes"`
	Dataset string        `json:"dataset"`
	Images  [3]int        `json:"images"` // height, width and channels of the training images (before the graph resizes them).
	Step    int64         `json:"step"`
	History History       `json:"history"`
}

// HasCheckpoint tells whether dir (or the file) holds a checkpoint.
func HasCheckpoint(path string) bool { return checkpoint.Exists(path) }

// ReadMeta reads a checkpoint's metadata (a directory or the file), checking its header.
func ReadMeta(path string) (*Meta, error) {
	m := &Meta{}
	if v, err := checkpoint.Version(path); err != nil {
		return nil, err
	} else if v == 1 {
		store := model.NewStore()
		raw, err := checkpoint.ReadV1(path, store)
		if err != nil {
			return nil, err
		}
		return metaFromV1(path, raw)
	}
	if err := checkpoint.ReadMeta(path, m); err != nil {
		return nil, err
	}
	return m, nil
}

// Load rebuilds a learner from a checkpoint alone (for eval, predict and resume).
func Load(b *backend.Choice, path string) (*Learner, error) {
	meta, err := ReadMeta(path)
	if err != nil {
		return nil, err
	}
	l, err := freshLearner(b, meta.Config, meta.Classes)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := l.restore(path, meta); err != nil {
		return nil, err
	}
	return l, nil
}

// Resume loads the checkpoint in dir into a learner for cfg, refusing a configuration
// that differs in anything but config.Resumable (those changes are recorded in the history).
func Resume(b *backend.Choice, cfg config.Config, dir string) (*Learner, error) {
	meta, err := ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	cfg = cfg.Resolve()
	cfg.Model.Classes = meta.Config.Model.Classes
	if diff := config.Diff(meta.Config, cfg, config.Resumable...); len(diff) > 0 {
		return nil, fmt.Errorf("%w: the checkpoint in %s was trained with another configuration (%s); "+
			"train in another folder, or go back to the checkpoint's settings (a resume may change only %s)",
			ErrConfigChanged, dir, strings.Join(diff, "; "), strings.Join(config.Resumable, ", "))
	}
	l, err := freshLearner(b, cfg, meta.Classes)
	if err != nil {
		return nil, err
	}
	if err := l.restore(dir, meta); err != nil {
		return nil, err
	}
	if changes := config.Diff(meta.Config, cfg, "data.dir"); len(changes) > 0 {
		l.History.Resumes = append(l.History.Resumes, Resumed{Step: l.Step(), Changes: changes})
	}
	return l, nil
}

// ErrConfigChanged is returned (wrapped) when a resume asks for another configuration.
var ErrConfigChanged = errors.New("configuration changed")

func (l *Learner) restore(path string, meta *Meta) error {
	var err error
	if v, _ := checkpoint.Version(path); v == 1 {
		_, err = checkpoint.ReadV1(path, l.store)
	} else {
		err = checkpoint.Load(path, &Meta{}, l.store)
	}
	if err != nil {
		return err
	}
	l.History, l.Dataset, l.Images = meta.History, meta.Dataset, meta.Images
	l.lr = 0 // the store now holds the saved rate: set the configured one again.
	l.setLearningRate(l.Config.Train.LearningRate)
	return nil
}

// Save writes a checkpoint into dir (atomically; checkpoint.Save refuses non-finite weights).
func (l *Learner) Save(dir string) error {
	return checkpoint.Save(dir, Meta{Config: l.Config, Classes: l.Classes, Dataset: l.Dataset, Images: l.Images,
		Step: l.Step(), History: l.History}, l.store)
}

// metaFromV1 converts the header of a version-1 checkpoint (vggkit before the config
// package): model and options map onto the config; the data settings were not saved,
// so the dataset is guessed from its recorded name.
func metaFromV1(path string, raw json.RawMessage) (*Meta, error) {
	var v1 struct {
		Model struct {
			config.Model
			Augment bool `json:"augment"`
		} `json:"model"`
		Options struct {
			config.Train
			EvalEachEpoch bool `json:"eval_each_epoch"`
		} `json:"options"`
		Classes []string `json:"classes"`
		Dataset string   `json:"dataset"`
		Step    int64    `json:"step"`
		History History  `json:"history"`
	}
	if err := json.Unmarshal(raw, &v1); err != nil {
		return nil, fmt.Errorf("checkpoint %s (format 1): %w", path, err)
	}
	size := v1.Model.InputSize
	m := &Meta{Classes: v1.Classes, Dataset: v1.Dataset, Step: v1.Step, History: v1.History, Images: [3]int{size, size, 3}}
	m.Config.Model, m.Config.Train = v1.Model.Model, v1.Options.Train
	m.Config.Model.Augment = config.NoAugment
	if v1.Model.Augment {
		m.Config.Model.Augment = config.CropFlip
	}
	if !v1.Options.EvalEachEpoch {
		m.Config.Train.EvalEvery = -1
	}
	m.Config.Data.Name = guessDataset(v1.Dataset)
	return m, nil
}

func guessDataset(name string) string {
	n := strings.ToLower(name)
	for _, k := range []struct{ has, name string }{{"shapes10", "shapes10"}, {"stl-10", "stl10"},
		{"cifar-100", "cifar100"}, {"cifar-10", "cifar10"}, {"fashion", "fashion-mnist"}, {"kmnist", "kmnist"}, {"mnist", "mnist"}} {
		if strings.Contains(n, k.has) {
			return k.name
		}
	}
	return "auto"
}

// pending is where a checkpoint waits until the next step shows its weights are sound.
func pending(dir string) string { return filepath.Join(dir, "pending") }

// promote moves a confirmed pending checkpoint into place.
func promote(dir string) error {
	src := filepath.Join(pending(dir), checkpoint.File)
	if _, err := os.Stat(src); err != nil {
		return nil
	}
	if err := os.Rename(src, filepath.Join(dir, checkpoint.File)); err != nil {
		return err
	}
	return os.Remove(pending(dir))
}

// discard drops an unconfirmed pending checkpoint.
func discard(dir string) { os.RemoveAll(pending(dir)) }
