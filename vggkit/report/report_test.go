package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/metrics"
	"github.com/vggkit/vggkit/vggkit/training"
)

// The report shows class activation maps when the map has positions to show (64 px input:
// 4x4 at the last convolution), and leaves them out at 32 px (2x2).
func TestReportCAMsOnlyWhereTheyShowSomething(t *testing.T) {
	t.Setenv(backend.EnvVar, "go")
	b, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	test, err := data.Shapes10("test", 1)
	if err != nil {
		t.Fatal(err)
	}
	for size, want := range map[int]bool{64: true, 32: false} {
		cfg := config.Demo()
		cfg.Model.Width, cfg.Model.InputSize = 0.0625, size
		l, err := training.New(b, cfg, test.Classes)
		if err != nil {
			t.Fatal(err)
		}
		logits, err := l.Logits(test)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		files, err := Write(dir, Input{Title: "t", Test: test, Learner: l, Pred: metrics.ArgMax(logits)})
		if err != nil {
			t.Fatal(err)
		}
		_, statErr := os.Stat(filepath.Join(dir, CAMs))
		page, _ := os.ReadFile(filepath.Join(dir, IndexHTML))
		listed := strings.Contains(strings.Join(files, " "), CAMs) && strings.Contains(string(page), `src="`+CAMs+`"`)
		if (statErr == nil) != want || listed != want {
			t.Errorf("%d px: %s written %v, listed on the page %v; want %v", size, CAMs, statErr == nil, listed, want)
		}
	}
}
