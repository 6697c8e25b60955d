package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggkit/vggkit/vggkit/sweep"
)

// The distributed recipe end to end: plan, run each trial with `train -config` (as a
// scheduler would), collect both results from the run folders.
func TestSweepPlanTrainCollect(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	dir := t.TempDir()
	space := filepath.Join(dir, "space.json")
	spec := `{"base": {"data": {"name": "shapes10", "per_class": 4}, "model": {"arch": "vgg11", "batch_norm": true, "width": 0.0625,
	  "input_size": 32, "augment": "none"}, "train": {"epochs": 1, "batch_size": 8, "log_every": 2}},
	  "params": [{"path": "train.learning_rate", "values": [0.002, 0.0005]}]}`
	if err := os.WriteFile(space, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	sw := filepath.Join(dir, "sweep")
	code, out, errOut := runCLI(t, "sweep", "-plan", "-dir", sw, "-space", space, "-random", "0")
	if code != 0 || !strings.Contains(out, "2 trials") || !strings.Contains(out, "vggkit train -config") {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, trial := range []string{"trial-1", "trial-2"} {
		cfg := filepath.Join(sw, trial, sweep.ConfigFile)
		code, out, errOut := runCLI(t, "train", "-config", cfg, "-log-every", "1")
		if code != 0 || !strings.Contains(out, "vgg11_bn gap w0.0625 @32") {
			t.Fatalf("train -config %s: exit %d\n%s\n%s", cfg, code, out, errOut)
		}
	}
	code, out, errOut = runCLI(t, "sweep", "-collect", sw, "-json")
	var rs []sweep.Result
	if code != 0 || json.Unmarshal([]byte(out), &rs) != nil || len(rs) != 2 {
		t.Fatalf("collect -json: exit %d\n%s\n%s", code, out, errOut)
	}
	lrs := map[float64]bool{}
	for _, r := range rs {
		if r.Epochs != 1 || r.TestAcc < 0 || r.Config.Train.LogEvery != 1 {
			t.Errorf("%s: %d epochs, accuracy %g, log every %d: want 1 trained epoch, measured, the flag's override", r.Name, r.Epochs, r.TestAcc, r.Config.Train.LogEvery)
		}
		lrs[r.Params["train.learning_rate"].(float64)] = true
	}
	if !lrs[0.002] || !lrs[0.0005] {
		t.Errorf("learning rates %v: want both trials'", lrs)
	}
	code, out, _ = runCLI(t, "sweep", "-collect", sw)
	if code != 0 || !strings.Contains(out, "learning rate") || !strings.Contains(out, "won") {
		t.Errorf("collect: exit %d\n%s", code, out)
	}
}

func TestSweepUsage(t *testing.T) {
	for _, args := range [][]string{{"sweep"}, {"sweep", "-plan", "-collect", "x"}, {"sweep", "-plan", "-random", "-1", "-dir", t.TempDir()}} {
		if code, _, errOut := runCLI(t, args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "train", "-config", filepath.Join(t.TempDir(), "none.json")); code != 2 || !strings.Contains(errOut, "none.json") {
		t.Errorf("train -config missing: exit %d, %q", code, errOut)
	}
}
