// Command convops times each 3x3 convolution of VGG16 alone, one compiled program per
// operation: forward, gradient wrt the input (dgrad) and gradient wrt the kernel (wgrad),
// on vggkit's default backend. torch_convops.py times the same operations with PyTorch and
// run.sh puts the two side by side, to show which part of a training step is slow.
//
// -wgrad picks how the kernel gradient is written; the alternatives to XLA's own
// backward-filter convolution are kept because they were measured (bench/convops/README.md).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/backend/fastops"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// wgradForms compute the kernel gradient [3,3,Cin,Cout] of a 3x3 "same" convolution from
// its input x [N,H,W,Cin] and output gradient v [N,H,W,Cout].
var wgradForms = map[string]func(x, k, v *Node) *Node{
	// GoMLX's autodiff of conv: XLA's backward-filter convolution (a matmul on 2x2 maps).
	"conv": func(x, k, v *Node) *Node { return Gradient(ReduceAllSum(Mul(conv(x, k), v)), k)[0] },
	// The same over two halves of the batch, summed (more independent work).
	"split2": func(x, k, v *Node) *Node {
		xs, vs := Split(x, 0, 2), Split(v, 0, 2)
		loss := Add(ReduceAllSum(Mul(conv(xs[0], k), vs[0])), ReduceAllSum(Mul(conv(xs[1], k), vs[1])))
		return Gradient(loss, k)[0]
	},
	// im2col(x)^T v: one matmul contracting over N*H*W.
	"im2col": func(x, _, v *Node) *Node {
		n, cin, cout := pixels(x), x.Shape().Dimensions[3], v.Shape().Dimensions[3]
		g := DotGeneral(fastops.Im2ColMatrix(x), []int{0}, nil, Reshape(v, n, cout), []int{0}, nil)
		return Reshape(g, 3, 3, cin, cout)
	},
	// The same per image (a batched matmul), then summed over the batch.
	"im2col-batched": func(x, _, v *Node) *Node {
		d := x.Shape().Dimensions
		b, hw, cin, cout := d[0], d[1]*d[2], d[3], v.Shape().Dimensions[3]
		g := DotGeneral(Reshape(fastops.Im2ColMatrix(x), b, hw, 9*cin), []int{1}, []int{0}, Reshape(v, b, hw, cout), []int{1}, []int{0})
		return Reshape(ReduceSum(g, 0), 3, 3, cin, cout)
	},
	// Nine matmuls, one per tap, each on a shifted copy of x.
	"taps": func(x, _, v *Node) *Node {
		n, cin, cout := pixels(x), x.Shape().Dimensions[3], v.Shape().Dimensions[3]
		vv := Reshape(v, n, cout)
		var taps []*Node
		for dy := range 3 {
			for dx := range 3 {
				taps = append(taps, DotGeneral(Reshape(shifted(x, dy, dx), n, cin), []int{0}, nil, vv, []int{0}, nil))
			}
		}
		return Reshape(Stack(taps, 0), 3, 3, cin, cout)
	},
	// Only the im2col matrix that "im2col" multiplies (its cost alone).
	"cols-only": func(x, _, _ *Node) *Node { return fastops.Im2ColMatrix(x) },
}

func main() {
	size := flag.Int("size", 96, "input height = width")
	width := flag.Float64("width", 0.25, "width multiplier (0.25 = torchvision's widths / 4)")
	batch := flag.Int("batch", 32, "batch size")
	reps := flag.Int("reps", 10, "timed runs per operation (the median is reported)")
	form := flag.String("wgrad", "conv", "kernel gradient form: "+strings.Join(formNames(), ", "))
	wgradOnly := flag.Bool("wgrad-only", false, "time only the kernel gradient")
	flag.Parse()
	wgrad, ok := wgradForms[*form]
	if !ok {
		fmt.Fprintf(os.Stderr, "convops: unknown -wgrad %q (want one of %s)\n", *form, strings.Join(formNames(), ", "))
		os.Exit(2)
	}
	b, err := backend.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "convops:", err)
		os.Exit(1)
	}
	convForm = b.Ops().Conv3x3
	cfg := vgg.Default()
	cfg.Width = *width
	type row struct {
		H, Cin, Cout int
		Fwd, DGrad   float64 `json:",omitempty"` // ms; no DGrad for the first layer (images need none)
		WGrad        float64
	}
	var rows []row
	h, cin := *size, 3
	for _, v := range vgg.Cfgs["vgg16"] {
		if v == vgg.M {
			h /= 2
			continue
		}
		cout := cfg.Channels(v)
		x, k, g := randT(*batch, h, h, cin), randT(3, 3, cin, cout), randT(*batch, h, h, cout)
		r := row{H: h, Cin: cin, Cout: cout}
		r.WGrad = timeExec(b, *reps, wgrad, x, k, g)
		if !*wgradOnly {
			r.Fwd = timeExec(b, *reps, func(x, k, _ *Node) *Node { return conv(x, k) }, x, k, g)
			if cin != 3 {
				r.DGrad = timeExec(b, *reps, func(x, k, v *Node) *Node {
					return Gradient(ReduceAllSum(Mul(conv(x, k), v)), x)[0]
				}, x, k, g)
			}
		}
		rows = append(rows, r)
		cin = cout
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"backend": b.Config, "size": *size, "width": *width,
		"batch": *batch, "wgrad_form": *form, "rows": rows})
}

// conv is the 3x3 "same" convolution as VGG runs it on this backend (backend.Choice.Ops, or
// the form VGGKIT_CONV forces): on XLA CPU the backend's convolution, or im2col + one
// matmul on the smallest maps where vggkit's kernels do not take it.
func conv(x, k *Node) *Node { return convForm(x, k) }

var convForm = fastops.HybridConv3x3 // set in main from the backend

func pixels(x *Node) int { d := x.Shape().Dimensions; return d[0] * d[1] * d[2] }

// shifted is x zero-padded by one pixel and cut back to its size at offset (dy, dx).
func shifted(x *Node, dy, dx int) *Node {
	d := x.Shape().Dimensions
	xp := Pad(x, ScalarZero(x.Graph(), x.DType()), []PadAxis{{}, {Start: 1, End: 1}, {Start: 1, End: 1}, {}}...)
	return Slice(xp, AxisRange(), AxisRange(dy, dy+d[1]), AxisRange(dx, dx+d[2]), AxisRange())
}

// timeExec compiles fn once and returns the median ms of reps runs (after two warm-ups).
func timeExec(b *backend.Choice, reps int, fn func(x, k, v *Node) *Node, args ...*tensors.Tensor) float64 {
	exec := MustNewExec(b.Backend, fn)
	run := func() {
		for _, t := range exec.MustExec(args[0], args[1], args[2]) {
			t.FinalizeAll()
		}
	}
	run()
	run()
	t := make([]float64, reps)
	for i := range t {
		s := time.Now()
		run()
		t[i] = float64(time.Since(s).Microseconds()) / 1000
	}
	slices.Sort(t)
	return t[reps/2]
}

func randT(dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = rand.Float32() - 0.5
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

func formNames() []string {
	var names []string
	for n := range wgradForms {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
