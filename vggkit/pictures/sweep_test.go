package pictures

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/sweep"
	"github.com/vggkit/vggkit/vggkit/training"
)

func sweepResults() ([]sweep.Result, sweep.Space) {
	sp := sweep.Space{Base: config.Demo(), Params: []sweep.Param{sweep.LogUniform("train.learning_rate", 1e-4, 3e-2),
		sweep.Choice("train.optimizer", "adam", "sgd")}}
	ep := func(accs ...float64) training.History {
		var h training.History
		for i, a := range accs {
			h.Epochs = append(h.Epochs, training.Epoch{Epoch: i + 1, TestAcc: a})
		}
		return h
	}
	return []sweep.Result{
		{Name: "trial-2", TestAcc: 0.6, Epochs: 3, History: ep(0.3, 0.5, 0.6), Params: map[string]any{"train.learning_rate": 3e-3, "train.optimizer": "sgd"}},
		{Name: "trial-1", TestAcc: 0.2, Epochs: 1, History: ep(0.2), Params: map[string]any{"train.learning_rate": 1e-4, "train.optimizer": "adam"}},
		{Name: "trial-3", TestAcc: -1, Diverged: "loss = NaN", Params: map[string]any{"train.learning_rate": 2e-2, "train.optimizer": "adam"}},
	}, sp
}

func TestSweepPictures(t *testing.T) {
	rs, sp := sweepResults()
	curves, err := SweepCurves(rs, sp.Paths())
	if err != nil {
		t.Fatal(err)
	}
	scatter, err := SweepScatter(rs, sp)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]interface{ PNG() ([]byte, error) }{"curves": curves, "scatter": scatter} {
		b, err := c.PNG()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() < 600 {
			t.Errorf("%s: %v, %v", name, err, img.Bounds())
		}
	}
	// Log scale across, the diverged trial left out, one legend entry per optimizer.
	p := scatter.Plot()
	if p.X.Min > 1e-4 || p.X.Max < 3e-3 || p.X.Max > 1e-2 {
		t.Errorf("x range %g..%g: want the finished trials' learning rates", p.X.Min, p.X.Max)
	}
	svg, _ := scatter.SVG()
	for _, want := range []string{"trial-2 (3 ep)", "sgd", "adam", "log scale"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("scatter lacks %q", want)
		}
	}
	if bytes.Contains(svg, []byte("trial-3")) {
		t.Error("the diverged trial is placed on the scatter")
	}
	if _, err := SweepScatter(rs, sweep.Space{Params: []sweep.Param{sweep.Choice("train.optimizer", "adam")}}); err == nil ||
		!strings.Contains(err.Error(), "train.optimizer") {
		t.Errorf("a space without a range: %v", err)
	}
}
