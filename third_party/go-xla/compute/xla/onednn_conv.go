package xla

// vggkit patch (see third_party/README.md): XLA CPU's oneDNN convolution, reached through
// the `__onednn$convolution` custom call of the xla-cpu-pjrt plugin. XLA's own CPU
// convolution (Eigen) is 1.2-2.9x slower than oneDNN's on the convolutions of VGG's
// forward pass and input gradient; XLA no longer rewrites convolutions to oneDNN itself.

import (
	"encoding/json"

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
	window := []int{kernel.shape.Dimensions[axes.KernelSpatial[0]], kernel.shape.Dimensions[axes.KernelSpatial[1]]}
	config := OneDNNConvolutionConfig(axes, window, strides, paddings, kernelDilations)
	outs, err := stablehlo.CustomCallV2("__onednn$convolution", config, []*stablehlo.Value{input.value, kernel.value},
		nil, []stablehloshapes.Shape{out}, nil)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// OneDNNConvolutionConfig is the backend_config (xla.cpu.BackendConfig as JSON) of the
// `__onednn$convolution` custom call for a 2D convolution. The encoding was established
// against the plugin (bench/convops/onednn), as XLA's sources differ between versions:
// axes 0-based; window, padding, strides and dilations as XLA gives them (dilation 1 =
// none).
func OneDNNConvolutionConfig(axes compute.ConvolveAxesConfig, window, strides []int, paddings [][2]int, dilations []int) string {
	data := func(batch, feature int, spatial []int) map[string]any {
		return map[string]any{"dims": 4, "data": map[string]any{"batch_dim": batch, "feature_dim": feature, "spatial_dims": spatial}}
	}
	config, err := json.Marshal(map[string]any{"onednn_conv_config": map[string]any{
		"dims": 4, "feature_groups": 1,
		"input": data(axes.InputBatch, axes.InputChannels, axes.InputSpatial),
		"kernel": map[string]any{"dims": 4, "filter": map[string]any{"input_feature_dim": axes.KernelInputChannels,
			"output_feature_dim": axes.KernelOutputChannels, "spatial_dims": axes.KernelSpatial}},
		"output": data(axes.OutputBatch, axes.OutputChannels, axes.OutputSpatial),
		"window": map[string]any{"size": window, "strides": strides, "window_dilations": dilations,
			"pad_left": []int{paddings[0][0], paddings[1][0]}, "pad_right": []int{paddings[0][1], paddings[1][1]}},
	}})
	if err != nil {
		panic(err) // maps of ints cannot fail to marshal
	}
	return string(config)
}

// SetCPUConvolutionWithOneDNN sets CPUConvolutionWithOneDNN. vggkit reaches the patch
// through these two methods (an interface), so that it still builds, without oneDNN, where
// a module that imports it gets upstream go-xla (go.mod replaces do not carry over).
func (backend *Backend) SetCPUConvolutionWithOneDNN(on bool) { backend.CPUConvolutionWithOneDNN = on }

// CPUConvolutionsWithOneDNN reports CPUConvolutionWithOneDNN.
func (backend *Backend) CPUConvolutionsWithOneDNN() bool { return backend.CPUConvolutionWithOneDNN }
