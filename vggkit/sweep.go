package vggkit

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/vggkit/vggkit/internal/atomicfile"

	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/training"
)

// Trial is one short training run of a hyperparameter sweep.
type Trial struct {
	Name     string           `json:"name"`
	Config   config.Config    `json:"config"`
	History  training.History `json:"history"`
	Steps    int64            `json:"steps"`
	TestAcc  float64          `json:"test_accuracy"`
	Seconds  float64          `json:"seconds"`
	Diverged string           `json:"diverged,omitempty"` // the NaN message, when the loss blew up.
}

// RunTrial trains cfg from scratch on trainSet for cfg.Train.Epochs and measures test
// accuracy; a diverging run is recorded, not an error. With cacheDir, the result is kept
// on disk under a hash of the config and returned from there next time, so re-running a
// notebook cell repeats only the trials whose settings changed.
func RunTrial(name string, cfg config.Config, trainSet, testSet *data.Set, cacheDir string) (*Trial, error) {
	cfg = cfg.Resolve()
	cfg.Model.Classes = len(trainSet.Classes)
	key, err := json.Marshal(struct {
		C        config.Config
		Train    string
		N        int
		Test     string
		TestSize int
	}{cfg, trainSet.Name, trainSet.Len(), testSet.Name, testSet.Len()})
	if err != nil {
		return nil, err
	}
	var path string
	if cacheDir != "" {
		path = filepath.Join(cacheDir, fmt.Sprintf("trial-%x.json", sha256.Sum256(key)))
		if b, err := os.ReadFile(path); err == nil {
			t := &Trial{}
			if json.Unmarshal(b, t) == nil {
				t.Name = name
				return t, nil
			}
		}
	}
	start := time.Now()
	b, err := backend.Shared()
	if err != nil {
		return nil, err
	}
	l, err := training.New(b, cfg, trainSet.Classes)
	if err != nil {
		return nil, err
	}
	l.Out = io.Discard
	t := &Trial{Name: name, Config: cfg}
	if err := l.Fit(context.Background(), trainSet, nil); err != nil {
		if !errors.Is(err, training.ErrDiverged) {
			return nil, err
		}
		t.Diverged = err.Error()
	} else {
		ev, err := l.Evaluate(testSet)
		if err != nil {
			return nil, err
		}
		t.TestAcc = ev.Report.Accuracy
	}
	t.History, t.Steps, t.Seconds = l.History, l.Step(), time.Since(start).Seconds()
	if path != "" {
		if err := os.MkdirAll(cacheDir, 0o755); err != nil {
			return nil, err
		}
		b, _ := json.MarshalIndent(t, "", " ")
		if err := atomicfile.Write(path, b); err != nil {
			return nil, err
		}
	}
	return t, nil
}
