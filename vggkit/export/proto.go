package export

// The ONNX protobuf messages, encoded by hand with protowire. The generated ONNX Go
// protos in the GoMLX modules (onnx-gomlx, compute-onnx) live in internal packages that
// cannot be imported, and the export needs only a small subset of onnx.proto; the field
// numbers below are onnx.proto's (ONNX 1.12+, IR version 8) and must not change.

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// ONNX's TensorProto.DataType values used here.
const (
	onnxFloat = 1
	onnxUint8 = 2
	onnxInt64 = 7
)

// AttributeProto.AttributeType values.
const (
	attrFloat = 1
	attrInt   = 2
	attrInts  = 7
)

// tensorProto is an initializer: a named constant in raw little-endian bytes.
type tensorProto struct {
	name     string
	dims     []int64
	dataType int32
	raw      []byte
}

func floatTensor(name string, dims []int64, v []float32) tensorProto {
	raw := make([]byte, 0, 4*len(v))
	for _, x := range v {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(x))
	}
	return tensorProto{name: name, dims: dims, dataType: onnxFloat, raw: raw}
}

func int64Tensor(name string, v ...int64) tensorProto {
	raw := make([]byte, 0, 8*len(v))
	for _, x := range v {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(x))
	}
	return tensorProto{name: name, dims: []int64{int64(len(v))}, dataType: onnxInt64, raw: raw}
}

func (t tensorProto) encode() []byte {
	var b []byte
	b = appendPackedInts(b, 1, t.dims)                                                  // dims
	b = appendVarint(b, 2, uint64(t.dataType))                                          // data_type
	b = appendString(b, 8, t.name)                                                      // name
	return protowire.AppendBytes(protowire.AppendTag(b, 9, protowire.BytesType), t.raw) // raw_data
}

// attribute is a node attribute: one of float, int or ints, as kind says.
type attribute struct {
	name string
	kind int
	f    float32
	ints []int64 // one value for attrInt
}

func (a attribute) encode() []byte {
	b := appendString(nil, 1, a.name)
	switch a.kind {
	case attrFloat:
		b = protowire.AppendFixed32(protowire.AppendTag(b, 2, protowire.Fixed32Type), math.Float32bits(a.f))
	case attrInt:
		b = appendVarint(b, 3, uint64(a.ints[0]))
	case attrInts:
		b = appendPackedInts(b, 8, a.ints)
	}
	return appendVarint(b, 20, uint64(a.kind)) // type
}

// nodeProto is one operator application.
type nodeProto struct {
	op, name       string
	inputs, output []string
	attrs          []attribute
}

func (n nodeProto) encode() []byte {
	var b []byte
	for _, in := range n.inputs {
		b = appendString(b, 1, in)
	}
	for _, out := range n.output {
		b = appendString(b, 2, out)
	}
	b = appendString(b, 3, n.name)
	b = appendString(b, 4, n.op)
	for _, a := range n.attrs {
		b = appendMessage(b, 5, a.encode())
	}
	return b
}

// valueInfo is a graph input or output: a tensor type whose dimensions are sizes, or,
// where dims is negative, the symbolic name in params (a dynamic batch).
type valueInfo struct {
	name     string
	dataType int32
	dims     []int64
	params   []string
}

func (v valueInfo) encode() []byte {
	var shape []byte
	for i, d := range v.dims {
		var dim []byte
		if d < 0 {
			dim = appendString(nil, 2, v.params[i]) // dim_param
		} else {
			dim = appendVarint(nil, 1, uint64(d)) // dim_value
		}
		shape = appendMessage(shape, 1, dim)
	}
	tensor := appendVarint(nil, 1, uint64(v.dataType)) // elem_type
	tensor = appendMessage(tensor, 2, shape)           // shape
	typ := appendMessage(nil, 1, tensor)               // TypeProto.tensor_type
	return appendMessage(appendString(nil, 1, v.name), 2, typ)
}

// graphProto and modelProto: the file.
type graphProto struct {
	name            string
	nodes           []nodeProto
	initializers    []tensorProto
	inputs, outputs []valueInfo
}

func (g graphProto) encode() []byte {
	var b []byte
	for _, n := range g.nodes {
		b = appendMessage(b, 1, n.encode())
	}
	b = appendString(b, 2, g.name)
	for _, t := range g.initializers {
		b = appendMessage(b, 5, t.encode())
	}
	for _, v := range g.inputs {
		b = appendMessage(b, 11, v.encode())
	}
	for _, v := range g.outputs {
		b = appendMessage(b, 12, v.encode())
	}
	return b
}

type modelProto struct {
	irVersion, opset int64
	producer         string
	graph            graphProto
	metadata         [][2]string // key, value
}

func (m modelProto) encode() []byte {
	b := appendVarint(nil, 1, uint64(m.irVersion)) // ir_version
	b = appendString(b, 2, m.producer)             // producer_name
	b = appendMessage(b, 7, m.graph.encode())      // graph
	opset := appendString(nil, 1, "")              // domain: the default ("ai.onnx")
	b = appendMessage(b, 8, appendVarint(opset, 2, uint64(m.opset)))
	for _, kv := range m.metadata {
		b = appendMessage(b, 14, appendString(appendString(nil, 1, kv[0]), 2, kv[1]))
	}
	return b
}

func appendVarint(b []byte, field protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, field, protowire.VarintType), v)
}

func appendString(b []byte, field protowire.Number, s string) []byte {
	return protowire.AppendString(protowire.AppendTag(b, field, protowire.BytesType), s)
}

func appendMessage(b []byte, field protowire.Number, msg []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, field, protowire.BytesType), msg)
}

func appendPackedInts(b []byte, field protowire.Number, v []int64) []byte {
	var packed []byte
	for _, x := range v {
		packed = protowire.AppendVarint(packed, uint64(x))
	}
	return appendMessage(b, field, packed)
}
