package fastops

import (
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

func goBackend(t testing.TB) compute.Backend {
	b, err := compute.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wave is a tensor of the shape filled with sin(i*step): no two neighbours equal.
func wave(step float64, dims ...int) *tensors.Tensor {
	x := tensors.FromShape(shapes.Make(dtypes.Float32, dims...))
	tensors.MustMutableFlatData[float32](x, func(f []float32) {
		for i := range f {
			f[i] = float32(math.Sin(float64(i)*step + 0.3))
		}
	})
	return x
}

// closeTo fails when a and b (flattened tensors) differ by more than tol, or a is all zeros.
func closeTo(t *testing.T, what string, a, b *tensors.Tensor, tol float64) {
	t.Helper()
	if !a.Shape().Equal(b.Shape()) {
		t.Fatalf("%s: shapes %s and %s", what, a.Shape(), b.Shape())
	}
	x, y := tensors.MustCopyFlatData[float32](a), tensors.MustCopyFlatData[float32](b)
	var maxDiff float64
	nonzero := false
	for i := range x {
		maxDiff = math.Max(maxDiff, math.Abs(float64(x[i]-y[i])))
		nonzero = nonzero || x[i] != 0
	}
	if !nonzero || maxDiff > tol {
		t.Errorf("%s: max difference %g (tolerance %g; nonzero: %v)", what, maxDiff, tol, nonzero)
	}
}

// Each form of a primitive gives the values and gradients of GoMLX's own: the
// convolutions on maps where Hybrid takes either branch, the max-pool on even and odd maps.
func TestFormsMatchGoMLX(t *testing.T) {
	b := goBackend(t)
	type prim struct {
		name      string
		fast, ref func(x, k *Node) *Node
	}
	prims := []prim{
		{"im2col conv", Im2ColConv3x3, NativeConv3x3},
		{"hybrid conv", HybridConv3x3, NativeConv3x3},
		{"hybrid conv with kernels", HybridKernelsConv3x3, NativeConv3x3},
		{"reshape max-pool", func(x, _ *Node) *Node { return MaxPool2x2(x) }, func(x, _ *Node) *Node { return MaxPool(x).Window(2).Done() }},
	}
	for _, dims := range [][]int{{2, 6, 5, 3}, {3, 2, 2, 4}, {2, 1, 1, 5}} {
		x, k := wave(0.37, dims...), wave(0.53, 3, 3, dims[3], 4)
		for _, p := range prims {
			if strings.Contains(p.name, "pool") && dims[1] < 2 {
				continue
			}
			// Outputs, and the gradients wrt x and k of sum(y * w) for a fixed w.
			run := func(f func(x, k *Node) *Node) []*tensors.Tensor {
				return MustNewExec(b, func(x, k *Node) []*Node {
					y := f(x, k)
					w := Sin(MulScalar(Iota(x.Graph(), y.Shape(), -1), 0.7))
					w = Add(w, Cos(IotaFull(x.Graph(), y.Shape())))
					grads := Gradient(ReduceAllSum(Mul(y, w)), x, k)
					return []*Node{y, grads[0], grads[1]}
				}).MustExec(x, k)
			}
			got, want := run(p.fast), run(p.ref)
			for i, what := range []string{"output", "gradient wrt x", "gradient wrt kernel"} {
				if i == 2 && strings.Contains(p.name, "pool") {
					continue // the pool does not use k
				}
				closeTo(t, fmt.Sprintf("%s %v %s", p.name, dims, what), got[i], want[i], 1e-5)
			}
		}
	}
}

// The matmul bias add has the plain add's values and gradients (wrt y and the bias), in
// f32 and in bf16 (which takes the plain add).
func TestAddBiasMatmulGradientMatchesPlainAdd(t *testing.T) {
	b := goBackend(t)
	y, bias := wave(0.71, 3, 5, 4, 6), wave(1.3, 6)
	plain := func(y, bias *Node) *Node {
		d := y.Shape().Dimensions
		return Add(y, BroadcastToDims(Reshape(bias, 1, 1, 1, d[3]), d...))
	}
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
		run := func(add func(y, bias *Node) *Node) []*tensors.Tensor {
			return MustNewExec(b, func(y, bias *Node) []*Node {
				z := ConvertDType(add(ConvertDType(y, dt), ConvertDType(bias, dt)), dtypes.Float32)
				g := Gradient(ReduceAllSum(Mul(z, Cos(z))), y, bias)
				return []*Node{z, g[0], g[1]}
			}).MustExec(y, bias)
		}
		got, want := run(AddBiasMatmulGradient), run(plain)
		for i, what := range []string{"output", "gradient wrt y", "gradient wrt bias"} {
			closeTo(t, fmt.Sprintf("%s %s", dt, what), got[i], want[i], 1e-4)
		}
	}
}

// vjpTable names the function of each entry of GoMLX's table of gradients.
func vjpTable() map[NodeType]string {
	names := make(map[NodeType]string, len(VJPRegistration))
	for op, fn := range VJPRegistration {
		names[op] = fmt.Sprintf("%s %#x", runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name(), reflect.ValueOf(fn).Pointer())
	}
	return names
}

// The whole model, training (batch norm, every pool and conv, maps down to 1x1), gives
// the same logits and gradients with each platform's forms as with GoMLX's own; and
// building it and its gradients leaves GoMLX's table of gradients as GoMLX made it.
func TestModelFormsMatchAndLeaveGoMLXAlone(t *testing.T) {
	before := vjpTable()
	for op, name := range before {
		if !strings.HasPrefix(name, "github.com/gomlx/gomlx/") {
			t.Errorf("GoMLX's gradient of %s is %s, not GoMLX's own", op, name)
		}
	}
	c := vgg.Default()
	c.Arch, c.BatchNorm, c.Width, c.InputSize, c.Augment = "vgg11", true, 0.0625, 32, config.NoAugment
	images := tensors.FromShape(shapes.Make(dtypes.Uint8, 2, 32, 32, 3))
	tensors.MustMutableFlatData[uint8](images, func(f []uint8) {
		for i := range f {
			f[i] = uint8((i * 37) % 251)
		}
	})
	gpu := For(XLAGPU, Im2Col)
	gpu.DecomposedBatchNorm = true // the pure-Go backend lacks the fused batch norm
	forms := []struct {
		name string
		ops  vgg.Ops
	}{
		{"GoMLX's", vgg.Ops{DecomposedBatchNorm: true}}, // the pure-Go backend lacks the fused batch norm
		{"go", For(Go, "")},
		{"xla cpu", For(XLACPU, "")},
		{"xla gpu", gpu}, // the GPU's plain bias add, im2col convolutions
	}
	store := model.NewStore()
	outs := model.MustCallOnceN(goBackend(t), store, func(scope *model.Scope, x *Node) []*Node {
		store.SetTraining(x.Graph(), true)
		var outs []*Node
		for i, f := range forms {
			var s *model.Scope
			if i == 0 {
				s = scope.In("model")
			} else {
				s = scope.Shared("model")
			}
			logits, _ := vgg.Build(s, c, f.ops, x)
			loss := ReduceAllSum(Mul(logits, Sin(IotaFull(x.Graph(), logits.Shape()))))
			outs = append(outs, logits)
			outs = append(outs, scope.BuildTrainableVariablesGradientsGraph(loss)...)
		}
		return outs
	}, images)
	per := len(outs) / len(forms)
	if per < 2*8+1 {
		t.Fatalf("%d outputs per form: want logits and the gradients of 8 convolutions and more", per)
	}
	for i, f := range forms[1:] {
		for j := range per {
			what := "logits"
			if j > 0 {
				what = fmt.Sprintf("gradient %d", j)
			}
			closeTo(t, f.name+" forms: "+what, outs[(i+1)*per+j], outs[j], 2e-4)
		}
	}
	after := vjpTable()
	if !reflect.DeepEqual(before, after) {
		t.Errorf("building the model and its gradients changed GoMLX's table of gradients")
	}
}

// For picks each platform's forms, and a named form of convolution overrides it.
func TestFor(t *testing.T) {
	name := func(f any) string {
		v := reflect.ValueOf(f)
		if v.IsNil() {
			return "GoMLX's"
		}
		return strings.TrimPrefix(runtime.FuncForPC(v.Pointer()).Name(), "github.com/vggkit/vggkit/vggkit/backend/fastops.")
	}
	for _, c := range []struct {
		p                  Platform
		conv               Conv
		wantConv, wantBias string
		wantDecomposedNorm bool
	}{
		{Go, "", "Im2ColConv3x3", "AddBiasMatmulGradient", true},
		{XLACPU, "", "HybridConv3x3", "AddBiasMatmulGradient", true},
		{XLACPUKernels, "", "HybridKernelsConv3x3", "AddBiasMatmulGradient", true},
		{XLACPUKernels, Hybrid, "HybridConv3x3", "AddBiasMatmulGradient", true},
		{XLAGPU, "", "GoMLX's", "GoMLX's", false},
		{XLACPU, Native, "NativeConv3x3", "AddBiasMatmulGradient", true},
		{Go, Hybrid, "HybridConv3x3", "AddBiasMatmulGradient", true},
		{XLAGPU, Im2Col, "Im2ColConv3x3", "GoMLX's", false},
		{Go, "fastest", "Im2ColConv3x3", "AddBiasMatmulGradient", true},
	} {
		ops := For(c.p, c.conv)
		if got := name(ops.Conv3x3); got != c.wantConv {
			t.Errorf("%s %q: convolution %s, want %s", c.p, c.conv, got, c.wantConv)
		}
		if got := name(ops.AddBias); got != c.wantBias {
			t.Errorf("%s %q: bias %s, want %s", c.p, c.conv, got, c.wantBias)
		}
		if got := name(ops.MaxPool); got != "MaxPool2x2" {
			t.Errorf("%s %q: max-pool %s, want MaxPool2x2", c.p, c.conv, got)
		}
		if ops.DecomposedBatchNorm != c.wantDecomposedNorm {
			t.Errorf("%s %q: decomposed batch norm %v", c.p, c.conv, ops.DecomposedBatchNorm)
		}
	}
}

// vggkit's kernels take the forward and input gradient of VGG's 2x2 maps at width 1/4 (128
// channels) and at full width (512), not with few channels.
func TestKernelsTake(t *testing.T) {
	for _, c := range []struct {
		x    []int
		cout int
		want bool
	}{
		{[]int{32, 2, 2, 128}, 128, true},
		{[]int{128, 4, 4, 64}, 128, true},
		{[]int{32, 2, 2, 512}, 512, true},
		{[]int{32, 2, 2, 64}, 32, false}, // 32 outputs: not a multiple of 64
		{[]int{32, 2, 2, 4}, 4, false},
		{[]int{32, 2, 2, 32}, 64, false}, // the input gradient's 32 outputs: not a multiple of 64
	} {
		if got := KernelsTake(c.x, c.cout); got != c.want {
			t.Errorf("KernelsTake(%v, %d) = %v, want %v", c.x, c.cout, got, c.want)
		}
	}
}
