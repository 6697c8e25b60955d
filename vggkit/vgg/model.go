package vgg

import (
	"fmt"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/layers/norm"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vggkit/vggkit/vggkit/config"
)

// Ops are the primitives VGG is written in. The zero value is GoMLX's own: graph.Convolve,
// graph.MaxPool, a broadcast add and GoMLX's fused batch-norm ops. A backend may substitute
// faster forms of the same functions (vggkit/backend's Choice.Ops does, for the pure-Go
// backend and XLA on CPU); every form uses the same variables, so checkpoints move freely.
type Ops struct {
	Conv3x3             func(x, kernel *Node) *Node // "same" 3x3 convolution: x [B,H,W,Cin], kernel [3,3,Cin,Cout].
	AddBias             func(y, bias *Node) *Node   // y [B,H,W,C] + bias [C].
	MaxPool             func(x *Node) *Node         // 2x2 max-pool, stride 2, odd sizes rounded down.
	DecomposedBatchNorm bool                        // batch norm from plain ops, not the backend's fused ones (which the pure-Go backend lacks).
}

func (o Ops) conv3x3(x, kernel *Node) *Node {
	if o.Conv3x3 != nil {
		return o.Conv3x3(x, kernel)
	}
	return Convolve(x, kernel).PadSame().Done()
}

func (o Ops) addBias(y, bias *Node) *Node {
	if o.AddBias != nil {
		return o.AddBias(y, bias)
	}
	d := y.Shape().Dimensions
	return Add(y, BroadcastToDims(Reshape(bias, 1, 1, 1, d[3]), d...))
}

func (o Ops) maxPool(x *Node) *Node {
	if o.MaxPool != nil {
		return o.MaxPool(x)
	}
	return MaxPool(x).Window(2).Done()
}

// Build builds the model graph: uint8 images [B,H,W,C] (any H, W; C 3 for RGB or 1 for
// grey, the first convolution taking that many channels) -> logits [B,classes] and the
// last feature map [B,h,w,C] (the tutorial's `forward` returns `x, features`).
// Training mode (augmentation, dropout, batch-norm statistics) comes from the store.
func Build(scope *model.Scope, c Config, ops Ops, images *Node) (logits, features *Node) {
	return build(scope, c, ops, images, false)
}

// BuildFrozenTrunk is Build for fine-tuning with the trunk frozen: its batch-norm layers
// normalise with the statistics they were loaded with and keep them (PyTorch's bn.eval()
// on a frozen trunk), and no gradient flows into it. Which weights the optimizer may
// change is the trainer's business.
func BuildFrozenTrunk(scope *model.Scope, c Config, ops Ops, images *Node) (logits, features *Node) {
	return build(scope, c, ops, images, true)
}

func build(scope *model.Scope, c Config, ops Ops, images *Node, frozen bool) (logits, features *Node) {
	c = c.Resolve()
	x := Preprocess(scope, c, images)
	if c.Precision == BF16 {
		x = ConvertDType(x, dtypes.BFloat16)
	}
	features = trunk(scope.In("features"), c, ops, x, len(Cfgs[c.Arch])-1, frozen)
	if frozen {
		features = StopGradient(features) // no backward pass through a frozen trunk.
	}
	// The head (a few MFLOP on the GAP head) and the loss stay in f32.
	features = ConvertDType(features, dtypes.Float32)
	logits = Head(scope.In("classifier"), c, features)
	return
}

// BuildLastConv is Build that returns, instead of the trunk's output, the activation of
// its last convolution, before the final pool (twice the resolution, f32): the layer
// Grad-CAM reads on VGG (relu5_3 in its paper).
func BuildLastConv(scope *model.Scope, c Config, ops Ops, images *Node) (logits, lastConv *Node) {
	c = c.Resolve()
	x := Preprocess(scope, c, images)
	if c.Precision == BF16 {
		x = ConvertDType(x, dtypes.BFloat16)
	}
	lastConv = trunk(scope.In("features"), c, ops, x, len(Cfgs[c.Arch])-2, false) // every config ends with a pool.
	logits = Head(scope.In("classifier"), c, ConvertDType(ops.maxPool(lastConv), dtypes.Float32))
	return logits, ConvertDType(lastConv, dtypes.Float32)
}

// CheckInput says whether the model takes images of the given number of channels; a
// graph of other images panics (graph building reports errors as panics, which GoMLX's
// Exec.Call returns as errors), so callers check first.
func CheckInput(c Config, channels int) error {
	_, _, err := Normalization(c, channels)
	return err
}

// Normalization is the mean and std (over x/255) each of the images' channels is
// normalised with: Config.Mean and Std hold one value per channel, or one value for
// every channel. Grey images (1 channel) given three values (the defaults, or RGB
// statistics such as ImageNet's) use their luma-weighted sum, 0.299 R + 0.587 G + 0.114 B
// (the weights of data's RGB-to-grey conversion, PIL's "L"): the mean of a grey image
// made from RGB is exactly that sum of the channel means, and the std is approximated
// the same way. The defaults (0.5 for each channel) give 0.5 either way.
func Normalization(c Config, channels int) (mean, std []float32, err error) {
	c = c.Resolve()
	m, s, err := ChannelStats(c.Mean, c.Std, channels)
	return toF32(m), toF32(s), err
}

// ChannelStats is Normalization's rule for given mean and std values: one per channel
// of images with that many channels (pictures shows images unnormalised with it).
func ChannelStats(mean, std []float64, channels int) (m, s []float64, err error) {
	switch {
	case channels != 1 && channels != 3:
		return nil, nil, fmt.Errorf("images of %d channels: VGG here takes 3 (RGB) or 1 (grey)", channels)
	case len(mean) != len(std) || (len(mean) != 1 && len(mean) != 3):
		return nil, nil, fmt.Errorf("mean has %d values, std %d: want 1, or 3 (one per RGB channel)", len(mean), len(std))
	case len(mean) == channels:
		return mean, std, nil
	case len(mean) == 1:
		return slices.Repeat(mean, channels), slices.Repeat(std, channels), nil
	}
	// 3 values, grey images.
	luma := func(v []float64) []float64 { return []float64{0.299*v[0] + 0.587*v[1] + 0.114*v[2]} }
	return luma(mean), luma(std), nil
}

// Preprocess turns uint8 images [B,H,W,C] (C 3 or 1) into normalised float32 at the
// model's size: augmentation (training only) at the source resolution, bilinear resize,
// then (x/255 - mean) / std per channel (Normalization).
func Preprocess(scope *model.Scope, c Config, images *Node) *Node {
	c = c.Resolve()
	g := images.Graph()
	if images.Rank() != 4 {
		panic(fmt.Sprintf("vgg: want images [B,H,W,C], got %s", images.Shape()))
	}
	channels := images.Shape().Dimensions[3]
	mean, std, err := Normalization(c, channels)
	if err != nil {
		panic(fmt.Sprintf("vgg: images %s: %v", images.Shape(), err))
	}
	x := ConvertDType(images, dtypes.Float32)
	if c.Augment == config.CropFlip && scope.Store().IsTraining(g) {
		x = Augment(scope.In("augment"), x)
	}
	dims := x.Shape().Dimensions
	if dims[1] != c.InputSize || dims[2] != c.InputSize {
		x = ResizeBilinear(x, c.InputSize, c.InputSize)
	}
	x = DivScalar(x, 255.0)
	x = Div(Sub(x, Reshape(Const(g, mean), 1, 1, 1, channels)), Reshape(Const(g, std), 1, 1, 1, channels))
	return x
}

// ResizeBilinear resizes x [B,H,W,C] to [B,h,w,C] as Interpolate(...).Bilinear().
// HalfPixelCenters(true) does (torchvision's resize of tensors without antialiasing), with
// GoMLX's own weights, as two small matrix products: the interpolation matrices come from
// interpolating an identity and are constants XLA folds. The gather form took 1.5 ms per
// batch of 128 on XLA CPU (28 -> 32 px), about 3 % of a training step at width 1/4.
func ResizeBilinear(x *Node, h, w int) *Node {
	d := x.Shape().Dimensions
	y := Einsum("bhwc,oh->bowc", x, interpolationMatrix(x.Graph(), x.DType(), d[1], h))
	return Einsum("bowc,pw->bopc", y, interpolationMatrix(x.Graph(), x.DType(), d[2], w))
}

// interpolationMatrix is [out, in]: row o holds the input weights of output o.
func interpolationMatrix(g *Graph, dtype dtypes.DType, in, out int) *Node {
	eye := DiagonalWithValue(Scalar(g, dtype, 1), in)
	if in == out {
		return eye
	}
	return Interpolate(eye, out, NoInterpolation).Bilinear().HalfPixelCenters(true).Done()
}

// Augment applies a random crop with zero padding of H/8 pixels (torchvision's
// RandomCrop(size, padding)) and a random horizontal flip, drawn per image.
func Augment(scope *model.Scope, x *Node) *Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	b, h, w := dims[0], dims[1], dims[2]
	pad := max(1, h/8)
	xp := PadZeros(x, pad)
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

// PadZeros pads the two spatial axes with p zeros on each side, by concatenation
// (graph.Pad has no gradient on the pure-Go backend).
func PadZeros(x *Node, p int) *Node {
	g := x.Graph()
	d := x.Shape().Dimensions
	rows := Zeros(g, shapes.Make(x.DType(), d[0], p, d[2], d[3]))
	x = Concatenate([]*Node{rows, x, rows}, 1)
	cols := Zeros(g, shapes.Make(x.DType(), d[0], d[1]+2*p, p, d[3]))
	return Concatenate([]*Node{cols, x, cols}, 2)
}

// Features is the convolutional trunk driven by Cfgs[c.Arch].
func Features(scope *model.Scope, c Config, ops Ops, x *Node) *Node {
	return FeaturesUpTo(scope, c, ops, x, len(Cfgs[c.Arch])-1)
}

// FeaturesUpTo runs the trunk up to and including entry `last` of Cfgs[c.Arch] (its
// output is what a notebook shows as the feature maps of that layer).
func FeaturesUpTo(scope *model.Scope, c Config, ops Ops, x *Node, last int) *Node {
	return trunk(scope, c, ops, x, last, false)
}

func trunk(scope *model.Scope, c Config, ops Ops, x *Node, last int, frozen bool) *Node {
	for i, v := range Cfgs[c.Arch][:last+1] {
		if v == M {
			x = ops.maxPool(x)
			continue
		}
		s := scope.In("%d", i)
		x = Conv3x3(s, ops, x, c.Channels(v))
		if c.BatchNorm {
			// Statistics in f32 whatever the precision (autocast does the same).
			dt := x.DType()
			x = ConvertDType(x, dtypes.Float32)
			bn := norm.BatchNorm(s, x, -1).Momentum(0.9).Epsilon(1e-5) // PyTorch's momentum and eps.
			x = bn.UseBackendInference(!ops.DecomposedBatchNorm).FrozenAverages(frozen).Done()
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

// Conv3x3 is a 3x3 "same" convolution with bias (torchvision's nn.Conv2d(cin, cout, 3,
// padding=1)); kernel [3,3,Cin,Cout], channels last.
func Conv3x3(scope *model.Scope, ops Ops, x *Node, cout int) *Node {
	g := x.Graph()
	cin := x.Shape().Dimensions[3]
	// Weights stay f32 (the master copy the optimizer updates); they are cast to the
	// activations' dtype (bf16 in mixed precision) for the convolution.
	kernel := scope.VariableWithShape("weights", shapes.Make(dtypes.Float32, 3, 3, cin, cout)).NodeValue(g)
	bias := scope.VariableWithShape("biases", shapes.Make(dtypes.Float32, cout)).NodeValue(g)
	if dt := x.DType(); dt != dtypes.Float32 {
		kernel, bias = ConvertDType(kernel, dt), ConvertDType(bias, dt)
	}
	return ops.addBias(ops.conv3x3(x, kernel), bias)
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
