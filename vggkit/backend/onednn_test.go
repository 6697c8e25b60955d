package backend

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// patchedXLA is the XLA backend with vggkit's go-xla patch (third_party/go-xla.patch).
type patchedXLA interface {
	compute.Backend
	oneDNNConvolutions
	cpuKernelCalls
}

// xlaCPUChoice is the default choice when it is XLA CPU, or a skip where its plugin is not
// installed.
func xlaCPUChoice(t *testing.T) *Choice {
	t.Helper()
	t.Setenv(EnvVar, "")
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsXLACPU() {
		t.Skipf("XLA CPU plugin not installed (backend %s): `vggkit doctor -install cpu`", c.Config)
	}
	return c
}

// xlaCPU is the XLA CPU backend, or a skip where its plugin is not installed or go-xla is
// upstream (built without the go.work of scripts/go-xla-patch.sh).
func xlaCPU(t *testing.T) patchedXLA {
	t.Helper()
	c := xlaCPUChoice(t)
	requirePatch(t)
	xb, ok := c.Backend.(patchedXLA)
	if !ok {
		t.Fatalf("XLA backend %T without the patch's switches", c.Backend)
	}
	return xb
}

func TestOneDNNOnByDefaultOnXLACPU(t *testing.T) {
	if !xlaCPU(t).CPUConvolutionsWithOneDNN() {
		t.Error("XLA CPU backend without oneDNN convolutions")
	}
	if c, _ := New(); !c.OneDNN() {
		t.Error("Choice.OneDNN false on XLA CPU")
	}
	t.Setenv(OneDNNEnvVar, "0")
	if xlaCPU(t).CPUConvolutionsWithOneDNN() {
		t.Errorf("%s=0 did not keep XLA's own convolutions", OneDNNEnvVar)
	}
	if c, _ := New(); c.OneDNN() {
		t.Errorf("Choice.OneDNN true with %s=0", OneDNNEnvVar)
	}
	t.Setenv(EnvVar, "go")
	if c, _ := New(); c.OneDNN() {
		t.Error("Choice.OneDNN true on the pure-Go backend")
	}
}

// The oneDNN custom call must compute what XLA's convolution computes: forward, and the
// gradients wrt input and kernel (the input gradient is itself a convolution that goes to
// oneDNN; the kernel gradient, with the map as window, stays XLA's), for "same" 3x3
// convolutions, strides, dilations and a 1x1 kernel.
func TestOneDNNConvolutionsMatchXLA(t *testing.T) {
	xb := xlaCPU(t)
	type conv struct {
		name             string
		x, k             []int
		stride, dilation int
	}
	for _, c := range []conv{
		{"3x3 same", []int{2, 9, 9, 48}, []int{3, 3, 48, 40}, 1, 1},
		{"3x3 stride 2", []int{2, 13, 13, 16}, []int{3, 3, 16, 8}, 2, 1},
		{"3x3 dilation 2", []int{2, 9, 9, 16}, []int{3, 3, 16, 8}, 1, 2},
		{"1x1", []int{2, 7, 7, 6}, []int{1, 1, 6, 4}, 1, 1},
	} {
		x, k := randTensor(c.x...), randTensor(c.k...)
		fn := func(x, k *Node) []*Node {
			cb := Convolve(x, k).PadSame().StridePerAxis(c.stride, c.stride)
			if c.dilation > 1 {
				cb = cb.DilationPerAxis(c.dilation, c.dilation)
			}
			y := cb.Done()
			loss := ReduceAllSum(Mul(y, Sin(y)))
			g := Gradient(loss, x, k)
			return []*Node{y, g[0], g[1]}
		}
		var outs [2][][]float32
		for i, onednn := range []bool{false, true} {
			xb.SetCPUConvolutionWithOneDNN(onednn)
			for _, r := range MustNewExec(xb, fn).MustExec(x, k) {
				outs[i] = append(outs[i], tensors.MustCopyFlatData[float32](r))
			}
		}
		xb.SetCPUConvolutionWithOneDNN(true)
		for j, what := range []string{"output", "input gradient", "kernel gradient"} {
			diff, scale := maxDiff(outs[0][j], outs[1][j])
			if diff > 1e-5*scale+1e-6 {
				t.Errorf("%s: %s differs by %g (largest value %g)", c.name, what, diff, scale)
			}
			// oneDNN sums in another order than Eigen: bitwise-equal outputs on 48 input
			// channels would mean the custom call was not used.
			if c.name == "3x3 same" && what == "output" && diff == 0 {
				t.Errorf("%s: output bitwise equal to XLA's: oneDNN convolution not used?", c.name)
			}
		}
	}
}

// maxDiff returns the largest absolute difference between a and b, and the largest |a|.
func maxDiff(a, b []float32) (diff, scale float64) {
	for i := range a {
		diff = math.Max(diff, math.Abs(float64(a[i]-b[i])))
		scale = math.Max(scale, math.Abs(float64(a[i])))
	}
	return diff, scale
}

func randTensor(dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	r := rand.New(rand.NewPCG(uint64(n), 3))
	for i := range v {
		v[i] = r.Float32() - 0.5
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}
