package vgg

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/layers/norm"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vggkit/vggkit/vggkit/config"
)

// Form selects how convolutions are emitted. The pure-Go backend runs a 3x3 convolution
// 20-25x faster written as im2col + one matmul than with its native (scalar-loop)
// convolution; on XLA the native one maps to cuDNN/oneDNN and stays.
type Form int

const (
	Native Form = iota // graph.Convolve: for XLA.
	Im2Col             // 9 shifted slices concatenated + one Dot: for the pure-Go backend.
	Hybrid             // XLA on CPU: native on large maps, im2col on small ones (see Conv3x3).
)

// hybridMaxPixels is where Hybrid switches to im2col: XLA's CPU convolution is very slow
// on the 2x2 maps deep in VGG (VGG16 at 32 px, training: 18 img/s all native), and faster
// than im2col everywhere else. Measured on 2 cores, batch 32, img/s per threshold (2x2 /
// 4x4 / 8x8 maps and smaller as im2col): VGG16 at 32 px 70 / 63 / 45, VGG16/4 at 32 px
// 610 / 620 / 330; at 96 px the smallest map is 6x6 and all-native beats im2col there
// (9.4 against 7.8 img/s).
var hybridMaxPixels = 2 * 2

// Build builds the model graph: uint8 images [B,H,W,3] (any H, W) -> logits [B,classes]
// and the last feature map [B,h,w,C] (the tutorial's `forward` returns `x, features`).
// Training mode (augmentation, dropout, batch-norm statistics) comes from the store.
func Build(scope *model.Scope, c Config, form Form, images *Node) (logits, features *Node) {
	c = c.Resolve()
	x := Preprocess(scope, c, images)
	if c.Precision == BF16 {
		x = ConvertDType(x, dtypes.BFloat16)
	}
	features = Features(scope.In("features"), c, form, x)
	// The head (a few MFLOP on the GAP head) and the loss stay in f32.
	features = ConvertDType(features, dtypes.Float32)
	logits = Head(scope.In("classifier"), c, features)
	return
}

// Preprocess turns uint8 images into normalised float32 at the model's size: augmentation
// (training only) at the source resolution, bilinear resize, then (x/255 - mean) / std.
func Preprocess(scope *model.Scope, c Config, images *Node) *Node {
	c = c.Resolve()
	g := images.Graph()
	x := ConvertDType(images, dtypes.Float32)
	if images.Rank() != 4 || images.Shape().Dimensions[3] != 3 {
		panic(fmt.Sprintf("vgg: want images [B,H,W,3], got %s", images.Shape()))
	}
	if c.Augment == config.CropFlip && scope.Store().IsTraining(g) {
		x = Augment(scope.In("augment"), x)
	}
	dims := x.Shape().Dimensions
	if dims[1] != c.InputSize || dims[2] != c.InputSize {
		x = Interpolate(x, dims[0], c.InputSize, c.InputSize, dims[3]).Bilinear().HalfPixelCenters(true).Done()
	}
	x = DivScalar(x, 255.0)
	if len(c.Mean) > 0 {
		mean := Const(g, toF32(c.Mean))
		std := Const(g, toF32(c.Std))
		x = Div(Sub(x, Reshape(mean, 1, 1, 1, len(c.Mean))), Reshape(std, 1, 1, 1, len(c.Std)))
	}
	return x
}

// Augment applies a random crop with zero padding of H/8 pixels (torchvision's
// RandomCrop(size, padding)) and a random horizontal flip, drawn per image.
func Augment(scope *model.Scope, x *Node) *Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	b, h, w := dims[0], dims[1], dims[2]
	pad := max(1, h/8)
	xp := padZeros(x, pad)
	// Per-image offsets in [0, 2*pad]: gather rows oy+i and columns ox+j of the padded image.
	offsets := ConvertDType(scope.RandomIntN(g, int32(2*pad+1), shapes.Make(dtypes.Int32, b, 2)), dtypes.Int32)
	oy := Reshape(Slice(offsets, AxisRange(), AxisRange(0, 1)), b, 1, 1, 1)
	ox := Reshape(Slice(offsets, AxisRange(), AxisRange(1, 2)), b, 1, 1, 1)
	idxShape := shapes.Make(dtypes.Int32, b, h, w, 1)
	bi := Iota(g, idxShape, 0)
	yi := Add(Iota(g, idxShape, 1), oy)
	xi := Add(Iota(g, idxShape, 2), ox)
	x = Gather(xp, Concatenate([]*Node{bi, yi, xi}, 3))
	flip := LessThan(scope.RandomUniform(g, shapes.Make(dtypes.Float32, b, 1, 1, 1)), Scalar(g, dtypes.Float32, 0.5))
	return Where(BroadcastToDims(flip, dims...), Reverse(x, 2), x)
}

// padZeros pads the two spatial axes with zeros by concatenation (graph.Pad has no
// gradient on the pure-Go backend).
func padZeros(x *Node, p int) *Node {
	g := x.Graph()
	d := x.Shape().Dimensions
	rows := Zeros(g, shapes.Make(x.DType(), d[0], p, d[2], d[3]))
	x = Concatenate([]*Node{rows, x, rows}, 1)
	cols := Zeros(g, shapes.Make(x.DType(), d[0], d[1]+2*p, p, d[3]))
	return Concatenate([]*Node{cols, x, cols}, 2)
}

// Features is the convolutional trunk driven by Cfgs[c.Arch].
func Features(scope *model.Scope, c Config, form Form, x *Node) *Node {
	return FeaturesUpTo(scope, c, form, x, len(Cfgs[c.Arch])-1)
}

// FeaturesUpTo runs the trunk up to and including entry `last` of Cfgs[c.Arch] (its
// output is what a notebook shows as the feature maps of that layer).
func FeaturesUpTo(scope *model.Scope, c Config, form Form, x *Node, last int) *Node {
	for i, v := range Cfgs[c.Arch][:last+1] {
		if v == M {
			x = MaxPool2x2(x)
			continue
		}
		s := scope.In("%d", i)
		x = Conv3x3(s, x, c.Channels(v), form)
		if c.BatchNorm {
			// Statistics in f32 whatever the precision (autocast does the same); the
			// pure-Go backend lacks the fused batch-norm ops: use the decomposed form there.
			dt := x.DType()
			x = ConvertDType(x, dtypes.Float32)
			x = norm.BatchNorm(s, x, -1).Momentum(0.9).Epsilon(1e-5).UseBackendInference(form == Native).Done() // PyTorch's momentum and eps.
			x = ConvertDType(x, dt)
		}
		x = activate(c, x)
	}
	return x
}

func activate(c Config, x *Node) *Node {
	if c.Activation == "leaky" {
		return activation.LeakyReluWith(x, c.LeakySlope)
	}
	return activation.Relu(x)
}

// Conv3x3 is a 3x3 "same" convolution with bias; kernel [3,3,Cin,Cout], channels last.
// Both forms use the same variables, so a checkpoint moves between backends.
func Conv3x3(scope *model.Scope, x *Node, cout int, form Form) *Node {
	g := x.Graph()
	d := x.Shape().Dimensions
	b, h, w, cin := d[0], d[1], d[2], d[3]
	// Weights stay f32 (the master copy the optimizer updates); they are cast to the
	// activations' dtype (bf16 in mixed precision) for the convolution.
	kernel := scope.VariableWithShape("weights", shapes.Make(dtypes.Float32, 3, 3, cin, cout)).NodeValue(g)
	bias := scope.VariableWithShape("biases", shapes.Make(dtypes.Float32, cout)).NodeValue(g)
	if dt := x.DType(); dt != dtypes.Float32 {
		kernel, bias = ConvertDType(kernel, dt), ConvertDType(bias, dt)
	}
	var y *Node
	if NativeAt(form, h, w) {
		y = Convolve(x, kernel).PadSame().Done()
	} else {
		y = Reshape(Dot(Im2ColMatrix(x), Reshape(kernel, 9*cin, cout)).Product(), b, h, w, cout)
	}
	// The matmul bias gradient is for the CPU forms; the GPU keeps XLA's reduction.
	return addBias(y, bias, form != Native && scope.Store().IsTraining(g))
}

// NativeAt reports whether Conv3x3 in this form uses the backend's convolution on an h x w
// map (otherwise im2col + one matmul).
func NativeAt(form Form, h, w int) bool {
	return form == Native || (form == Hybrid && h*w > hybridMaxPixels)
}

// Im2ColMatrix turns x [B,H,W,C] into the [B*H*W, 9*C] matrix of its 3x3 neighbourhoods (zero
// padded), columns in (dy, dx, c) order: the kernel's row-major order.
func Im2ColMatrix(x *Node) *Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	xp := padZeros(x, 1)
	patches := make([]*Node, 0, 9)
	for dy := range 3 {
		for dx := range 3 {
			patches = append(patches, Slice(xp, AxisRange(), AxisRange(dy, dy+h), AxisRange(dx, dx+w), AxisRange()))
		}
	}
	return Reshape(Concatenate(patches, 3), b*h*w, 9*c)
}

// MaxPool2x2 is a 2x2, stride-2 max-pool written as reshape + max: identical to
// graph.MaxPool (values and gradient) and faster on the pure-Go backend. Odd sizes
// drop the last row/column, as PyTorch's floor mode does.
func MaxPool2x2(x *Node) *Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	if h%2 == 1 || w%2 == 1 {
		x = Slice(x, AxisRange(), AxisRange(0, h-h%2), AxisRange(0, w-w%2), AxisRange())
	}
	x = Reshape(x, b, h/2, 2, w/2, 2, c)
	return ReduceMax(x, 2, 4)
}

// Head maps the feature map [B,h,w,C] to logits [B,classes].
func Head(scope *model.Scope, c Config, features *Node) *Node {
	b := features.Shape().Dimensions[0]
	if c.Head == HeadGAP {
		x := ReduceMean(features, 1, 2)
		return layers.DenseWithBias(scope.In("0"), x, c.Classes)
	}
	x := AdaptiveAvgPool(features, 7)
	x = Reshape(x, b, -1)
	hidden := c.Channels(4096)
	for k := range 2 {
		x = layers.DenseWithBias(scope.In("%d", 3*k), x, hidden)
		x = activation.Relu(x)
		if c.Dropout > 0 {
			x = layers.DropoutStatic(scope, x, c.Dropout)
		}
	}
	return layers.DenseWithBias(scope.In("6"), x, c.Classes)
}

// AdaptiveAvgPool averages [B,H,W,C] into [B,n,n,C] with PyTorch's bins:
// bin i covers [floor(i*H/n), ceil((i+1)*H/n)).
func AdaptiveAvgPool(x *Node, n int) *Node {
	d := x.Shape().Dimensions
	h, w := d[1], d[2]
	if h == n && w == n {
		return x
	}
	rows := make([]*Node, n)
	for i := range n {
		r0, r1 := i*h/n, ((i+1)*h+n-1)/n
		cols := make([]*Node, n)
		for j := range n {
			c0, c1 := j*w/n, ((j+1)*w+n-1)/n
			cols[j] = ReduceMean(Slice(x, AxisRange(), AxisRange(r0, r1), AxisRange(c0, c1), AxisRange()), 1, 2)
			cols[j] = Reshape(cols[j], d[0], 1, 1, d[3])
		}
		rows[i] = Concatenate(cols, 2)
	}
	return Concatenate(rows, 1)
}

func toF32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
