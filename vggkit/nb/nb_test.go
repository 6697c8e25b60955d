package nb

import (
	"strings"
	"testing"

	"github.com/vggkit/vggkit/vggkit/data"
)

func TestRunDirSeparatesRuns(t *testing.T) {
	t.Setenv("VGGKIT_FAST", "")
	cfg := TrainingConfig("shapes10")
	a := RunDir(cfg, &data.Set{Name: "Shapes10 (embedded) train"})
	b := RunDir(cfg, &data.Set{Name: "STL-10 train"})
	if a == b || !strings.HasPrefix(a, "runs/shapes10") || strings.ContainsAny(a, " ()@") {
		t.Errorf("run dirs %q, %q", a, b)
	}
	t.Setenv("VGGKIT_FAST", "1")
	fast := TrainingConfig("shapes10")
	if fast.Train.Epochs >= cfg.Train.Epochs || RunDir(fast, &data.Set{Name: "Shapes10 (embedded) train"}) == a {
		t.Errorf("fast mode should train less, in its own directory: %+v", fast.Train)
	}
}

func TestTableHTMLEscapes(t *testing.T) {
	h := TableHTML([][]string{{"class", "acc"}, {"<cat>", "50 %"}})
	if !strings.Contains(h, "<th>class</th>") || !strings.Contains(h, "&lt;cat&gt;") {
		t.Errorf("table: %s", h)
	}
}
