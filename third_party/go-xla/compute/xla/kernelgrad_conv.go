package xla

// vggkit patch (see third_party/README.md): the kernel gradient of 2D convolutions on XLA
// CPU through a typed-FFI custom call registered by the program (vggkit registers its own
// kernel). XLA lowers that gradient to two transposes and a convolution whose window is
// the whole feature map, 2.5-4x slower than a dedicated kernel on VGG's large early maps.

import (
	"unsafe"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/go-xla/stablehlo"
	stablehloshapes "github.com/gomlx/go-xla/types/shapes"
	"github.com/pkg/errors"
)

// SetCPUConvKernelGradient registers handler (an XLA_FFI_Handler*; nil: registered
// before, as XLA's registry is process-wide) with the plugin as the custom-call target
// `target` on platform "host" (XLA CPU's canonical name), and from then on emits the kernel
// gradient of f32 2D convolutions as that call, where the convolution has the form
// below. The handler's contract: operands x [N,H,W,C] and dy [N,Ho,Wo,K] (row-major),
// result dW [KH,3,C,K] (row-major) = the gradient of a stride-1, undilated convolution
// with symmetric padding p = (Ho-H+KH-1)/2 (rows) and (Wo-W+2)/2 (columns), in NHWC/HWIO.
//
// fits(x, dy) says which shapes the handler takes (nil: all of the form above).
func (backend *Backend) SetCPUConvKernelGradient(target string, handler unsafe.Pointer, fits func(x, dy []int) bool) error {
	if handler != nil {
		if err := backend.plugin.RegisterFFIHandler(target, "host", handler); err != nil {
			return err
		}
	}
	backend.cpuConvKernelGradTarget = target
	backend.cpuConvKernelGradFits = fits
	return nil
}

// CPUConvKernelGradient returns the target set by SetCPUConvKernelGradient, or "".
func (backend *Backend) CPUConvKernelGradient() string { return backend.cpuConvKernelGradTarget }

// kernelGradCall returns the convolution as the kernel-gradient custom call, or nil when
// none is set or the convolution is not the kernel gradient of a supported one. GoMLX
// writes that gradient (convVJPWrtKernel) as a convolution of x [N,H,W,C] with the output
// gradient dy [N,Ho,Wo,K] as its kernel: x's channels as batch, N as the contracted
// feature, and the result [KH,KW,C,K]; the original strides become its dilations.
func (f *Function) kernelGradCall(input, kernel *Node, conv *stablehlo.Value, axes compute.ConvolveAxesConfig,
	strides []int, paddings [][2]int, inputDilations, kernelDilations []int, channelGroupCount, batchGroupCount int) (*stablehlo.Value, error) {
	target := f.builder.backend.cpuConvKernelGradTarget
	if target == "" || input.shape.Rank() != 4 || input.shape.DType != dtypes.Float32 ||
		kernel.shape.DType != dtypes.Float32 || channelGroupCount != 1 || batchGroupCount != 1 {
		return nil, nil
	}
	if axes.InputBatch != 3 || axes.InputChannels != 0 || !sameInts(axes.InputSpatial, 1, 2) ||
		axes.KernelInputChannels != 0 || axes.KernelOutputChannels != 3 || !sameInts(axes.KernelSpatial, 1, 2) ||
		axes.OutputBatch != 2 || axes.OutputChannels != 3 || !sameInts(axes.OutputSpatial, 0, 1) ||
		!sameInts(strides, 1, 1) || !sameInts(inputDilations, 1, 1) || !sameInts(kernelDilations, 1, 1) {
		return nil, nil
	}
	out := conv.Shape()
	x, dy := input.shape.Dimensions, kernel.shape.Dimensions
	if out.Rank() != 4 || out.Dimensions[1] != 3 || x[0] != dy[0] || x[0] == 0 ||
		out.Dimensions[2] != x[3] || out.Dimensions[3] != dy[3] {
		return nil, nil
	}
	for i := range 2 {
		// Symmetric padding, which the handler infers from the shapes.
		if paddings[i][0] != paddings[i][1] || paddings[i][0] < 0 ||
			dy[1+i] != x[1+i]+2*paddings[i][0]-out.Dimensions[i]+1 {
			return nil, nil
		}
	}
	if fits := f.builder.backend.cpuConvKernelGradFits; fits != nil && !fits(x, dy) {
		return nil, nil
	}
	outs, err := stablehlo.CustomCallTypedFFI(target, []*stablehlo.Value{input.value, kernel.value},
		[]stablehloshapes.Shape{out})
	if err != nil {
		return nil, errors.WithMessagef(err, "kernel gradient custom call %q", target)
	}
	return outs[0], nil
}

// SetCPUConvolution registers handler and handlerTransposed (XLA_FFI_Handler*; nil:
// registered before) as the custom-call targets `target` and `targetTransposed` on
// platform "host", and from then on emits as those calls the f32 2D convolutions of the
// forward form: x [N,H,W,C] with a kernel [KH,KW,C,K] (target) or [KH,KW,K,C]
// (targetTransposed: GoMLX's input gradient, whose kernel is the reversed original with
// its channel axes swapped), giving [N,Ho,Wo,K], stride 1, undilated, symmetric padding
// (which the handler infers from the shapes). fits(x, y) narrows the shapes (nil: all).
func (backend *Backend) SetCPUConvolution(target, targetTransposed string, handler, handlerTransposed unsafe.Pointer,
	fits func(x, y []int) bool) error {
	for _, h := range []struct {
		target  string
		handler unsafe.Pointer
	}{{target, handler}, {targetTransposed, handlerTransposed}} {
		if h.handler != nil {
			if err := backend.plugin.RegisterFFIHandler(h.target, "host", h.handler); err != nil {
				return err
			}
		}
	}
	backend.cpuConvTargets = [2]string{target, targetTransposed}
	backend.cpuConvFits = fits
	return nil
}

// CPUConvolution returns the targets set by SetCPUConvolution, or "".
func (backend *Backend) CPUConvolution() (target, targetTransposed string) {
	return backend.cpuConvTargets[0], backend.cpuConvTargets[1]
}

// convCall returns the convolution as the custom call set by SetCPUConvolution, or nil
// when none is set or the convolution does not have that form.
func (f *Function) convCall(input, kernel *Node, conv *stablehlo.Value, axes compute.ConvolveAxesConfig,
	strides []int, paddings [][2]int, inputDilations, kernelDilations []int, channelGroupCount, batchGroupCount int) (*stablehlo.Value, error) {
	targets := f.builder.backend.cpuConvTargets
	if targets[0] == "" || input.shape.Rank() != 4 || input.shape.DType != dtypes.Float32 ||
		kernel.shape.DType != dtypes.Float32 || channelGroupCount != 1 || batchGroupCount != 1 {
		return nil, nil
	}
	if axes.InputBatch != 0 || axes.InputChannels != 3 || !sameInts(axes.InputSpatial, 1, 2) ||
		axes.OutputBatch != 0 || axes.OutputChannels != 3 || !sameInts(axes.OutputSpatial, 1, 2) ||
		!sameInts(axes.KernelSpatial, 0, 1) || !sameInts(strides, 1, 1) || !sameInts(inputDilations, 1, 1) || !sameInts(kernelDilations, 1, 1) {
		return nil, nil
	}
	target := ""
	switch {
	case axes.KernelInputChannels == 2 && axes.KernelOutputChannels == 3:
		target = targets[0]
	case axes.KernelInputChannels == 3 && axes.KernelOutputChannels == 2:
		target = targets[1]
	default:
		return nil, nil
	}
	out := conv.Shape()
	x, k := input.shape.Dimensions, kernel.shape.Dimensions
	if out.Rank() != 4 || x[0] == 0 || out.Dimensions[0] != x[0] {
		return nil, nil
	}
	for i := range 2 {
		if paddings[i][0] != paddings[i][1] || paddings[i][0] < 0 ||
			out.Dimensions[1+i] != x[1+i]+2*paddings[i][0]-k[i]+1 {
			return nil, nil
		}
	}
	if fits := f.builder.backend.cpuConvFits; fits != nil && !fits(x, out.Dimensions) {
		return nil, nil
	}
	outs, err := stablehlo.CustomCallTypedFFI(target, []*stablehlo.Value{input.value, kernel.value},
		[]stablehloshapes.Shape{out})
	if err != nil {
		return nil, errors.WithMessagef(err, "convolution custom call %q", target)
	}
	return outs[0], nil
}

// sameInts reports whether got holds exactly want.
func sameInts(got []int, want ...int) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}
