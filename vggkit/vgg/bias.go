package vgg

import (
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// biasesByMatmul marks the broadcasts made by addBias whose gradient is a matrix-vector
// product; the mark is removed when the gradient is built.
var biasesByMatmul sync.Map // *Node -> struct{}

func init() {
	// GoMLX's table of gradients is meant to be changed; only marked nodes differ.
	broadcastVJP := VJPRegistration[NodeTypeBroadcastInDim]
	VJPRegistration[NodeTypeBroadcastInDim] = func(node *Node, v []*Node, s shapes.Shape) []*Node {
		if _, ok := biasesByMatmul.LoadAndDelete(node); !ok {
			return broadcastVJP(node, v, s)
		}
		return []*Node{sumOverPixels(v[0])}
	}
}

// addBias adds bias [C] to y [B,H,W,C]. With byMatmul (set while training on CPU) and f32,
// the bias gradient, the output gradient summed over B, H and W, is written as
// ones[B*H*W] . v[B*H*W, C]: XLA CPU sums over those axes about 8x slower than it
// multiplies (7.1 against 0.9 ms on [32,96,96,16]); the training step at 96 px, width 1/4,
// went from 75 to 81 img/s, at 32 px full width from 65 to 75 (medians of 4 alternating
// runs).
func addBias(y, bias *Node, byMatmul bool) *Node {
	d := y.Shape().Dimensions
	b := BroadcastToDims(Reshape(bias, 1, 1, 1, d[3]), d...)
	if byMatmul && y.DType() == dtypes.Float32 && b.Type() == NodeTypeBroadcastInDim {
		biasesByMatmul.Store(b, struct{}{})
	}
	return Add(y, b)
}

// sumOverPixels is v [B,H,W,C] summed to [1,1,1,C] by one matrix-vector product.
func sumOverPixels(v *Node) *Node {
	d := v.Shape().Dimensions
	n := d[0] * d[1] * d[2]
	ones := Ones(v.Graph(), shapes.Make(v.DType(), n))
	sum := DotGeneral(ones, []int{0}, nil, Reshape(v, n, d[3]), []int{0}, nil)
	return Reshape(sum, 1, 1, 1, d[3])
}
