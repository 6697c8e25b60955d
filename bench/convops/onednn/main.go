// Command onednn checks whether XLA CPU's oneDNN convolution, reached through the custom
// call `__onednn$convolution` that the xla-cpu-pjrt plugin contains, is faster than the
// Eigen convolution XLA emits itself. It talks to the PJRT plugin through go-xla directly:
// go-xla's GoMLX backend keeps custom calls private, so vggkit's models cannot emit one yet.
//
// For one VGG layer it times, as XLA convolution and as the custom call: the forward
// (x [N,H,W,Cin] * k [3,3,Cin,Cout]) and the kernel gradient written as a convolution
// (x as a batch of Cin images with N channels, dy [N,H,W,Cout] as an HxW kernel), and
// checks that both forms agree. Usage: go run ./bench/convops/onednn [-h 96 -cin 16 -cout 16]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/go-xla/pjrt"
	"github.com/gomlx/go-xla/stablehlo"
	"github.com/gomlx/go-xla/types"
	"github.com/gomlx/go-xla/types/shapes"

	"github.com/vggkit/vggkit/vggkit/backend"
)

func main() {
	n := flag.Int("n", 32, "batch")
	h := flag.Int("h", 96, "map height = width")
	cin := flag.Int("cin", 16, "input channels")
	cout := flag.Int("cout", 16, "output channels")
	reps := flag.Int("reps", 9, "timed runs (median)")
	flag.Parse()
	if err := run(*n, *h, *cin, *cout, *reps); err != nil {
		fmt.Fprintln(os.Stderr, "onednn:", err)
		os.Exit(1)
	}
}

func run(n, h, cin, cout, reps int) error {
	path, ok := backend.InstalledPlugin("cpu")
	if !ok {
		return fmt.Errorf("no XLA CPU plugin in vggkit's cache: run `vggkit doctor -install cpu`")
	}
	plugin, err := pjrt.GetPlugin(path)
	if err != nil {
		return err
	}
	client, err := plugin.NewClient(nil)
	if err != nil {
		return err
	}
	xs := shapes.Make(dtypes.Float32, n, h, h, cin)
	ks := shapes.Make(dtypes.Float32, 3, 3, cin, cout)
	ys := shapes.Make(dtypes.Float32, n, h, h, cout)
	ws := shapes.Make(dtypes.Float32, cin, 3, 3, cout)
	forward := compute.ConvolveAxesConfig{InputBatch: 0, InputChannels: 3, InputSpatial: []int{1, 2},
		KernelInputChannels: 2, KernelOutputChannels: 3, KernelSpatial: []int{0, 1},
		OutputBatch: 0, OutputChannels: 3, OutputSpatial: []int{1, 2}}
	// Kernel gradient as a convolution: x with batch = Cin and features = N, dy [N,H,W,Cout]
	// as an HxW kernel, output [Cin,3,3,Cout].
	kernelGrad := compute.ConvolveAxesConfig{InputBatch: 3, InputChannels: 0, InputSpatial: []int{1, 2},
		KernelInputChannels: 0, KernelOutputChannels: 3, KernelSpatial: []int{1, 2},
		OutputBatch: 0, OutputChannels: 3, OutputSpatial: []int{1, 2}}
	cases := []struct {
		name        string
		second, out shapes.Shape
		axes        compute.ConvolveAxesConfig
		window      int
	}{
		{"forward", ks, ys, forward, 3},
		{"kernel gradient", ys, ws, kernelGrad, h},
	}
	x := randomBuffer(client, xs)
	for _, c := range cases {
		y := randomBuffer(client, c.second)
		var results [2][]float32
		var ms [2]float64
		for i, custom := range []bool{false, true} {
			b := stablehlo.New(fmt.Sprintf("conv%d", i))
			fn := b.Main()
			xv, err := fn.NamedInput("x", xs)
			if err != nil {
				return err
			}
			yv, err := fn.NamedInput("y", c.second)
			if err != nil {
				return err
			}
			var out *stablehlo.Value
			pad, ones := [][2]int{{1, 1}, {1, 1}}, []int{1, 1}
			if custom {
				config := oneDNNConvolutionConfig(c.axes, []int{c.window, c.window}, ones, pad, ones)
				var outs []*stablehlo.Value
				outs, err = stablehlo.CustomCallV2("__onednn$convolution", config, []*stablehlo.Value{xv, yv}, nil, []shapes.Shape{c.out}, nil)
				if err == nil {
					out = outs[0]
				}
			} else {
				a, def := c.axes, types.DotGeneralPrecisionDefault
				out, err = stablehlo.Convolution(xv, yv, ones, pad, ones, ones,
					a.InputBatch, a.InputChannels, a.InputSpatial, a.KernelInputChannels, a.KernelOutputChannels, a.KernelSpatial,
					a.OutputBatch, a.OutputChannels, a.OutputSpatial, 1, 1, def, def)
			}
			if err != nil {
				return err
			}
			if err := fn.Return(out); err != nil {
				return err
			}
			prog, err := b.Build()
			if err != nil {
				return err
			}
			exec, err := client.Compile().WithStableHLO(prog).Done()
			if err != nil {
				return fmt.Errorf("%s (custom call %v): %w", c.name, custom, err)
			}
			if results[i], ms[i], err = timeRuns(exec, reps, x, y); err != nil {
				return err
			}
		}
		var diff, scale float64
		for j := range results[0] {
			diff = math.Max(diff, math.Abs(float64(results[0][j]-results[1][j])))
			scale = math.Max(scale, math.Abs(float64(results[0][j])))
		}
		fmt.Printf("%dx%d, %d->%d, %s: XLA %.1f ms, oneDNN custom call %.1f ms (%.2fx); max |difference| %.2g of %.3g\n",
			h, h, cin, cout, c.name, ms[0], ms[1], ms[0]/ms[1], diff, scale)
	}
	return nil
}

// timeRuns returns the result of the program and its median time over reps runs (each
// includes copying the result to the host, which waits for it).
func timeRuns(exec *pjrt.LoadedExecutable, reps int, args ...*pjrt.Buffer) ([]float32, float64, error) {
	var flat any
	t := make([]float64, reps+1)
	for i := range t {
		start := time.Now()
		res, err := exec.Execute(args...).DonateNone().Done()
		if err != nil {
			return nil, 0, err
		}
		if flat, _, err = res[0].ToFlatDataAndDimensions(); err != nil {
			return nil, 0, err
		}
		t[i] = float64(time.Since(start).Microseconds()) / 1000
		_ = res[0].Destroy()
	}
	t = t[1:] // the first run creates oneDNN's primitive
	slices.Sort(t)
	return flat.([]float32), t[len(t)/2], nil
}

func randomBuffer(client *pjrt.Client, s shapes.Shape) *pjrt.Buffer {
	v := make([]float32, s.Size())
	for i := range v {
		v[i] = rand.Float32() - 0.5
	}
	b, err := client.BufferFromHost().FromFlatDataWithDimensions(v, s.Dimensions).Done()
	if err != nil {
		panic(err)
	}
	return b
}

// oneDNNConvolutionConfig is the backend_config (xla.cpu.BackendConfig as JSON) of the
// `__onednn$convolution` custom call for a 2D convolution, established here against the
// plugin (XLA's sources differ between versions): axes 0-based; window, padding, strides
// and dilations as XLA gives them (dilation 1 = none). vggkit's go-xla patch
// (third_party/go-xla.patch) has the same function, OneDNNConvolutionConfig; this copy
// keeps the command building with upstream go-xla.
func oneDNNConvolutionConfig(axes compute.ConvolveAxesConfig, window, strides []int, paddings [][2]int, dilations []int) string {
	data := func(batch, feature int, spatial []int) map[string]any {
		return map[string]any{"dims": 4, "data": map[string]any{"batch_dim": batch, "feature_dim": feature, "spatial_dims": spatial}}
	}
	config, err := json.Marshal(map[string]any{"onednn_conv_config": map[string]any{
		"dims": 4, "feature_groups": 1,
		"input": data(axes.InputBatch, axes.InputChannels, axes.InputSpatial),
		"kernel": map[string]any{"dims": 4, "filter": map[string]any{"input_feature_dim": axes.KernelInputChannels,
			"output_feature_dim": axes.KernelOutputChannels, "spatial_dims": axes.KernelSpatial}},
		"output": data(axes.OutputBatch, axes.OutputChannels, axes.OutputSpatial),
		"window": map[string]any{"size": window, "strides": strides, "window_dilations": dilations,
			"pad_left": []int{paddings[0][0], paddings[1][0]}, "pad_right": []int{paddings[0][1], paddings[1][1]}},
	}})
	if err != nil {
		panic(err) // maps of ints cannot fail to marshal
	}
	return string(config)
}
