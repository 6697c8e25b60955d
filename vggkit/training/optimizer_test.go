package training

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vggkit/vggkit/vggkit/testbackend"
)

// sgdMomentum follows PyTorch's SGD: g = grad + wd*w; buf = mom*buf + g; w -= lr*buf.
// With loss = sum(w*x) the gradient is x, so two steps can be computed by hand.
func TestSGDMomentumMatchesPyTorchRule(t *testing.T) {
	const lr, mom, wd = 0.1, 0.9, 0.01
	x := []float32{1, -2, 3}
	w0 := []float32{0.5, 0.25, -1}
	store := model.NewStore()
	if _, err := store.CreateVariable("/w", tensors.FromValue(w0)); err != nil {
		t.Fatal(err)
	}
	opt := &sgdMomentum{lr: lr, momentum: mom, weightDecay: wd}
	exec, err := model.NewExec(testbackend.Choice(t).Backend, store, func(scope *model.Scope, xs *Node) *Node {
		w := store.GetVariable("/w").NodeValue(xs.Graph())
		loss := ReduceAllSum(Mul(w, xs))
		opt.UpdateGraph(scope, xs.Graph(), loss)
		return loss
	})
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float64(nil), f64(w0)...)
	buf := make([]float64, len(x))
	for step := range 2 {
		if _, err := exec.Call(tensors.FromValue(x)); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			g := float64(x[i]) + wd*want[i]
			if step == 0 {
				buf[i] = g
			} else {
				buf[i] = mom*buf[i] + g
			}
			want[i] -= lr * buf[i]
		}
		got := tensors.MustCopyFlatData[float32](store.GetVariable("/w").MustValue())
		for i := range want {
			if math.Abs(float64(got[i])-want[i]) > 1e-6 {
				t.Fatalf("step %d: w[%d] = %g, want %g", step+1, i, got[i], want[i])
			}
		}
	}
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
