package sweep

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/vggkit/vggkit/vggkit/checkpoint"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/training"
)

func space() Space {
	return Space{Base: config.Demo(), Params: []Param{
		LogUniform("train.learning_rate", 1e-4, 1e-1),
		Choice("train.optimizer", "adam", "sgd"),
		Choice("model.batch_norm", true, false),
	}}
}

func TestRandomDrawsOnALogScale(t *testing.T) {
	p, err := Random(space(), 200, 7)
	if err != nil {
		t.Fatal(err)
	}
	below := 0 // the log-scale midpoint of 1e-4..1e-1 is 3.2e-3; uniform would put 97 % above it.
	for _, tr := range p.Trials {
		lr := tr.Config.Train.LearningRate
		if lr < 1e-4 || lr > 1e-1 || lr != tr.Params["train.learning_rate"] {
			t.Fatalf("%s: lr %g (params %v) out of the range or not applied", tr.Name, lr, tr.Params)
		}
		if lr < math.Sqrt(1e-4*1e-1) {
			below++
		}
		if tr.Config.Model.BatchNorm != tr.Params["model.batch_norm"] || tr.Config.Train.Optimizer != tr.Params["train.optimizer"] {
			t.Fatalf("%s: config %+v does not carry params %v", tr.Name, tr.Config.Train, tr.Params)
		}
	}
	if below < 70 || below > 130 {
		t.Errorf("%d of 200 draws below the log midpoint: want about half", below)
	}
	again, _ := Random(space(), 200, 7)
	if fmt.Sprint(again.Trials[5].Params) != fmt.Sprint(p.Trials[5].Params) || p.Trials[5].Name != "trial-6" {
		t.Errorf("the same seed drew %v then %v (%s)", p.Trials[5].Params, again.Trials[5].Params, p.Trials[5].Name)
	}
}

func TestGridIsEveryCombination(t *testing.T) {
	p, err := Grid(space())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Trials) != 3*2*2 {
		t.Fatalf("%d trials, want 12", len(p.Trials))
	}
	seen := map[string]bool{}
	for _, tr := range p.Trials {
		seen[fmt.Sprint(tr.Params)] = true
	}
	if len(seen) != 12 || !seen["map[model.batch_norm:false train.learning_rate:0.0032 train.optimizer:sgd]"] {
		t.Errorf("combinations: %v", seen)
	}
}

func TestBadSpacesNameTheParameter(t *testing.T) {
	for _, p := range []Param{Choice("train.lr", 1e-3), Choice("train.optimizer.x", "a"), LogUniform("train.learning_rate", 0, 1),
		Choice("train.epochs", "many"), Choice("train.optimizer", "adagrad")} {
		_, err := Grid(Space{Base: config.Demo(), Params: []Param{p}})
		if err == nil || !strings.Contains(err.Error(), strings.Split(p.Path, ".")[1]) {
			t.Errorf("%+v: error %v, want one naming the field", p, err)
		}
	}
}

// fake trains by writing a checkpoint whose history has one epoch per epoch asked for:
// test accuracy grows with the epochs, and is highest for a learning rate near 3e-3.
type fake struct{ calls []string }

func (f *fake) train(_ context.Context, cfg config.Config, dir string) error {
	f.calls = append(f.calls, fmt.Sprintf("%s:%d", filepath.Base(dir), cfg.Train.Epochs))
	lr := cfg.Train.LearningRate
	if lr > 0.05 {
		return fmt.Errorf("wrapped: %w: loss = NaN", training.ErrDiverged)
	}
	m := &training.Meta{Config: cfg}
	if training.HasCheckpoint(dir) {
		old, err := training.ReadMeta(dir)
		if err != nil {
			return err
		}
		m.History = old.History
	}
	for e := len(m.History.Epochs) + 1; e <= cfg.Train.Epochs; e++ {
		acc := (1 - math.Abs(math.Log10(lr/3e-3))/3) * (0.5 + 0.1*float64(e))
		m.History.Epochs = append(m.History.Epochs, training.Epoch{Epoch: e, TestAcc: acc, TrainLoss: 1 / float64(e), Seconds: 1})
	}
	return checkpoint.Save(dir, m, model.NewStore())
}

func TestSuccessiveHalvingKeepsTheBestAndResumes(t *testing.T) {
	sp := space()
	sp.Params[0] = LogUniform("train.learning_rate", 1e-4, 9e-2)
	plan, err := Random(sp, 9, 3)
	if err != nil {
		t.Fatal(err)
	}
	dir, f := t.TempDir(), &fake{}
	var seen []Progress
	rs, err := Run(context.Background(), plan, Options{Dir: dir, Train: f.train, Rungs: []int{1, 3}, Eta: 3,
		Watch: func(p Progress) { seen = append(seen, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 9+3 || len(rs) != 9 {
		t.Fatalf("trainings %v and %d results: want 9 at 1 epoch, then the best 3 to 3", f.calls, len(rs))
	}
	for i, r := range rs[:3] {
		if r.Epochs != 3 || !strings.HasSuffix(f.calls[9+i], ":3") {
			t.Errorf("result %d: %s trained %d epochs; calls %v", i, r.Name, r.Epochs, f.calls[9:])
		}
	}
	for _, r := range rs[3:] {
		if r.Epochs > 1 {
			t.Errorf("%s (%.3f) continued to %d epochs though not in the best third", r.Name, r.TestAcc, r.Epochs)
		}
	}
	last := seen[len(seen)-1]
	if last.Jobs != 12 || last.Best == nil || last.Best.Name != rs[0].Name || last.Trial != "" {
		t.Errorf("last progress %+v: want 12 jobs, the winner %s", last, rs[0].Name)
	}
	f.calls = nil
	again, err := Run(context.Background(), plan, Options{Dir: dir, Train: f.train, Rungs: []int{1, 3}})
	if err != nil || len(f.calls) != 0 || again[0].Name != rs[0].Name {
		t.Errorf("second run: err %v, trainings %v, winner %s (was %s): want nothing retrained", err, f.calls, again[0].Name, rs[0].Name)
	}
}

func TestDivergenceIsAResult(t *testing.T) {
	sp := space()
	sp.Params = []Param{Choice("train.learning_rate", 3e-3, 0.08)}
	plan, _ := Grid(sp)
	dir, f := t.TempDir(), &fake{}
	rs, err := Run(context.Background(), plan, Options{Dir: dir, Train: f.train})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[1].Diverged == "" || rs[0].Diverged != "" || rs[1].Name != "trial-2" {
		t.Fatalf("results %+v: want trial-2 diverged, last", rs)
	}
	rows := Rows(rs, sp.Paths())
	if rows[2][len(rows[2])-2] != "diverged" {
		t.Errorf("row %v: want the accuracy column to say diverged", rows[2])
	}
	got, paths, err := Collect(dir)
	if err != nil || len(got) != 2 || got[1].Diverged == "" || paths[0] != "train.learning_rate" || got[0].Params["train.learning_rate"] != 3e-3 {
		t.Errorf("collect: %v, %v, %+v", err, paths, got)
	}
	if s := Summary(rs, paths); !strings.Contains(s, "1 trial(s) diverged") || !strings.Contains(s, "trial-1 won") {
		t.Errorf("summary %q", s)
	}
}

func TestCollectWithoutPlanFindsTheVaryingFields(t *testing.T) {
	dir, f := t.TempDir(), &fake{}
	for i, lr := range []float64{1e-3, 3e-3} {
		cfg := config.Demo()
		cfg.Train.LearningRate, cfg.Train.Epochs = lr, 1+i
		if err := f.train(context.Background(), cfg, filepath.Join(dir, fmt.Sprintf("run-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "not-yet-run"), 0o755); err != nil {
		t.Fatal(err)
	}
	rs, paths, err := Collect(dir)
	if err != nil || len(rs) != 2 || fmt.Sprint(paths) != "[train.learning_rate]" || rs[0].Name != "run-1" || rs[0].Params["train.learning_rate"] != 3e-3 {
		t.Fatalf("collect: %v, paths %v, %+v", err, paths, rs)
	}
	if _, _, err := Collect(t.TempDir()); err == nil {
		t.Errorf("an empty folder: error %v", err)
	}
}

func TestSummarySaysWhatWonAndByHowMuch(t *testing.T) {
	rs := []Result{{Name: "trial-2", TestAcc: 0.6, Epochs: 3, Seconds: 60, Params: map[string]any{"train.optimizer": "sgd"}},
		{Name: "trial-1", TestAcc: 0.4, Epochs: 3, Seconds: 50}, {Name: "trial-3", TestAcc: 0.1, Epochs: 1, Seconds: 10}}
	s := Summary(rs, []string{"train.optimizer"})
	for _, want := range []string{"trial-2 won", "optimizer sgd", "60.0 %", "20.0 points above the runner-up", "50.0 points above the worst trial (trial-3, 10.0 % after 1 epoch(s))", "2m0s"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
}

func TestSubsetsMatchValuesReadBackFromJSON(t *testing.T) {
	sp := Space{Base: config.Demo(), Params: []Param{Choice("train.batch_size", 16, 32), Choice("model.batch_norm", true, false)}}
	rs := []Result{{Name: "a", Epochs: 3, Params: map[string]any{"train.batch_size": 16.0, "model.batch_norm": true}},
		{Name: "b", Epochs: 1, Params: map[string]any{"train.batch_size": 32.0, "model.batch_norm": false}}}
	got := map[string]string{}
	for _, s := range Subsets(rs, sp) {
		var names []string
		for _, r := range s.Filter(rs) {
			names = append(names, r.Name)
		}
		got[s.Name] = strings.Join(names, ",")
	}
	want := map[string]string{"all trials": "a,b", "best 3": "a,b", "trained 3 epochs (not stopped early)": "a",
		"batch size: 16": "a", "batch size: 32": "b", "batch norm: on": "a", "batch norm: off": "b"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("subsets %v, want %v", got, want)
	}
}
