package export

import (
	"fmt"

	"github.com/vggkit/vggkit/vggkit/config"
)

// head is vgg.Head on the NCHW feature map x (size x size); the last Gemm writes the
// graph's output.
func (b *builder) head(m config.Model, x string, size int) {
	c := m.Channels(512) // every configuration ends with 512 channels.
	if m.Head == config.HeadGAP {
		x = b.op("GlobalAveragePool", []string{x})
		x = b.op("Flatten", []string{x}, intAttr("axis", 1))
		b.dense("classifier/0", x, c, m.Classes, OutputName)
		return
	}
	x = b.adaptiveAvgPool(x, size, 7)
	// vggkit flattens [N,7,7,C] (H, W, C order): back to channels last first.
	x = b.op("Transpose", []string{x}, intsAttr("perm", 0, 2, 3, 1))
	x = b.op("Flatten", []string{x}, intAttr("axis", 1))
	in, hidden := 7*7*c, m.Channels(4096)
	for k := range 2 {
		x = b.op("Relu", []string{b.dense(fmt.Sprintf("classifier/%d", 3*k), x, in, hidden, "")})
		in = hidden // no dropout: evaluation mode.
	}
	b.dense("classifier/6", x, in, m.Classes, OutputName)
}

// dense is layers.DenseWithBias (its variables in scope/dense): x [N,in] times weights
// [in,out] plus biases. out names its output ("" for a fresh name).
func (b *builder) dense(scope, x string, in, outDim int, out string) string {
	scope += "/dense"
	w := b.weights(scope+"/weights", []int64{int64(in), int64(outDim)}, b.variable(scope+"/weights", in, outDim))
	bias := b.weights(scope+"/biases", []int64{int64(outDim)}, b.variable(scope+"/biases", outDim))
	if out == "" {
		return b.op("Gemm", []string{x, w, bias})
	}
	return b.opTo(out, "Gemm", []string{x, w, bias})
}

// adaptiveAvgPool is vgg.AdaptiveAvgPool on NCHW: PyTorch's bins, bin i covering
// [floor(i*size/n), ceil((i+1)*size/n)). The mean over a rectangle is the mean over its
// rows of the means over its columns, so the rows are pooled, then the columns: 2n
// slices rather than n*n.
func (b *builder) adaptiveAvgPool(x string, size, n int) string {
	if size == n {
		return x
	}
	for _, axis := range []int64{2, 3} {
		bins := make([]string, n)
		for i := range n {
			lo, hi := i*size/n, ((i+1)*size+n-1)/n
			s := b.op("Slice", []string{x, b.ints(int64(lo)), b.ints(int64(hi)), b.ints(axis)})
			bins[i] = b.op("ReduceMean", []string{s}, intsAttr("axes", axis), intAttr("keepdims", 1))
		}
		x = b.op("Concat", bins, intAttr("axis", axis))
	}
	return x
}

// ints adds a 1-D int64 constant (Slice takes its bounds as inputs) and returns its name.
func (b *builder) ints(v ...int64) string {
	return b.constant(int64Tensor(fmt.Sprintf("ints_%d", len(b.graph.initializers)), v...))
}
