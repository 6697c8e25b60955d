package xla

// vggkit patch (see third_party/README.md): XLA CPU's oneDNN convolution, reached through
// the `__onednn$convolution` custom call of the xla-cpu-pjrt plugin. XLA's own CPU
// convolution (Eigen) is 1.2-2.9x slower than oneDNN's on the convolutions of VGG's
// forward pass and input gradient; XLA no longer rewrites convolutions to oneDNN itself.

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/go-xla/stablehlo"
	stablehloshapes "github.com/gomlx/go-xla/types/shapes"
)

// minOneDNNMap is the smallest output map side given to oneDNN: on VGG's 4x4 maps (512
// channels) XLA's own convolution was faster (1/0.86), from 6x6 up oneDNN (1.2-2.9x).
const minOneDNNMap = 6

// oneDNNConvolution returns conv written as the oneDNN custom call, or nil when oneDNN is
// not enabled on this backend or is not a good fit for this convolution: only f32 2D
// convolutions without input dilation or grouping, whose window is no larger than their
// output (a kernel gradient written as a convolution, with the whole map as its window,
// is faster in XLA's own form) and whose output map is at least minOneDNNMap wide.
func (f *Function) oneDNNConvolution(input, kernel *Node, conv *stablehlo.Value, axes compute.ConvolveAxesConfig,
	strides []int, paddings [][2]int, inputDilations, kernelDilations []int, channelGroupCount, batchGroupCount int) (*stablehlo.Value, error) {
	if !f.builder.backend.CPUConvolutionWithOneDNN || input.shape.Rank() != 4 ||
		input.shape.DType != dtypes.Float32 || kernel.shape.DType != dtypes.Float32 ||
		channelGroupCount != 1 || batchGroupCount != 1 {
		return nil, nil
	}
	out := conv.Shape()
	if out.Size() == 0 || input.shape.Size() == 0 || kernel.shape.Size() == 0 {
		return nil, nil
	}
	for i := range 2 {
		if inputDilations[i] != 1 || paddings[i][0] < 0 || paddings[i][1] < 0 ||
			kernel.shape.Dimensions[axes.KernelSpatial[i]] > out.Dimensions[axes.OutputSpatial[i]] ||
			out.Dimensions[axes.OutputSpatial[i]] < minOneDNNMap {
			return nil, nil
		}
	}
	// xla.cpu.BackendConfig as JSON. The encoding was established against the plugin
	// (bench/convops/onednn): axes 0-based; padding, strides and dilations as XLA gives them.
	list := func(v []int) string { return strings.Trim(strings.Join(strings.Fields(fmt.Sprint(v)), ", "), "[]") }
	window := []int{kernel.shape.Dimensions[axes.KernelSpatial[0]], kernel.shape.Dimensions[axes.KernelSpatial[1]]}
	config := fmt.Sprintf(`{"onednn_conv_config": {"dims": 4, "feature_groups": 1,`+
		`"input": {"dims": 4, "data": {"batch_dim": %d, "feature_dim": %d, "spatial_dims": [%s]}},`+
		`"kernel": {"dims": 4, "filter": {"input_feature_dim": %d, "output_feature_dim": %d, "spatial_dims": [%s]}},`+
		`"output": {"dims": 4, "data": {"batch_dim": %d, "feature_dim": %d, "spatial_dims": [%s]}},`+
		`"window": {"size": [%s], "pad_left": [%d, %d], "pad_right": [%d, %d], "strides": [%s], "window_dilations": [%s]}}}`,
		axes.InputBatch, axes.InputChannels, list(axes.InputSpatial),
		axes.KernelInputChannels, axes.KernelOutputChannels, list(axes.KernelSpatial),
		axes.OutputBatch, axes.OutputChannels, list(axes.OutputSpatial),
		list(window), paddings[0][0], paddings[1][0], paddings[0][1], paddings[1][1], list(strides), list(kernelDilations))
	outs, err := stablehlo.CustomCallV2("__onednn$convolution", config, []*stablehlo.Value{input.value, kernel.value},
		nil, []stablehloshapes.Shape{out}, nil)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// SetCPUConvolutionWithOneDNN sets CPUConvolutionWithOneDNN. vggkit reaches the patch
// through these two methods (an interface), so that it still builds, without oneDNN, where
// a module that imports it gets upstream go-xla (go.mod replaces do not carry over).
func (backend *Backend) SetCPUConvolutionWithOneDNN(on bool) { backend.CPUConvolutionWithOneDNN = on }

// CPUConvolutionsWithOneDNN reports CPUConvolutionWithOneDNN.
func (backend *Backend) CPUConvolutionsWithOneDNN() bool { return backend.CPUConvolutionWithOneDNN }
