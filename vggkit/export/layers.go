package export

import (
	"fmt"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// preprocess is vgg.Preprocess at evaluation, on images already at the input size:
// float, /255, (x - mean) / std per channel, then NHWC -> NCHW, ONNX's convolution layout.
func (b *builder) preprocess(mean, std []float32) string {
	c := int64(len(mean))
	x := b.op("Cast", []string{InputName}, intAttr("to", onnxFloat))
	x = b.op("Div", []string{x, b.constant(floatTensor("255", nil, []float32{255}))})
	x = b.op("Sub", []string{x, b.constant(floatTensor("mean", []int64{1, 1, 1, c}, mean))})
	x = b.op("Div", []string{x, b.constant(floatTensor("std", []int64{1, 1, 1, c}, std))})
	return b.op("Transpose", []string{x}, intsAttr("perm", 0, 3, 1, 2))
}

// features is vgg.Features in NCHW; it returns the map's name and its spatial size.
func (b *builder) features(m config.Model, x string, channels int) (string, int) {
	size, cin := m.InputSize, channels
	for i, v := range vgg.Cfgs[m.Arch] {
		if v == vgg.M {
			x = b.op("MaxPool", []string{x}, intsAttr("kernel_shape", 2, 2), intsAttr("strides", 2, 2))
			size /= 2 // floor, as vggkit's pool (ONNX's ceil_mode is 0).
			continue
		}
		cout := m.Channels(v)
		x = b.conv(fmt.Sprintf("features/%d", i), x, cin, cout)
		if m.BatchNorm {
			x = b.batchNorm(fmt.Sprintf("features/%d/batch_normalization", i), x, cout)
		}
		if m.Activation == "leaky" {
			x = b.op("LeakyRelu", []string{x}, floatAttr("alpha", m.LeakySlope))
		} else {
			x = b.op("Relu", []string{x})
		}
		cin = cout
	}
	return x, size
}

// conv is a 3x3 "same" convolution; vggkit's kernel [3,3,Cin,Cout] becomes ONNX's OIHW.
func (b *builder) conv(scope, x string, cin, cout int) string {
	k := b.variable(scope+"/weights", 3, 3, cin, cout)
	bias := b.variable(scope+"/biases", cout)
	oihw := make([]float32, len(k))
	for i := range k {
		// i indexes [kh][kw][ci][co]; the OIHW index is [co][ci][kh][kw].
		co, ci, kw, kh := i%cout, i/cout%cin, i/(cout*cin)%3, i/(cout*cin*3)
		oihw[((co*cin+ci)*3+kh)*3+kw] = k[i]
	}
	w := b.weights(scope+"/weights", []int64{int64(cout), int64(cin), 3, 3}, oihw)
	bn := b.weights(scope+"/biases", []int64{int64(cout)}, bias)
	return b.op("Conv", []string{x, w, bn}, intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1))
}

// batchNorm at inference, from the running statistics GoMLX's norm.BatchNorm keeps
// (its avg_weight only debiases the running averages during training).
func (b *builder) batchNorm(scope, x string, c int) string {
	inputs := []string{x}
	for _, name := range []string{"scale", "offset", "mean", "variance"} {
		path := scope + "/" + name
		inputs = append(inputs, b.weights(path, []int64{int64(c)}, b.variable(path, c)))
	}
	return b.op("BatchNormalization", inputs, floatAttr("epsilon", 1e-5))
}
