package backend

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/vggkit/vggkit/vggkit/config"
)

func TestEnvOverride(t *testing.T) {
	t.Setenv(EnvVar, "go")
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsGo() || c.Config != "go" || !strings.Contains(c.Reason, EnvVar) {
		t.Errorf("choice %+v: want the pure-Go backend, set by %s", c, EnvVar)
	}
	if !strings.Contains(c.String(), "backend go") {
		t.Errorf("report %q should name the backend", c.String())
	}
}

func TestUnknownBackendIsAnError(t *testing.T) {
	t.Setenv(EnvVar, "tpu9000")
	_, err := New()
	if err == nil || !strings.Contains(err.Error(), "tpu9000") {
		t.Errorf("want an error naming the value, got %v", err)
	}
}

// With no plugin on the search path, the choice falls back to the pure-Go backend at once
// (GoMLX's own default would try to download a plugin and fail offline).
func TestFallsBackWithoutPlugins(t *testing.T) {
	t.Setenv(EnvVar, "")
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir())
	t.Setenv("VGGKIT_CACHE", t.TempDir()) // no plugin installed by vggkit either
	if len(Plugins()) > 0 {
		t.Skipf("plugins installed system-wide: %v", Plugins())
	}
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsGo() || !strings.Contains(c.Reason, "no PJRT plugin") {
		t.Errorf("choice %s: want a fallback to go saying why", c)
	}
}

func TestFindPlugin(t *testing.T) {
	p := map[string]string{"cuda13": "/x/cuda13.so", "cpu": "/x/cpu.so"}
	if path, ok := findPlugin(p, "cuda"); !ok || path != "/x/cuda13.so" {
		t.Errorf("cuda: %q %v", path, ok)
	}
	if _, ok := findPlugin(map[string]string{"cpu": "/x"}, "cuda"); ok {
		t.Error("found cuda where there is none")
	}
}

// The XLA CPU plugin makes one device unless VGGKIT_CPU_DEVICES asks for more (its own
// default, 4 on 2 cores, gave each its threads: 4-7 % slower steps); a value that is not a
// whole number of at least 1 is an error naming the variable, not a quiet fall-back to the
// pure-Go backend.
func TestCPUDevices(t *testing.T) {
	for _, v := range []string{"x", "0", "-2", "1.5"} {
		t.Setenv(config.EnvCPUDevices, v)
		if _, err := New(); err == nil || !strings.Contains(err.Error(), config.EnvCPUDevices) {
			t.Errorf("%s=%q: error %v, want one naming the variable", config.EnvCPUDevices, v, err)
		}
	}
	t.Setenv(config.EnvCPUDevices, "")
	xlaCPUChoice(t)
	for v, want := range map[string]int{"": 1, "1": 1, "4": 4} {
		t.Setenv(config.EnvCPUDevices, v)
		c, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if n := c.Backend.NumDevices(); n != want {
			t.Errorf("%s=%q: %d devices, want %d", config.EnvCPUDevices, v, n, want)
		}
	}
}

// The pure-Go backend runs independent large matmuls at once without deadlocking (compute
// v0.1.3's default worker pool deadlocked on four of them every time), and making it
// prints nothing on standard output (compute prints the pool setting).
func TestGoBackendConcurrentMatmuls(t *testing.T) {
	t.Setenv(EnvVar, "go")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	c, err := New()
	os.Stdout = stdout
	w.Close()
	printed, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(printed) > 0 {
		t.Errorf("making the pure-Go backend printed %q on standard output", printed)
	}
	exe := graph.MustNewExec(c.Backend, func(x, k *graph.Node) *graph.Node {
		sum := graph.ReduceAllSum(graph.Dot(x, k).Product())
		for i := 1; i < 4; i++ {
			sum = graph.Add(sum, graph.ReduceAllSum(graph.Dot(graph.AddScalar(x, float64(i)), k).Product()))
		}
		return sum
	})
	x := tensors.FromShape(shapes.Make(dtypes.Float32, 512, 576))
	k := tensors.FromShape(shapes.Make(dtypes.Float32, 576, 128))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			exe.MustExec(x, k)
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("100 runs of four independent matmuls did not finish in a minute: the worker pool deadlocked")
	}
}
