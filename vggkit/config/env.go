package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Environment holds every environment variable vggkit reads: this file is the one place
// that reads them (cheap enough to read at each use, so tests can set them).
type Environment struct {
	Cache         string // VGGKIT_CACHE: datasets, PJRT plugins, XLA's autotune results (default: the user cache dir + /vggkit).
	Backend       string // GOMLX_BACKEND: "go", "xla:cpu", "xla:cuda" or "xla:/path/plugin.so" ("": vggkit chooses).
	Conv          string // VGGKIT_CONV: "native", "im2col" or "hybrid" forces the convolution form (benchmarks; "": the fastest measured).
	OneDNN        bool   // VGGKIT_ONEDNN (not "0"): XLA CPU convolutions through oneDNN's custom call.
	CPUKernels    bool   // VGGKIT_CPUKERNELS (not "0"): vggkit's AVX-512 convolution kernels on XLA CPU.
	CPUDevicesVar string // VGGKIT_CPU_DEVICES: the XLA CPU plugin's devices; "" = 1 (read with CPUDevices).
	Python        string // VGGKIT_PYTHON: the python whose site-packages may hold JAX's CUDA plugin (default python3).
	CUDAHome      string // CUDA_HOME: a CUDA toolkit (ptxas, libdevice) for XLA.
	XLAFlags      string // XLA_FLAGS: XLA's own flags; vggkit adds its autotune cache to them.
	CUDAChecks    string // GOPJRT_CUDA_CHECKS: go-xla's check of the CUDA install ("": vggkit turns it off, see backend).
	Fast          bool   // VGGKIT_FAST: notebooks run a short version (CI).
	// JPY_SESSION_NAME: the notebook's path, set by a Jupyter server for the kernels it
	// starts (a browser may be attached); headless runners (nbconvert, nbclient) do not set it.
	JupyterSession string

	// VGGKIT_REFS_PYTHON: a python with PyTorch, torchvision, safetensors and onnxruntime,
	// which tests use to write reference models and check exports (scripts/refs.sh makes one
	// at .build/refs/bin/python; "": tests that need it are skipped). VGGKIT_REQUIRE_REFS
	// (not ""): such tests fail instead of skipping (CI).
	RefsPython  string
	RequireRefs bool

	// VGGKIT_MAX_IMAGE_PIXELS: the most pixels (width x height) an image may declare before
	// it is decoded, and an image of the IDX (MNIST-family) files may have; "" = 50 million
	// (DefaultMaxImagePixels). Read with MaxImagePixels, which checks it.
	MaxImagePixelsVar string
}

// The names of the variables, for messages.
const (
	EnvCache       = "VGGKIT_CACHE"
	EnvBackend     = "GOMLX_BACKEND"
	EnvConv        = "VGGKIT_CONV"
	EnvOneDNN      = "VGGKIT_ONEDNN"
	EnvCPUKernels  = "VGGKIT_CPUKERNELS"
	EnvMalloc      = "VGGKIT_MALLOC" // "0": glibc's malloc defaults; read in C when the program loads (backend.HugePages)
	EnvCPUDevices  = "VGGKIT_CPU_DEVICES"
	EnvPython      = "VGGKIT_PYTHON"
	EnvFast        = "VGGKIT_FAST"
	EnvCUDAChecks  = "GOPJRT_CUDA_CHECKS"
	EnvMaxPixels   = "VGGKIT_MAX_IMAGE_PIXELS"
	EnvRefsPython  = "VGGKIT_REFS_PYTHON"
	EnvRequireRefs = "VGGKIT_REQUIRE_REFS"
)

// DefaultMaxImagePixels is the pixel limit without VGGKIT_MAX_IMAGE_PIXELS: 50 megapixels,
// larger than any camera photo a classifier is given, and at most 400 MB decoded (16-bit
// RGBA) however the file declares it.
const DefaultMaxImagePixels = 50_000_000

// Env reads the environment.
func Env() Environment {
	e := Environment{
		Cache:          os.Getenv(EnvCache),
		Backend:        os.Getenv(EnvBackend),
		Conv:           os.Getenv(EnvConv),
		OneDNN:         os.Getenv(EnvOneDNN) != "0",
		CPUKernels:     os.Getenv(EnvCPUKernels) != "0",
		CPUDevicesVar:  os.Getenv(EnvCPUDevices),
		Python:         os.Getenv(EnvPython),
		CUDAHome:       os.Getenv("CUDA_HOME"),
		XLAFlags:       os.Getenv("XLA_FLAGS"),
		CUDAChecks:     os.Getenv(EnvCUDAChecks),
		Fast:           os.Getenv(EnvFast) != "",
		JupyterSession: os.Getenv("JPY_SESSION_NAME"),
		RefsPython:     os.Getenv(EnvRefsPython),
		RequireRefs:    os.Getenv(EnvRequireRefs) != "",

		MaxImagePixelsVar: os.Getenv(EnvMaxPixels),
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

// CPUDevices is the number of devices the XLA CPU plugin makes: VGGKIT_CPU_DEVICES, or 1.
// The plugin's own default (4 on a 2-core machine) gave each device its share of threads:
// 4 compute threads on 2 cores were 4-7 % slower per training step than 2. More than one
// serves only to test data-parallel training without GPUs.
func (e Environment) CPUDevices() (int, error) {
	v := strings.TrimSpace(e.CPUDevicesVar)
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%q: want a whole number of devices, at least 1 (unset: 1)", EnvCPUDevices, e.CPUDevicesVar)
	}
	return n, nil
}

// MaxImagePixels is the pixel limit: VGGKIT_MAX_IMAGE_PIXELS (a whole number; underscores
// allowed, as 200_000_000), or DefaultMaxImagePixels when it is unset. A value that is not a
// positive whole number is an error naming the variable.
func (e Environment) MaxImagePixels() (int64, error) {
	v := strings.TrimSpace(e.MaxImagePixelsVar)
	if v == "" {
		return DefaultMaxImagePixels, nil
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(v, "_", ""), 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%q: want a whole number of pixels, at least 1 (unset: %d)", EnvMaxPixels, e.MaxImagePixelsVar, int64(DefaultMaxImagePixels))
	}
	return n, nil
}
