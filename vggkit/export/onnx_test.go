package export_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/export"
	"github.com/vggkit/vggkit/vggkit/refstest"
	"github.com/vggkit/vggkit/vggkit/testbackend"
	"github.com/vggkit/vggkit/vggkit/training"
)

// ortScript runs the ONNX file argv[1] on the raw uint8 images in argv[2] (shape argv[3])
// with ONNX Runtime and writes the logits as raw float32 to argv[4]; it prints the
// metadata so the test can check it.
const ortScript = `
import sys, json, numpy as np, onnxruntime as ort
model, images, shape, out = sys.argv[1:5]
x = np.fromfile(images, dtype=np.uint8).reshape([int(d) for d in shape.split(",")])
s = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
inp, outp = s.get_inputs()[0], s.get_outputs()[0]
assert inp.name == "images" and inp.type == "tensor(uint8)", (inp.name, inp.type)
assert outp.name == "logits", outp.name
y = s.run(["logits"], {"images": x})[0]
assert y.dtype == np.float32, y.dtype
y.tofile(out)
print(json.dumps({"shape": list(y.shape), "meta": s.get_modelmeta().custom_metadata_map}))
`

type exportCase struct {
	name string
	m    config.Model
	grey bool
}

func TestONNXMatchesVggkit(t *testing.T) {
	py := refstest.Python(t)
	b := testbackend.Choice(t)
	base := config.Model{Arch: "vgg11", Width: 0.125, InputSize: 32, Augment: config.NoAugment}
	with := func(f func(*config.Model)) config.Model { m := base; f(&m); return m }
	cases := []exportCase{
		{"plain-gap-leaky", with(func(m *config.Model) { m.LeakySlope = 0.1 }), false},
		{"bn-gap-relu", with(func(m *config.Model) { m.BatchNorm, m.Activation = true, "relu" }), false},
		{"bn-classic-leaky-1x1", with(func(m *config.Model) { m.BatchNorm, m.Head = true, config.HeadClassic }), false},
		{"plain-classic-relu-2x2", with(func(m *config.Model) { m.Head, m.Activation, m.InputSize = config.HeadClassic, "relu", 64 }), false},
		{"bn-classic-3x3", with(func(m *config.Model) { m.BatchNorm, m.Head, m.InputSize = true, config.HeadClassic, 96 }), false},
		{"bn-classic-7x7", with(func(m *config.Model) { m.BatchNorm, m.Head, m.InputSize = true, config.HeadClassic, 224 }), false},
		{"grey-imagenet-stats", with(func(m *config.Model) {
			m.Arch, m.BatchNorm, m.Mean, m.Std = "vgg13", true, []float64{0.485, 0.456, 0.406}, []float64{0.229, 0.224, 0.225}
		}), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkCase(t, py, b, c) })
	}
}

func checkCase(t *testing.T, py string, b *backend.Choice, c exportCase) {
	channels := 3
	if c.grey {
		channels = 1
	}
	classes := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	l := newLearner(t, b, c.m, classes)
	n, size := 3, l.Config.Model.InputSize
	pixels := randomImages(n * size * size * channels)
	forward(t, l, pixels, n, size, channels) // builds the model, so its variables exist.
	randomizeStats(t, l)
	want := forward(t, l, pixels, n, size, channels)
	vars, err := l.Variables()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := export.ONNX(&buf, l.Config.Model, channels, classes, vars); err != nil {
		t.Fatal(err)
	}
	model, images, out := filepath.Join(dir, "m.onnx"), filepath.Join(dir, "x.u8"), filepath.Join(dir, "y.f32")
	writeFile(t, model, buf.Bytes())
	writeFile(t, images, pixels)
	shape := strings.Join([]string{strconv.Itoa(n), strconv.Itoa(size), strconv.Itoa(size), strconv.Itoa(channels)}, ",")
	checkInfo(t, refstest.Run(t, py, dir, ortScript, model, images, shape, out), n, classes, size)
	compare(t, readFloats(t, out), want)
}

// checkInfo checks the output shape and the metadata ONNX Runtime read from the file.
func checkInfo(t *testing.T, info []byte, n int, classes []string, size int) {
	var got struct {
		Shape []int
		Meta  map[string]string
	}
	if err := json.Unmarshal(info, &got); err != nil {
		t.Fatalf("onnxruntime's report %q: %v", info, err)
	}
	var names []string
	json.Unmarshal([]byte(got.Meta["classes"]), &names)
	if !slices.Equal(got.Shape, []int{n, len(classes)}) || !slices.Equal(names, classes) || got.Meta["input_size"] != strconv.Itoa(size) {
		t.Errorf("onnxruntime: output shape %v, metadata %v; want [%d %d], classes %v, input size %d", got.Shape, got.Meta, n, len(classes), classes, size)
	}
}

func newLearner(t *testing.T, b *backend.Choice, m config.Model, classes []string) *training.Learner {
	cfg := config.Config{Data: config.Data{Name: "shapes10"}, Model: m, Train: config.Train{BatchSize: 3, Seed: 11}}
	l, err := training.New(b, cfg, classes)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func forward(t *testing.T, l *training.Learner, pixels []byte, n, size, channels int) []float32 {
	y, err := l.Forward(tensors.FromFlatDataAndDimensions(append([]byte(nil), pixels...), n, size, size, channels))
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// randomizeStats gives the biases, batch-norm scales, offsets and running statistics
// values far from their initial 0 and 1, so a swapped or dropped one shows.
func randomizeStats(t *testing.T, l *training.Learner) {
	vars, err := l.Variables()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	set := map[string]*tensors.Tensor{}
	for _, path := range slices.Sorted(maps.Keys(vars)) { // sorted: the same values every run.
		v := vars[path]
		name := path[strings.LastIndex(path, "/")+1:]
		lo, hi := -0.2, 0.2
		switch name {
		case "scale", "variance":
			lo, hi = 0.5, 2
		case "mean", "offset", "biases":
		default:
			continue
		}
		vals := make([]float32, v.Shape().Size())
		for i := range vals {
			vals[i] = float32(lo + (hi-lo)*r.Float64())
		}
		set[path] = tensors.FromFlatDataAndDimensions(vals, v.Shape().Dimensions...)
	}
	if len(set) == 0 {
		t.Fatal("no biases found to randomise: the variable names changed?")
	}
	if err := l.SetVariables(set); err != nil {
		t.Fatal(err)
	}
}

func compare(t *testing.T, got, want []float32) {
	if len(got) != len(want) {
		t.Fatalf("onnxruntime gave %d logits, vggkit %d", len(got), len(want))
	}
	var maxAbs, maxDiff float64
	for i := range want {
		maxAbs = max(maxAbs, math.Abs(float64(want[i])))
		maxDiff = max(maxDiff, math.Abs(float64(got[i]-want[i])))
	}
	t.Logf("max |logit| %.4g, max |onnx - vggkit| %.3g (%.2g relative)", maxAbs, maxDiff, maxDiff/maxAbs)
	if !(maxDiff <= 1e-4*maxAbs) || maxAbs == 0 { // written so that NaN fails.
		t.Errorf("logits differ by %g, more than 1e-4 of the largest |logit| %g\nonnx   %v\nvggkit %v", maxDiff, maxAbs, got, want)
	}
}

func randomImages(n int) []byte {
	r := rand.New(rand.NewPCG(3, 4))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.IntN(256))
	}
	return p
}

func readFloats(t *testing.T, path string) []float32 {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

func writeFile(t *testing.T, path string, data []byte) {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
