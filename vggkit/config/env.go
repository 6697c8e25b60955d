package config

import (
	"os"
	"path/filepath"
)

// Environment holds every environment variable vggkit reads: this file is the one place
// that reads them (cheap enough to read at each use, so tests can set them).
type Environment struct {
	Cache      string // VGGKIT_CACHE: datasets, PJRT plugins, XLA's autotune results (default: the user cache dir + /vggkit).
	Backend    string // GOMLX_BACKEND: "go", "xla:cpu", "xla:cuda" or "xla:/path/plugin.so" ("": vggkit chooses).
	Conv       string // VGGKIT_CONV: "native", "im2col" or "hybrid" forces the convolution form (benchmarks; "": the fastest measured).
	OneDNN     bool   // VGGKIT_ONEDNN (not "0"): XLA CPU convolutions through oneDNN's custom call.
	CPUKernels bool   // VGGKIT_CPUKERNELS (not "0"): vggkit's AVX-512 convolution kernels on XLA CPU.
	Python     string // VGGKIT_PYTHON: the python whose site-packages may hold JAX's CUDA plugin (default python3).
	CUDAHome   string // CUDA_HOME: a CUDA toolkit (ptxas, libdevice) for XLA.
	XLAFlags   string // XLA_FLAGS: XLA's own flags; vggkit adds its autotune cache to them.
	CUDAChecks string // GOPJRT_CUDA_CHECKS: go-xla's check of the CUDA install ("": vggkit turns it off, see backend).
	Fast       bool   // VGGKIT_FAST: notebooks run a short version (CI).
}

// The names of the variables, for messages.
const (
	EnvCache      = "VGGKIT_CACHE"
	EnvBackend    = "GOMLX_BACKEND"
	EnvConv       = "VGGKIT_CONV"
	EnvOneDNN     = "VGGKIT_ONEDNN"
	EnvCPUKernels = "VGGKIT_CPUKERNELS"
	EnvPython     = "VGGKIT_PYTHON"
	EnvFast       = "VGGKIT_FAST"
	EnvCUDAChecks = "GOPJRT_CUDA_CHECKS"
)

// Env reads the environment.
func Env() Environment {
	e := Environment{
		Cache:      os.Getenv(EnvCache),
		Backend:    os.Getenv(EnvBackend),
		Conv:       os.Getenv(EnvConv),
		OneDNN:     os.Getenv(EnvOneDNN) != "0",
		CPUKernels: os.Getenv(EnvCPUKernels) != "0",
		Python:     os.Getenv(EnvPython),
		CUDAHome:   os.Getenv("CUDA_HOME"),
		XLAFlags:   os.Getenv("XLA_FLAGS"),
		CUDAChecks: os.Getenv(EnvCUDAChecks),
		Fast:       os.Getenv(EnvFast) != "",
	}
	if e.Cache == "" {
		e.Cache = filepath.Join(os.TempDir(), "vggkit")
		if d, err := os.UserCacheDir(); err == nil {
			e.Cache = filepath.Join(d, "vggkit")
		}
	}
	if e.Python == "" {
		e.Python = "python3"
	}
	return e
}
