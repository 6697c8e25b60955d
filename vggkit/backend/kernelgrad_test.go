package backend

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/cpukernels"
)

// On an AVX-512 machine, XLA CPU computes convolution kernel gradients with vggkit's kernel,
// unless VGGKIT_KERNELGRAD=0.
func TestKernelGradOnByDefaultOnXLACPU(t *testing.T) {
	xb := xlaCPU(t)
	if !cpukernels.KernelGradSupported() {
		if xb.CPUConvKernelGradient() != "" {
			t.Fatal("kernel-gradient custom call set on a CPU without AVX-512F")
		}
		t.Skip("no AVX-512F: XLA's own kernel gradients")
	}
	if got := xb.CPUConvKernelGradient(); got != cpukernels.KernelGradTarget {
		t.Fatalf("kernel-gradient target %q, want %q", got, cpukernels.KernelGradTarget)
	}
	if c, _ := New(); func() bool { on, err := c.KernelGrad(); return !on || err != nil }() {
		t.Error("Choice.KernelGrad false on XLA CPU")
	}
	t.Setenv(KernelGradEnvVar, "0")
	if xlaCPU(t).CPUConvKernelGradient() != "" {
		t.Errorf("%s=0 did not keep XLA's own kernel gradients", KernelGradEnvVar)
	}
	t.Setenv(EnvVar, "go")
	if c, _ := New(); func() bool { on, _ := c.KernelGrad(); return on }() {
		t.Error("Choice.KernelGrad true on the pure-Go backend")
	}
}

// The custom call must give the kernel gradient XLA gives (and leave the other gradient
// and convolutions alone): "same" 3x3 convolutions on VGG-like shapes, a valid (unpadded)
// one, and ones it must leave to XLA (strided, 8 output channels, 1x1, 512x512 channels).
func TestKernelGradMatchesXLA(t *testing.T) {
	xb := xlaCPU(t)
	if xb.CPUConvKernelGradient() == "" {
		t.Skip("kernel-gradient custom call not in use (no AVX-512F)")
	}
	type conv struct {
		name   string
		x, k   []int
		stride int
		valid  bool
		custom bool // whether the custom call should take the kernel gradient
	}
	for _, c := range []conv{
		{"3x3 same, 3->16", []int{4, 12, 12, 3}, []int{3, 3, 3, 16}, 1, false, true},
		{"3x3 same, 40->64", []int{3, 9, 7, 40}, []int{3, 3, 40, 64}, 1, false, true},
		{"3x3 same, 2x2 map", []int{8, 2, 2, 32}, []int{3, 3, 32, 32}, 1, false, true},
		{"3x3 valid", []int{2, 8, 8, 16}, []int{3, 3, 16, 16}, 1, true, true},
		{"3x3 stride 2", []int{2, 13, 13, 16}, []int{3, 3, 16, 16}, 2, false, false},
		{"8 output channels", []int{2, 6, 6, 8}, []int{3, 3, 8, 8}, 1, false, false},
		{"1x1", []int{2, 7, 7, 6}, []int{1, 1, 6, 16}, 1, false, false},
		{"512->512 (XLA's form is faster)", []int{2, 4, 4, 512}, []int{3, 3, 512, 512}, 1, false, false},
	} {
		x, k := randTensor(c.x...), randTensor(c.k...)
		fn := func(x, k *Node) []*Node {
			cb := Convolve(x, k).StridePerAxis(c.stride, c.stride)
			if c.valid {
				cb = cb.NoPadding()
			} else {
				cb = cb.PadSame()
			}
			y := cb.Done()
			g := Gradient(ReduceAllSum(Mul(y, Sin(y))), x, k)
			return []*Node{y, g[0], g[1]}
		}
		var outs [2][][]float32
		for i, target := range []string{"", cpukernels.KernelGradTarget} {
			if err := xb.SetCPUConvKernelGradient(target, nil, cpukernels.KernelGradFits); err != nil {
				t.Fatal(err)
			}
			for _, r := range MustNewExec(xb, fn).MustExec(x, k) {
				outs[i] = append(outs[i], tensors.MustCopyFlatData[float32](r))
			}
		}
		for j, what := range []string{"output", "input gradient", "kernel gradient"} {
			a, b := outs[0][j], outs[1][j]
			var diff, scale float64
			for i := range a {
				diff = math.Max(diff, math.Abs(float64(a[i]-b[i])))
				scale = math.Max(scale, math.Abs(float64(a[i])))
			}
			if diff > 1e-5*scale+1e-6 {
				t.Errorf("%s: %s differs by %g (largest value %g)", c.name, what, diff, scale)
			}
			// The kernel sums in another order than XLA: a bitwise-equal kernel gradient
			// means the custom call did not run, unequal means it ran.
			if what == "kernel gradient" && (diff != 0) != c.custom {
				t.Errorf("%s: custom call used = %v, want %v", c.name, diff != 0, c.custom)
			}
		}
	}
}
