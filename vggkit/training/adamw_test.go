package training

import (
	"encoding/json"
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/refstest"
	"github.com/vggkit/vggkit/vggkit/testbackend"
)

// Three steps of "adam" with weight decay (L2 in the gradient) and "adamw" (decoupled)
// on loss = sum(w*x) + sum(w^2), against torch.optim.Adam and torch.optim.AdamW with the
// same hyperparameters (GoMLX's eps, 1e-7). Weight decay this large (0.5) makes the two
// forms differ by far more than the tolerance.
func TestAdamWeightDecayMatchesTorch(t *testing.T) {
	py := refstest.Python(t)
	out := refstest.Run(t, py, t.TempDir(), `
import json, torch
res = {}
for name, cls in (("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW)):
    w = torch.tensor([0.5, 0.25, -1.0], requires_grad=True)
    x = torch.tensor([1.0, -2.0, 3.0])
    opt = cls([w], lr=0.1, weight_decay=0.5, eps=1e-7)
    for _ in range(3):
        opt.zero_grad(); ((w * x).sum() + (w * w).sum()).backward(); opt.step()
    res[name] = w.tolist()
print(json.dumps(res))
`)
	var torch map[string][]float64
	if err := json.Unmarshal(out, &torch); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, name := range []string{"adam", "adamw"} {
		got := runOptimizer(t, config.Train{Optimizer: name, LearningRate: 0.1, WeightDecay: 0.5}, 3)
		for i, w := range torch[name] {
			if math.Abs(got[i]-w) > 2e-6 {
				t.Errorf("%s: w[%d] = %.7f, torch %.7f (all: %v vs %v)", name, i, got[i], w, got, torch[name])
			}
		}
	}
	if math.Abs(torch["adam"][0]-torch["adamw"][0]) < 1e-3 {
		t.Fatalf("the test cannot tell L2 from decoupled decay: %v", torch)
	}
}

// runOptimizer takes steps of the optimizer o names on loss = sum(w*x) + sum(w^2).
func runOptimizer(t *testing.T, o config.Train, steps int) []float64 {
	store := model.NewStore()
	if _, err := store.CreateVariable("/w", tensors.FromValue([]float32{0.5, 0.25, -1})); err != nil {
		t.Fatal(err)
	}
	opt := newOptimizer(o)
	exec, err := model.NewExec(testbackend.Choice(t).Backend, store, func(scope *model.Scope, xs *Node) *Node {
		w := store.GetVariable("/w").NodeValue(xs.Graph())
		loss := Add(ReduceAllSum(Mul(w, xs)), ReduceAllSum(Square(w)))
		opt.UpdateGraph(scope, xs.Graph(), loss)
		return loss
	})
	if err != nil {
		t.Fatal(err)
	}
	for range steps {
		if _, err := exec.Call(tensors.FromValue([]float32{1, -2, 3})); err != nil {
			t.Fatal(err)
		}
	}
	return f64(tensors.MustCopyFlatData[float32](store.GetVariable("/w").MustValue()))
}
