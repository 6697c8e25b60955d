package vggkit

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/backend"
)

// ReceptiveField measures, rather than derives, the receptive field of n stacked 3x3
// convolutions (stride 1, "same" padding): a single bright pixel in the middle of an
// image is run through n convolutions with all-ones kernels in a compiled graph, and the
// side of the square it spreads over is returned. By symmetry, that is how far each
// output pixel looks back. VGG's argument: 1 + 2n, with 27C² weights for n = 3 against
// 49C² for one 7x7 layer.
func ReceptiveField(n int) (int, error) {
	b, err := backend.Shared()
	if err != nil {
		return 0, err
	}
	side := 4*n + 3
	impulse := tensors.FromShape(shapes.Make(dtypes.Float32, 1, side, side, 1))
	tensors.MustMutableFlatData[float32](impulse, func(f []float32) { f[(side/2)*side+side/2] = 1 })
	out, err := graph.ExecOnce(b.Backend, func(x *graph.Node) *graph.Node {
		k := graph.Ones(x.Graph(), shapes.Make(dtypes.Float32, 3, 3, 1, 1))
		for range n {
			x = graph.Convolve(x, k).PadSame().Done()
		}
		return x
	}, impulse)
	if err != nil {
		return 0, err
	}
	rows := map[int]bool{}
	for i, v := range tensors.MustCopyFlatData[float32](out) {
		if v != 0 {
			rows[i/side] = true
		}
	}
	return len(rows), nil
}
