package vgg

import (
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

func goBackend(t testing.TB) compute.Backend {
	b, err := compute.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// buildShapes compiles the model for a batch of 2 images of size x size and returns the
// output shapes and the number of trainable parameters the graph created.
func buildShapes(t *testing.T, c Config, size int) (logits, features shapes.Shape, params int64) {
	t.Helper()
	store := model.NewStore()
	var lShape, fShape shapes.Shape
	exec, err := model.NewExec(goBackend(t), store, func(scope *model.Scope, x *graph.Node) (*graph.Node, *graph.Node) {
		l, f := Build(scope.In("model"), c, Ops{DecomposedBatchNorm: true}, x) // the pure-Go backend lacks the fused batch norm
		lShape, fShape = l.Shape(), f.Shape()
		return l, f
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.Compile(shapes.Make(dtypes.Uint8, 2, size, size, 3)); err != nil {
		t.Fatal(err)
	}
	for v := range store.IterVariables() {
		if v.Trainable && strings.HasPrefix(v.Scope(), "/model") {
			params += int64(v.Shape().Size())
		}
	}
	return lShape, fShape, params
}

func TestParamCountsMatchTorchvision(t *testing.T) {
	classic := Default()
	classic.Head, classic.Classes = HeadClassic, 1000
	tutorial := Default()
	tutorial.Classes = 10
	bn := Default()
	bn.BatchNorm, bn.Head, bn.Classes = true, HeadClassic, 1000
	for _, tc := range []struct {
		name string
		c    Config
		want int64
	}{
		{"vgg16 classic 1000", classic, 138_357_544},
		{"vgg16 gap 10 (tutorial)", tutorial, 14_719_818},
		{"vgg16_bn classic 1000", bn, 138_365_992},
	} {
		s, err := Summarize(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.TotalParams(); got != tc.want {
			t.Errorf("%s: summary says %d params, torchvision has %d", tc.name, got, tc.want)
		}
	}
	other := map[string]int64{"vgg11": 132_863_336, "vgg13": 133_047_848, "vgg19": 143_667_240}
	for arch, want := range other {
		c := classic
		c.Arch = arch
		s, _ := Summarize(c)
		if s.TotalParams() != want {
			t.Errorf("%s classic: %d params, torchvision has %d", arch, s.TotalParams(), want)
		}
	}
}

// The graph must create exactly the parameters the summary lists, and the shapes it prints.
func TestGraphMatchesSummary(t *testing.T) {
	for _, tc := range []struct {
		size  int
		c     func() Config
		feat  []int
		label string
	}{
		{32, func() Config { c := Default(); c.InputSize = 32; return c }, []int{2, 1, 1, 512}, "gap@32"},
		{96, func() Config { c := Default(); c.InputSize = 96; c.Width = 0.25; c.BatchNorm = true; return c }, []int{2, 3, 3, 128}, "bn w0.25@96"},
		{224, func() Config { c := Default(); c.Width = 0.125; c.Head = HeadClassic; return c }, []int{2, 7, 7, 64}, "classic w0.125@224"},
		{96, func() Config { c := Default(); c.InputSize = 224; c.Width = 0.125; return c }, []int{2, 7, 7, 64}, "96 resized to 224"},
	} {
		c := tc.c()
		l, f, params := buildShapes(t, c, tc.size)
		if !l.Equal(shapes.Make(dtypes.Float32, 2, c.Classes)) {
			t.Errorf("%s: logits %s", tc.label, l)
		}
		if !slicesEqual(f.Dimensions, tc.feat) {
			t.Errorf("%s: features %v, want %v", tc.label, f.Dimensions, tc.feat)
		}
		s, _ := Summarize(c)
		if params != s.TotalParams() {
			t.Errorf("%s: graph has %d trainable params, summary %d", tc.label, params, s.TotalParams())
		}
		if fs := s.FeatureShape(); !slicesEqual(fs, tc.feat[1:]) {
			t.Errorf("%s: summary feature shape %v, want %v", tc.label, fs, tc.feat[1:])
		}
	}
}

func TestSummaryText(t *testing.T) {
	s, err := Summarize(Default())
	if err != nil {
		t.Fatal(err)
	}
	txt := s.String()
	for _, want := range []string{"224x224x64", "7x7x512", "14,719,818", "features.0 conv3x3+leaky"} {
		if !strings.Contains(txt, want) {
			t.Errorf("summary lacks %q:\n%s", want, txt)
		}
	}
	// VGG16 features at 224: 15.35 GMACs (torchvision's 15.47 "GFLOPS" adds the classic head's 0.12).
	if m := s.TotalMACs(); m < 15_340_000_000 || m > 15_360_000_000 {
		t.Errorf("MACs %d out of the expected ~15.4e9", m)
	}
}

func TestValidate(t *testing.T) {
	bad := []func(*Config){
		func(c *Config) { c.Arch = "vgg17" },
		func(c *Config) { c.Head = "mlp" },
		func(c *Config) { c.InputSize = 16 },
		func(c *Config) { c.Classes = 1 },
		func(c *Config) { c.Width = -0.5 }, // 0 is valid: the default width
		func(c *Config) { c.Activation = "gelu" },
	}
	for i, mutate := range bad {
		c := Default()
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("case %d: want an error for %+v", i, c)
		}
	}
	if err := Default().Validate(); err != nil {
		t.Error(err)
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Every convolution, bias add and max-pool of the trunk goes through Ops when set.
func TestOpsAreUsed(t *testing.T) {
	c := Default()
	c.Arch, c.Width, c.InputSize = "vgg11", 0.0625, 32
	var convs, biases, pools int
	ops := Ops{
		Conv3x3: func(x, k *graph.Node) *graph.Node { convs++; return graph.Convolve(x, k).PadSame().Done() },
		AddBias: func(y, b *graph.Node) *graph.Node {
			biases++
			return graph.Add(y, graph.Reshape(b, 1, 1, 1, b.Shape().Dimensions[0]))
		},
		MaxPool:             func(x *graph.Node) *graph.Node { pools++; return graph.MaxPool(x).Window(2).Done() },
		DecomposedBatchNorm: true,
	}
	exec, err := model.NewExec(goBackend(t), model.NewStore(), func(scope *model.Scope, x *graph.Node) *graph.Node {
		l, _ := Build(scope, c, ops, x)
		return l
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.Compile(shapes.Make(dtypes.Uint8, 1, 32, 32, 3)); err != nil {
		t.Fatal(err)
	}
	if convs != 8 || biases != 8 || pools != 5 {
		t.Errorf("vgg11 went through Ops for %d convolutions, %d bias adds, %d pools; want 8, 8, 5", convs, biases, pools)
	}
}
