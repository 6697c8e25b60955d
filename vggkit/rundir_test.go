package vggkit

import (
	"strings"
	"testing"

	"github.com/vggkit/vggkit/vggkit/config"
)

func TestRunDirSeparatesRuns(t *testing.T) {
	cfg := config.Notebook("shapes10", false)
	cfg.Data.Limit = 0
	a := RunDir(cfg)
	stl := cfg
	stl.Data.Name = "stl10"
	b := RunDir(stl)
	if a == b || !strings.HasPrefix(a, "runs/shapes10") || strings.ContainsAny(a, " ()@") {
		t.Errorf("run dirs %q, %q", a, b)
	}
	// VGGKIT_FAST's run (the first 2000 images) has its own directory.
	fast := cfg
	fast.Train.Epochs, fast.Data.Limit = 2, 2000
	if f := RunDir(fast); f == a || !strings.HasSuffix(f, "-first2000") {
		t.Errorf("fast run dir %q, full %q", f, a)
	}
	// Part of the classes, and pretrained weights, make other runs.
	part := cfg
	part.Data.Classes = []string{"ring", "cross"}
	other := part
	other.Data.Classes = []string{"cross", "ring"}
	ft := part
	ft.Train.Weights = "runs/pretrained/"
	dirs := map[string]bool{a: true, RunDir(part): true, RunDir(other): true, RunDir(ft): true}
	if len(dirs) != 4 || !strings.HasSuffix(RunDir(ft), "-from-pretrained") {
		t.Errorf("runs share folders: %v", dirs)
	}
}

// "auto" is resolved to the dataset it stands for, in the folder name and in the config
// a run saves, so a later STL-10 download does not resume a Shapes10 run on STL-10.
func TestAutoIsResolved(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	cfg := config.Demo()
	cfg.Data.Name, cfg.Data.Dir, cfg.Data.PerClass = "auto", t.TempDir(), 2
	if d := RunDir(cfg); !strings.HasPrefix(d, "runs/shapes10-") {
		t.Errorf("run dir %q", d)
	}
	run, err := Open(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	if run.Config.Data.Name != "shapes10" {
		t.Errorf("the run's config says dataset %q", run.Config.Data.Name)
	}
}
