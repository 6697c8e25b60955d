package export

import (
	"fmt"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
)

// builder collects the ONNX graph's nodes and initializers. The first error (a missing
// or misshapen variable) sticks, so the layer functions read as straight-line code.
type builder struct {
	graph graphProto
	vars  map[string]*tensors.Tensor
	err   error
}

// op adds a node with a fresh output name and returns that name.
func (b *builder) op(op string, inputs []string, attrs ...attribute) string {
	return b.opTo(fmt.Sprintf("%s_%d", op, len(b.graph.nodes)), op, inputs, attrs...)
}

// opTo adds a node whose output is named out (a graph output).
func (b *builder) opTo(out, op string, inputs []string, attrs ...attribute) string {
	b.graph.nodes = append(b.graph.nodes, nodeProto{op: op, name: out, inputs: inputs, output: []string{out}, attrs: attrs})
	return out
}

// constant adds an initializer and returns its name.
func (b *builder) constant(t tensorProto) string {
	b.graph.initializers = append(b.graph.initializers, t)
	return t.name
}

// variable returns the float32 values of a model variable, checking its shape.
func (b *builder) variable(path string, dims ...int) []float32 {
	if b.err != nil {
		return nil
	}
	t, ok := b.vars[path]
	switch {
	case !ok:
		b.err = fmt.Errorf("export: variable %s missing (was the model built before its variables were read?)", path)
	case t.DType() != dtypes.Float32:
		b.err = fmt.Errorf("export: variable %s is %s, want float32", path, t.DType())
	case !slices.Equal(t.Shape().Dimensions, dims):
		b.err = fmt.Errorf("export: variable %s has shape %v, the configuration wants %v", path, t.Shape().Dimensions, dims)
	default:
		v, err := tensors.CopyFlatData[float32](t)
		if err != nil {
			b.err = fmt.Errorf("export: variable %s: %w", path, err)
		}
		return v
	}
	return nil
}

// weights adds a model variable as an initializer of the given ONNX dims.
func (b *builder) weights(path string, dims []int64, values []float32) string {
	if b.err != nil {
		return path
	}
	return b.constant(floatTensor(path, dims, values))
}

func floatAttr(name string, v float64) attribute {
	return attribute{name: name, kind: attrFloat, f: float32(v)}
}

func intAttr(name string, v int64) attribute {
	return attribute{name: name, kind: attrInt, ints: []int64{v}}
}

func intsAttr(name string, v ...int64) attribute {
	return attribute{name: name, kind: attrInts, ints: v}
}
