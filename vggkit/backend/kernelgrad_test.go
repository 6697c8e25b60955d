package backend

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/cpukernels"
)

// On an AVX-512 machine, XLA CPU runs vggkit's kernels, unless VGGKIT_CPUKERNELS=0.
func TestCPUKernelsOnByDefaultOnXLACPU(t *testing.T) {
	xb := xlaCPU(t)
	if !cpukernels.Supported() {
		if xb.CPUConvKernelGradient() != "" {
			t.Fatal("kernel-gradient custom call set on a CPU without AVX-512F")
		}
		t.Skip("no AVX-512F: XLA's own convolutions")
	}
	if got := xb.CPUConvKernelGradient(); got != cpukernels.KernelGradTarget {
		t.Fatalf("kernel-gradient target %q, want %q", got, cpukernels.KernelGradTarget)
	}
	if a, b := xb.CPUConvolution(); a != cpukernels.ConvTarget || b != cpukernels.ConvTransposedTarget {
		t.Fatalf("convolution targets %q, %q", a, b)
	}
	if c, _ := New(); func() bool { on, err := c.CPUKernels(); return !on || err != nil }() {
		t.Error("Choice.CPUKernels false on XLA CPU")
	}
	t.Setenv(CPUKernelsEnvVar, "0")
	xb = xlaCPU(t)
	if a, _ := xb.CPUConvolution(); xb.CPUConvKernelGradient() != "" || a != "" {
		t.Errorf("%s=0 did not keep XLA's own convolutions", CPUKernelsEnvVar)
	}
	t.Setenv(EnvVar, "go")
	if c, _ := New(); func() bool { on, _ := c.CPUKernels(); return on }() {
		t.Error("Choice.CPUKernels true on the pure-Go backend")
	}
}

// setCPUKernels turns vggkit's kernels on or off on xb.
func setCPUKernels(t *testing.T, xb patchedXLA, on bool) {
	t.Helper()
	grad, conv, convT := "", "", ""
	if on {
		grad, conv, convT = cpukernels.KernelGradTarget, cpukernels.ConvTarget, cpukernels.ConvTransposedTarget
	}
	if err := xb.SetCPUConvKernelGradient(grad, nil, cpukernels.KernelGradFits); err != nil {
		t.Fatal(err)
	}
	if err := xb.SetCPUConvolution(conv, convT, nil, nil, cpukernels.ConvFits); err != nil {
		t.Fatal(err)
	}
}

// The custom calls must give what XLA gives, for the output and both gradients, and be
// used exactly where they should: the kernel gradient of "same" and valid 3x3 convolutions
// with output channels in 16s (up to 256x256 channel pairs), the convolution and its input
// gradient on maps up to 8x8 with output channels in 64s; not strided convolutions, nor 1x1
// kernel gradients.
func TestCPUKernelsMatchXLA(t *testing.T) {
	xb := xlaCPU(t)
	if xb.CPUConvKernelGradient() == "" {
		t.Skip("vggkit's kernels not in use (no AVX-512F)")
	}
	defer setCPUKernels(t, xb, true)
	type conv struct {
		name   string
		x, k   []int
		stride int
		valid  bool
		custom [3]bool // output, input gradient, kernel gradient: whether a vggkit kernel computes it
	}
	for _, c := range []conv{
		{"3x3 same, 3->16", []int{4, 12, 12, 3}, []int{3, 3, 3, 16}, 1, false, [3]bool{false, false, true}},
		{"3x3 same, 40->64 on 9x9", []int{3, 9, 9, 40}, []int{3, 3, 40, 64}, 1, false, [3]bool{false, false, true}},
		{"3x3 same, 40->64 on 8x7", []int{3, 8, 7, 40}, []int{3, 3, 40, 64}, 1, false, [3]bool{true, false, true}},
		{"3x3 same, 64->64 on 8x8", []int{3, 8, 8, 64}, []int{3, 3, 64, 64}, 1, false, [3]bool{true, true, true}},
		{"3x3 same, 32->128 on 4x4", []int{5, 4, 4, 32}, []int{3, 3, 32, 128}, 1, false, [3]bool{true, false, true}},
		{"3x3 same, 2x2 map", []int{8, 2, 2, 32}, []int{3, 3, 32, 32}, 1, false, [3]bool{false, false, true}},
		{"3x3 valid", []int{2, 8, 8, 16}, []int{3, 3, 16, 16}, 1, true, [3]bool{false, false, true}},
		{"3x3 stride 2", []int{2, 13, 13, 16}, []int{3, 3, 16, 16}, 2, false, [3]bool{false, false, false}},
		{"8 output channels", []int{2, 6, 6, 8}, []int{3, 3, 8, 8}, 1, false, [3]bool{false, false, false}},
		{"1x1", []int{2, 9, 9, 6}, []int{1, 1, 6, 16}, 1, false, [3]bool{false, false, false}},
		{"512->512 on 4x4", []int{2, 4, 4, 512}, []int{3, 3, 512, 512}, 1, false, [3]bool{true, true, false}},
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
		for i, on := range []bool{false, true} {
			setCPUKernels(t, xb, on)
			for _, r := range MustNewExec(xb, fn).MustExec(x, k) {
				outs[i] = append(outs[i], tensors.MustCopyFlatData[float32](r))
			}
		}
		for j, what := range []string{"output", "input gradient", "kernel gradient"} {
			diff, scale := maxDiff(outs[0][j], outs[1][j])
			// float32 sums of up to 4608 products, in another order: a few ulps of the largest.
			if diff > 3e-5*scale+1e-6 {
				t.Errorf("%s: %s differs by %g (largest value %g)", c.name, what, diff, scale)
			}
			// The kernels sum in another order than XLA: a bitwise-equal result means XLA
			// computed it, an unequal one that a vggkit kernel did. (The output feeds the
			// gradients, so they differ whenever it does: checked only where it does not.)
			if j == 0 || !c.custom[0] {
				if (diff != 0) != c.custom[j] {
					t.Errorf("%s: %s by a vggkit kernel = %v, want %v", c.name, what, diff != 0, c.custom[j])
				}
			}
		}
	}
}

// Called by XLA, the kernels split their work over XLA's own threads (vggkit's kept
// threads waited for cores that XLA's idle threads spun on), and executions running at once
// each get every job done: the same results, bit for bit, as one at a time.
func TestCPUKernelsFanOutOnXLAThreads(t *testing.T) {
	xb := xlaCPU(t)
	if xb.CPUConvKernelGradient() == "" {
		t.Skip("vggkit's kernels not in use (no AVX-512F)")
	}
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: the kernels do not fan out")
	}
	defer setCPUKernels(t, xb, true)
	setCPUKernels(t, xb, true)
	exec := MustNewExec(xb, func(x, k *Node) []*Node {
		y := Convolve(x, k).PadSame().Done()
		g := Gradient(ReduceAllSum(Mul(y, Sin(y))), x, k)
		return []*Node{y, g[0], g[1]}
	})
	x, k := randTensor(16, 4, 4, 64), randTensor(3, 3, 64, 128)
	run := func() [][]float32 {
		var out [][]float32
		for _, r := range exec.MustExec(x, k) {
			out = append(out, tensors.MustCopyFlatData[float32](r))
		}
		return out
	}
	before := cpukernels.XLAFanOuts()
	want := run()
	// Forward, input gradient and kernel gradient: three kernel calls, each fanned out.
	if got := cpukernels.XLAFanOuts() - before; got < 3 {
		t.Fatalf("%d kernel calls fanned out on XLA's threads, want at least 3", got)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 40)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				for i, o := range run() {
					if !slices.Equal(o, want[i]) {
						errs <- fmt.Sprintf("result %d differs when executions overlap", i)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
