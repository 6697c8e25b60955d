// Package backend picks the compute backend vggkit runs on and says why.
//
// Order: $GOMLX_BACKEND when set; else XLA through a PJRT plugin found on disk
// (CUDA first, then CPU); else GoMLX's pure-Go backend. GoMLX's own default set-up
// tries to download the XLA CPU plugin and, offline, fails instead of falling back;
// vggkit turns that auto-install off and decides itself, so it never hangs offline.
package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // the pure-Go backend, always available.
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/pjrt"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/cpukernels"
)

// EnvVar is GoMLX's variable that overrides the choice, e.g. "go", "xla:cpu", "xla:cuda".
const EnvVar = compute.ConfigEnvVar

// Choice is the backend that runs, with the reason it was picked.
type Choice struct {
	Backend  compute.Backend
	Config   string // e.g. "go", "xla:cuda"
	Reason   string
	Platform string // "go", "cpu" (XLA on CPU) or "cuda"
}

// IsGo tells whether the pure-Go backend runs (the model then uses its fastest form there).
func (c *Choice) IsGo() bool { return c.Backend.String() == "go" }

// IsXLACPU tells whether XLA runs on the CPU (the model then mixes native and im2col
// convolutions, which measured fastest there).
func (c *Choice) IsXLACPU() bool { return !c.IsGo() && c.Platform == "cpu" }

// String is a one-line report: backend, device, reason. A plugin loaded by its path is
// named by its platform ("xla:cpu") and the path said once, in the reason: GoMLX's own
// description repeats it twice more.
func (c *Choice) String() string {
	dev := ""
	if c.Backend.NumDevices() > 0 {
		dev = c.Backend.DeviceDescription(0)
	}
	name, desc := c.Config, c.Backend.Description()
	if path, ok := strings.CutPrefix(c.Config, "xla:"); ok && filepath.IsAbs(path) {
		name = "xla:" + c.Platform
		desc = strings.TrimPrefix(desc, c.Config+" - ")
		desc = strings.ReplaceAll(desc, " ("+path+")", "")
		desc = strings.ReplaceAll(desc, path, filepath.Base(path))
	}
	return fmt.Sprintf("backend %s (%s), device %q: %s", name, desc, dev, c.Reason)
}

// Plugins lists the PJRT plugins found on disk (name -> path), without installing anything.
func Plugins() map[string]string {
	return pjrt.AvailablePlugins()
}

// New picks a backend. It never downloads anything.
func New() (*Choice, error) {
	xla.EnableAutoInstall(false)
	if _, err := config.Env().CPUDevices(); err != nil {
		return nil, err // not a reason to fall back to the pure-Go backend quietly
	}
	if cfg := config.Env().Backend; cfg != "" {
		if path := strings.TrimPrefix(cfg, "xla:"); filepath.IsAbs(path) && platformOf(path) == "cuda" {
			// A JAX plugin named by path: its NVIDIA libraries are in the same site-packages.
			site := filepath.Dir(filepath.Dir(filepath.Dir(path)))
			pluginAt(path, site).prepare()
		}
		b, err := newWithConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %w (valid: \"go\", \"xla:cpu\", \"xla:cuda\")", EnvVar, cfg, err)
		}
		platform := "go"
		if strings.HasPrefix(cfg, "xla") {
			platform = platformOf(cfg)
		}
		return &Choice{b, cfg, fmt.Sprintf("set by %s", EnvVar), platform}, nil
	}
	plugins := Plugins()
	var tried []string
	for _, name := range []string{"cuda", "cpu"} {
		path, ok := findPlugin(plugins, name)
		cfg := "xla:" + name
		if !ok && name == "cuda" {
			if c, err := newCUDAFromPython(); c != nil || err != nil {
				if c != nil {
					return c, nil
				}
				tried = append(tried, err.Error())
			}
			continue
		}
		if !ok {
			// The plugin `vggkit doctor --install cpu` put in vggkit's cache.
			if path, ok = InstalledPlugin(name); !ok {
				continue
			}
			cfg = "xla:" + path
		}
		b, err := newWithConfig(cfg)
		if err == nil {
			return &Choice{b, cfg, fmt.Sprintf("PJRT plugin found at %s", path), name}, nil
		}
		tried = append(tried, fmt.Sprintf("%s (%s) failed: %v", cfg, path, err))
	}
	b, err := newWithConfig("go")
	if err != nil {
		return nil, err
	}
	reason := "no PJRT plugin found (searched $PJRT_PLUGIN_LIBRARY_PATH, /usr/local/lib/go-xla, ~/.local/lib/go-xla, " +
		PluginDir() + "); using GoMLX's pure-Go backend, with convolutions in its fastest form " +
		"(`vggkit doctor --install cpu` installs the XLA CPU plugin)"
	if len(tried) > 0 {
		reason = strings.Join(tried, "; ") + "; falling back to GoMLX's pure-Go backend"
	}
	return &Choice{b, "go", reason, "go"}, nil
}

// newCUDAFromPython tries the CUDA plugins of Python environments and vggkit's cache (see
// FindCUDAPlugins) when a GPU is present. Neither a choice nor an error: none was found.
func newCUDAFromPython() (*Choice, error) {
	if !hasNvidiaGPU() {
		return nil, nil
	}
	var errs []string
	for _, p := range FindCUDAPlugins() {
		failed := p.prepare()
		cfg := "xla:" + p.Path
		b, err := newWithConfig(cfg)
		if err == nil {
			return &Choice{b, cfg, fmt.Sprintf("CUDA PJRT plugin found at %s (NVIDIA libraries from %s)", p.Path, p.Site), "cuda"}, nil
		}
		msg := fmt.Sprintf("%s failed: %v", cfg, err)
		if len(failed) > 0 {
			msg += fmt.Sprintf(" (%d NVIDIA libraries did not load, e.g. %s)", len(failed), failed[0])
		}
		errs = append(errs, msg)
	}
	if len(errs) == 0 {
		return nil, nil
	}
	return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
}

// findPlugin matches "cuda" to "cuda", "cuda13" or "cuda_v0.x" style names.
func findPlugin(plugins map[string]string, name string) (string, bool) {
	names := make([]string, 0, len(plugins))
	for n := range plugins {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if n == name || strings.HasPrefix(n, name) {
			return plugins[n], true
		}
	}
	return "", false
}

// oneDNNConvolutions is the switch that vggkit's go-xla patch (third_party/go-xla.patch)
// adds to the XLA backend. Through an interface, vggkit also builds against upstream
// go-xla (without the go.work of scripts/go-xla-patch.sh, as in a module that imports
// vggkit), only without oneDNN: see GoXLAPatched.
type oneDNNConvolutions interface {
	SetCPUConvolutionWithOneDNN(on bool)
	CPUConvolutionsWithOneDNN() bool
}

// OneDNN reports whether this backend emits oneDNN convolutions (XLA CPU, unless
// VGGKIT_ONEDNN=0).
func (c *Choice) OneDNN() bool {
	s, ok := c.Backend.(oneDNNConvolutions)
	return ok && s.CPUConvolutionsWithOneDNN()
}

// OneDNNEnvVar set to 0 keeps XLA's own CPU convolutions (for comparisons).
const OneDNNEnvVar = config.EnvOneDNN

// newGoBackend is the pure-Go backend with an unlimited worker pool (goroutines; the Go
// scheduler spreads them over the cores). With compute v0.1.3's default pool, independent
// large matmuls that run at once each wait in workerspool.Pool.Saturate for a worker the
// other holds: a training run deadlocked for good (seen in CI; four independent matmuls
// deadlock every time, TestGoBackendConcurrentMatmuls). ops_sequential also avoids it, at
// 30 % of the pure-Go backend's training speed; this costs nothing measurable. compute
// prints the setting ("Go backend: parallelism set to -1") on standard output, which is
// vggkit's output (tables, JSON, notebook cells): os.Stdout is the null device meanwhile.
func newGoBackend() (compute.Backend, error) {
	if null, err := os.Open(os.DevNull); err == nil {
		defer null.Close()
		stdout := os.Stdout
		os.Stdout = null
		defer func() { os.Stdout = stdout }()
	}
	return compute.NewWithConfig("go:parallelism=-1")
}

// newWithConfig wraps compute.NewWithConfig, which panics on unknown names. On the XLA
// CPU plugin it turns on oneDNN convolutions (vggkit's go-xla patch): 1.2-2.9x
// faster than XLA's own on VGG's forward convolutions.
func newWithConfig(cfg string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	switch {
	case platformOf(cfg) == "cpu" && strings.HasPrefix(cfg, "xla:"):
		devices, derr := config.Env().CPUDevices()
		if derr != nil {
			return nil, derr
		}
		opts := pjrt.NamedValuesMap{"cpu_device_count": int64(devices)}
		withoutSIGPROF(func() { b, err = xla.NewWithOptions(strings.TrimPrefix(cfg, "xla:"), opts) })
	case cfg == "go":
		b, err = newGoBackend()
	default:
		withoutSIGPROF(func() { b, err = compute.NewWithConfig(cfg) })
	}
	if s, ok := b.(oneDNNConvolutions); ok && err == nil && platformOf(cfg) == "cpu" {
		s.SetCPUConvolutionWithOneDNN(config.Env().OneDNN)
	}
	if s, ok := b.(cpuKernelCalls); ok && err == nil && platformOf(cfg) == "cpu" &&
		config.Env().CPUKernels && cpukernels.Supported() {
		cpuKernelsOnce.Do(func() {
			cpuKernelsErr = s.SetCPUConvKernelGradient(cpukernels.KernelGradTarget, cpukernels.KernelGradHandler(), cpukernels.KernelGradFits)
			if cpuKernelsErr == nil {
				cpuKernelsErr = s.SetCPUConvolution(cpukernels.ConvTarget, cpukernels.ConvTransposedTarget,
					cpukernels.ConvHandler(false), cpukernels.ConvHandler(true), cpukernels.ConvFits)
			}
			if cpuKernelsErr == nil {
				cpuKernelsErr = cpukernels.CheckRegistered()
			}
		})
		// XLA's registry is process-wide: backends made after the first only emit the calls.
		// If registering failed, none emits them (XLA's own form); doctor says why.
		target, conv, convT := cpukernels.KernelGradTarget, cpukernels.ConvTarget, cpukernels.ConvTransposedTarget
		if cpuKernelsErr != nil {
			target, conv, convT = "", "", ""
		}
		if err = s.SetCPUConvKernelGradient(target, nil, cpukernels.KernelGradFits); err == nil {
			err = s.SetCPUConvolution(conv, convT, nil, nil, cpukernels.ConvFits)
		}
	}
	return b, err
}

// cpuKernelCalls is the second switch of vggkit's go-xla patch: custom calls to
// vggkit's own AVX-512 kernels (vggkit/cpukernels) for convolution kernel gradients (2.6x
// faster than XLA's form at 96 px, width 1/4) and for convolutions on maps of 8x8 and
// below (1.2-1.8x faster than XLA's and oneDNN's there); bench/convops. By interface for
// the same reason as oneDNNConvolutions.
type cpuKernelCalls interface {
	SetCPUConvKernelGradient(target string, handler unsafe.Pointer, fits func(x, dy []int) bool) error
	CPUConvKernelGradient() string
	SetCPUConvolution(target, targetTransposed string, handler, handlerTransposed unsafe.Pointer, fits func(x, y []int) bool) error
	CPUConvolution() (target, targetTransposed string)
}

// CPUKernelsEnvVar set to 0 keeps XLA's (and oneDNN's) convolutions: no vggkit kernels.
const CPUKernelsEnvVar = config.EnvCPUKernels

var (
	cpuKernelsOnce sync.Once
	cpuKernelsErr  error
)

// CPUKernels reports whether this backend runs vggkit's own CPU kernels (XLA CPU on an
// AVX-512 machine, unless VGGKIT_CPUKERNELS=0), and why not when registering them failed.
func (c *Choice) CPUKernels() (bool, error) {
	s, ok := c.Backend.(cpuKernelCalls)
	return ok && s.CPUConvKernelGradient() != "", cpuKernelsErr
}
