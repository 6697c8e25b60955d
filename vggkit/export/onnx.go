// Package export writes a trained VGG in formats other programs serve: ONNX, for ONNX
// Runtime, Triton and the rest of that ecosystem.
package export

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// Opset and IR version of the files written: opset 17 (ReduceMean still takes its axes
// as an attribute) and IR 8, its IR version; ONNX Runtime 1.12 and later run them.
const (
	Opset     = 17
	IRVersion = 8
)

// Names of the graph's input and output.
const (
	InputName  = "images"
	OutputName = "logits"
)

// ONNX writes the model m (a checkpoint's configuration) with the variables vars (as
// training.Learner.Variables names them) as an ONNX model to w.
//
// The graph takes "images": uint8 [N, InputSize, InputSize, channels], channels last as
// vggkit's data, N free. The graph does not resize: the caller brings images to
// InputSize first (`vggkit predict` brings files to the training images' size, the same
// as InputSize unless the model was trained on images of another size). The
// normalisation ((x/255 - mean) / std, vgg.Normalization), the trunk and the head
// (evaluation mode: batch-norm running statistics, no dropout) are inside; the output is
// "logits": float32 [N, classes]. classes (nil allowed) are stored, with the
// normalisation, input size and configuration, in the model's metadata_props. The graph
// computes in float32 whatever m.Precision: bf16 training keeps float32 weights.
func ONNX(w io.Writer, m config.Model, channels int, classes []string, vars map[string]*tensors.Tensor) error {
	m = m.Resolve()
	if err := check(m, channels, classes); err != nil {
		return err
	}
	mean, std, _ := vgg.Normalization(m, channels)
	b := &builder{vars: vars, graph: graphProto{name: m.Name()}}
	x := b.preprocess(mean, std)
	x, size := b.features(m, x, channels)
	b.head(m, x, size)
	if b.err != nil {
		return b.err
	}
	b.graph.inputs = []valueInfo{{name: InputName, dataType: onnxUint8,
		dims: []int64{-1, int64(m.InputSize), int64(m.InputSize), int64(channels)}, params: []string{"N"}}}
	b.graph.outputs = []valueInfo{{name: OutputName, dataType: onnxFloat,
		dims: []int64{-1, int64(m.Classes)}, params: []string{"N"}}}
	meta, err := metadata(m, channels, classes, mean, std)
	if err != nil {
		return err
	}
	file := modelProto{irVersion: IRVersion, opset: Opset, producer: "vggkit", graph: b.graph, metadata: meta}
	_, err = w.Write(file.encode())
	return err
}

func check(m config.Model, channels int, classes []string) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("export: model: %w", err)
	}
	if err := vgg.CheckInput(m, channels); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if m.Classes < 1 {
		return fmt.Errorf("export: model has %d classes", m.Classes)
	}
	if classes != nil && len(classes) != m.Classes {
		return fmt.Errorf("export: %d class names for a model of %d classes", len(classes), m.Classes)
	}
	return nil
}

// metadata is what a server needs besides the graph: the class names to label the
// logits, and how the input was made (kept for the record: the graph applies it).
func metadata(m config.Model, channels int, classes []string, mean, std []float32) ([][2]string, error) {
	js := func(v any) string { s, _ := json.Marshal(v); return string(s) }
	model, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("export: configuration: %w", err)
	}
	if classes == nil {
		classes = []string{}
	}
	return [][2]string{
		{"classes", js(classes)},
		{"mean", js(mean)},
		{"std", js(std)},
		{"input_size", strconv.Itoa(m.InputSize)},
		{"channels", strconv.Itoa(channels)},
		{"input_layout", "NHWC uint8, resized to input_size x input_size by the caller"},
		{"arch", arch(m)},
		{"name", m.Name()},
		{"vggkit_model", string(model)},
	}, nil
}

// arch is torchvision's name of the variant: vgg16, vgg16_bn.
func arch(m config.Model) string {
	if m.BatchNorm {
		return m.Arch + "_bn"
	}
	return m.Arch
}
