package vggkit

import (
	"strings"
	"testing"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/data"
)

func TestRunDirSeparatesRuns(t *testing.T) {
	cfg := config.Notebook("shapes10")
	cfg.Data.Limit = 0
	a := RunDir(cfg, &data.Set{Name: "Shapes10 (embedded) train"})
	b := RunDir(cfg, &data.Set{Name: "STL-10 train"})
	if a == b || !strings.HasPrefix(a, "runs/shapes10") || strings.ContainsAny(a, " ()@") {
		t.Errorf("run dirs %q, %q", a, b)
	}
	// VGGKIT_FAST's run (the first 2000 images) has its own directory.
	fast := cfg
	fast.Train.Epochs, fast.Data.Limit = 2, 2000
	if f := RunDir(fast, &data.Set{Name: "Shapes10 (embedded) train"}); f == a || !strings.HasSuffix(f, "-first2000") {
		t.Errorf("fast run dir %q, full %q", f, a)
	}
}
