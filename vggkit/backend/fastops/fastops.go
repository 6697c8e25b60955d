// Package fastops holds the forms of VGG's primitives (vgg.Ops) that run faster on the CPU
// backends than GoMLX's own: a 3x3 convolution as im2col + one matmul (the pure-Go
// backend's native convolution is a scalar loop; XLA's CPU convolution is slow on VGG's
// smallest maps), a 2x2 max-pool as reshape + max, and a bias add whose gradient is a
// matrix-vector product. Each computes the same values and gradients as GoMLX's form,
// from the same variables.
//
// package backend picks them for the backend it chose (Choice.Ops); nothing here is global
// state, and nothing changes GoMLX's tables.
package fastops

import (
	. "github.com/gomlx/gomlx/core/graph"

	"github.com/vggkit/vggkit/vggkit/cpukernels"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// Conv names a form of the 3x3 convolutions; the values are VGGKIT_CONV's.
type Conv string

const (
	Native Conv = "native" // graph.Convolve: XLA maps it to cuDNN or oneDNN.
	Im2Col Conv = "im2col" // 9 shifted slices concatenated + one Dot: for the pure-Go backend.
	Hybrid Conv = "hybrid" // XLA on CPU: native on large maps, im2col on small ones (HybridMaxPixels).
)

// Platform is the kind of backend the forms are for, as backend.Choice names it.
type Platform string

const (
	Go            Platform = "go"          // GoMLX's pure-Go backend.
	XLACPU        Platform = "cpu"         // XLA on the CPU.
	XLACPUKernels Platform = "cpu+kernels" // XLA on the CPU, with vggkit's kernels (cpukernels) registered.
	XLAGPU        Platform = "cuda"        // XLA on a GPU (and any other accelerator).
)

// For returns the forms measured fastest on the platform. conv, when one of the Conv
// values, forces the form of the convolutions (benchmarks); "" or anything else keeps the
// platform's.
//
//   - Go: im2col convolutions (20-25x faster than its native one), reshape max-pool,
//     matmul bias gradient, batch norm from plain ops (it lacks the fused ones).
//   - XLA CPU: hybrid convolutions, reshape max-pool, matmul bias gradient, batch norm
//     from plain ops; with vggkit's kernels, native also on the small maps they take.
//   - XLA GPU: native convolutions, a plain bias add and GoMLX's fused batch norm; the
//     reshape max-pool, the form the GPU figures were measured with.
func For(p Platform, conv Conv) vgg.Ops {
	var ops vgg.Ops
	switch p {
	case Go:
		ops = vgg.Ops{Conv3x3: Im2ColConv3x3, AddBias: AddBiasMatmulGradient, MaxPool: MaxPool2x2, DecomposedBatchNorm: true}
	case XLACPU:
		ops = vgg.Ops{Conv3x3: HybridConv3x3, AddBias: AddBiasMatmulGradient, MaxPool: MaxPool2x2, DecomposedBatchNorm: true}
	case XLACPUKernels:
		ops = vgg.Ops{Conv3x3: HybridKernelsConv3x3, AddBias: AddBiasMatmulGradient, MaxPool: MaxPool2x2, DecomposedBatchNorm: true}
	default:
		ops = vgg.Ops{MaxPool: MaxPool2x2}
	}
	switch conv {
	case Native:
		ops.Conv3x3 = NativeConv3x3
	case Im2Col:
		ops.Conv3x3 = Im2ColConv3x3
	case Hybrid:
		ops.Conv3x3 = HybridConv3x3
	}
	return ops
}

// HybridMaxPixels is where Hybrid switches to im2col: XLA's CPU convolution is very slow
// on the 2x2 maps deep in VGG (VGG16 at 32 px, training: 18 img/s all native), and faster
// than im2col everywhere else. Measured on 2 cores, batch 32, img/s per threshold (2x2 /
// 4x4 / 8x8 maps and smaller as im2col): VGG16 at 32 px 70 / 63 / 45, VGG16/4 at 32 px
// 610 / 620 / 330; at 96 px the smallest map is 6x6 and all-native beats im2col there
// (9.4 against 7.8 img/s).
const HybridMaxPixels = 2 * 2

// NativeConv3x3 is GoMLX's convolution, "same" padding (vgg.Ops' default).
func NativeConv3x3(x, kernel *Node) *Node { return Convolve(x, kernel).PadSame().Done() }

// Im2ColConv3x3 is the 3x3 "same" convolution as one matmul of the im2col matrix with the
// kernel as a [9*Cin, Cout] matrix: it matches the native convolution to 3e-6.
func Im2ColConv3x3(x, kernel *Node) *Node {
	d, kd := x.Shape().Dimensions, kernel.Shape().Dimensions
	y := Dot(Im2ColMatrix(x), Reshape(kernel, 9*kd[2], kd[3])).Product()
	return Reshape(y, d[0], d[1], d[2], kd[3])
}

// HybridConv3x3 is NativeConv3x3 on maps of more than HybridMaxPixels pixels and
// Im2ColConv3x3 on the others.
func HybridConv3x3(x, kernel *Node) *Node {
	if NativeAt(Hybrid, x.Shape().Dimensions[1], x.Shape().Dimensions[2]) {
		return NativeConv3x3(x, kernel)
	}
	return Im2ColConv3x3(x, kernel)
}

// HybridKernelsConv3x3 is HybridConv3x3 where vggkit's kernels (cpukernels) run XLA's
// convolutions: native also on the smallest maps when the kernels take its forward and
// input gradient there. On 2x2 maps they beat im2col at every width: batch 32, 512
// channels, forward 1.0 against 2.8 ms and input gradient 2.0-3.4 against 7.2 ms, with
// XLA's own kernel gradient (512 channels) as fast as im2col's (1.9-3.2 against 2.2-3.0;
// bench/convops, VGGKIT_CONV=native against the default); 128 channels (width 1/4): 0.1
// ms forward against 0.45.
func HybridKernelsConv3x3(x, kernel *Node) *Node {
	d := x.Shape().Dimensions
	if NativeAt(Hybrid, d[1], d[2]) || KernelsTake(d, kernel.Shape().Dimensions[3]) {
		return NativeConv3x3(x, kernel)
	}
	return Im2ColConv3x3(x, kernel)
}

// KernelsTake reports whether vggkit's kernels run the forward and the input gradient of a
// 3x3 "same" convolution of x [B,H,W,Cin] to cout channels.
func KernelsTake(x []int, cout int) bool {
	y := []int{x[0], x[1], x[2], cout}
	return cpukernels.ConvFits(x, y) && cpukernels.ConvFits(y, x)
}

// NativeAt reports whether the form uses the backend's convolution on an h x w map
// (otherwise im2col + one matmul).
func NativeAt(form Conv, h, w int) bool {
	return form == Native || (form == Hybrid && h*w > HybridMaxPixels)
}

// Im2ColMatrix turns x [B,H,W,C] into the [B*H*W, 9*C] matrix of its 3x3 neighbourhoods
// (zero padded), columns in (dy, dx, c) order: the kernel's row-major order.
func Im2ColMatrix(x *Node) *Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	xp := vgg.PadZeros(x, 1)
	patches := make([]*Node, 0, 9)
	for dy := range 3 {
		for dx := range 3 {
			patches = append(patches, Slice(xp, AxisRange(), AxisRange(dy, dy+h), AxisRange(dx, dx+w), AxisRange()))
		}
	}
	return Reshape(Concatenate(patches, 3), b*h*w, 9*c)
}

// MaxPool2x2 is a 2x2, stride-2 max-pool written as reshape + max: identical to
// graph.MaxPool (values and gradient) and faster on the pure-Go backend. Odd sizes
// drop the last row/column, as PyTorch's floor mode does.
func MaxPool2x2(x *Node) *Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	if h%2 == 1 || w%2 == 1 {
		x = Slice(x, AxisRange(), AxisRange(0, h-h%2), AxisRange(0, w-w%2), AxisRange())
	}
	x = Reshape(x, b, h/2, 2, w/2, 2, c)
	return ReduceMax(x, 2, 4)
}
