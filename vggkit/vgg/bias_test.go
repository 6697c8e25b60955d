package vgg

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// addBias's matrix-vector gradient must equal GoMLX's own (a sum over B, H, W), for the
// bias and for y, and the mark it leaves must be used up by the gradient.
func TestAddBiasGradientMatchesReduction(t *testing.T) {
	b := goBackend(t)
	y := tensors.FromShape(shapes.Make(dtypes.Float32, 3, 5, 4, 6))
	tensors.MustMutableFlatData[float32](y, func(f []float32) {
		for i := range f {
			f[i] = float32(math.Sin(float64(i) * 0.71))
		}
	})
	bias := tensors.FromFlatDataAndDimensions([]float32{0.5, -1, 2, 0.25, -0.75, 1.5}, 6)
	grads := func(matmul bool) [][]float32 {
		outs := MustNewExec(b, func(y, bias *Node) []*Node {
			z := addBias(y, bias, matmul)
			loss := ReduceAllSum(Mul(z, Cos(z)))
			g := Gradient(loss, y, bias)
			return []*Node{z, g[0], g[1]}
		}).MustExec(y, bias)
		var r [][]float32
		for _, o := range outs {
			r = append(r, tensors.MustCopyFlatData[float32](o))
		}
		return r
	}
	want, got := grads(false), grads(true)
	for i, what := range []string{"output", "gradient wrt y", "gradient wrt bias"} {
		for j := range want[i] {
			if d := math.Abs(float64(want[i][j] - got[i][j])); d > 1e-4 {
				t.Fatalf("%s [%d]: %g with the matmul gradient, %g with the reduction", what, j, got[i][j], want[i][j])
			}
		}
	}
	if n := marks(); n != 0 {
		t.Errorf("%d bias marks left after the gradient was built", n)
	}
	// Without a gradient the mark stays: the check above is not vacuous.
	MustNewExec(b, func(y, bias *Node) *Node { return addBias(y, bias, true) }).MustExec(y, bias)
	if n := marks(); n != 1 {
		t.Errorf("addBias left %d marks, want 1 (is the broadcast still a BroadcastInDim node?)", n)
	}
	biasesByMatmul.Clear()
}

func marks() int {
	n := 0
	biasesByMatmul.Range(func(_, _ any) bool { n++; return true })
	return n
}

// Conv3x3 takes the matmul bias gradient while training in the CPU forms only: not in
// evaluation, and not in the Native form the GPU runs.
func TestConv3x3MarksBiasForMatmulGradient(t *testing.T) {
	b := goBackend(t)
	x := tensors.FromShape(shapes.Make(dtypes.Float32, 1, 4, 4, 2))
	for _, c := range []struct {
		form     Form
		training bool
		want     int
	}{{Hybrid, true, 1}, {Im2Col, true, 1}, {Native, true, 0}, {Hybrid, false, 0}} {
		biasesByMatmul.Clear()
		store := model.NewStore()
		model.MustCallOnceN(b, store, func(scope *model.Scope, x *Node) []*Node {
			store.SetTraining(x.Graph(), c.training)
			return []*Node{Conv3x3(scope.In("c"), x, 3, c.form)}
		}, x)
		if n := marks(); n != c.want {
			t.Errorf("form %d, training %v: %d marks, want %d", c.form, c.training, n, c.want)
		}
	}
	biasesByMatmul.Clear()
}
