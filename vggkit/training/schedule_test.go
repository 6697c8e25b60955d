package training

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/refstest"
)

// One cycle over 100 steps peaking at 1e-2: the warm-up ends at step 0.25*100-1 = 24.
// By hand: step 0 = 1e-2/25 = 4e-4; step 24 = the peak; step 99 = 4e-4/1e4 = 4e-8;
// halfway up (step 12, pct 0.5) the cosine is at its middle: (4e-4+1e-2)/2 = 5.2e-3;
// halfway down (step 61.5 is not a step; step 50: pct = 26/75) 4e-8 + (1e-2-4e-8)/2*(1+cos(pi*26/75)).
func TestOneCycleByHand(t *testing.T) {
	s := NewSchedule(config.Train{Schedule: "onecycle", LearningRate: 1e-2}, 100)
	want := map[int64]float64{
		0: 4e-4, 12: 5.2e-3, 24: 1e-2, 99: 4e-8, 500: 4e-8,
		50: 4e-8 + (1e-2-4e-8)/2*(1+math.Cos(math.Pi*26/75)),
	}
	for step, w := range want {
		if got := s(step); math.Abs(got-w) > 1e-15 {
			t.Errorf("step %d: lr %.10g, want %.10g", step, got, w)
		}
	}
}

// The same curve as torch.optim.lr_scheduler.OneCycleLR (pct_start 0.25, cos, no
// momentum cycling) at every step of two runs, one with a fractional phase boundary.
func TestOneCycleMatchesTorch(t *testing.T) {
	py := refstest.Python(t)
	for _, total := range []int64{100, 37} {
		out := refstest.Run(t, py, t.TempDir(), `
import sys, json, torch
total = int(sys.argv[1])
opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
s = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=total, pct_start=0.25,
    anneal_strategy="cos", cycle_momentum=False, div_factor=25, final_div_factor=1e4)
lrs = []
for _ in range(total):
    lrs.append(opt.param_groups[0]["lr"])
    opt.step(); s.step() if len(lrs) < total else None
print(json.dumps(lrs))
`, fmt.Sprint(total))
		var torch []float64
		if err := json.Unmarshal(out, &torch); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		s := NewSchedule(config.Train{Schedule: "onecycle", LearningRate: 3e-3}, total)
		worst := 0.0
		for i, w := range torch {
			worst = math.Max(worst, math.Abs(s(int64(i))-w)/3e-3)
		}
		t.Logf("%d steps: max |vggkit - torch| = %.2g of the peak", total, worst)
		if worst > 1e-12 {
			t.Errorf("%d steps: one-cycle differs from torch by %.3g of the peak", total, worst)
		}
	}
}
