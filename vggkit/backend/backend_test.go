package backend

import (
	"strings"
	"testing"

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
	xlaCPU(t)
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
