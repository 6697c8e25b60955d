package backend

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vggkit/vggkit/vggkit/config"
)

// CUDA comes as JAX's PJRT plugin (the jax-cuda13-pjrt wheel) plus NVIDIA's libraries as
// nvidia-* wheels. vggkit looks for that layout (site-packages/jax_plugins/xla_cuda*/ and
// site-packages/nvidia/) in the Python environments on the machine (the GPU machines and
// most ML images already have it) and in its own cache, where `vggkit doctor -install cuda`
// puts the same wheels with pip.
var cudaWheels = []string{
	// jax-cuda13-plugin 0.12.0.1's "with-cuda" requirements, and the plugin itself.
	"jax-cuda13-pjrt==0.12.0.1",
	"nvidia-cublas>=13.0.0.19", "nvidia-cuda-cupti>=13.0.48", "nvidia-cuda-nvcc>=13.0.48",
	"nvidia-cuda-runtime>=13.0.48", "nvidia-cudnn-cu13>=9.12.0.46,<10.0", "nvidia-cufft>=12.0.0.15",
	"nvidia-cusolver>=12.0.3.29", "nvidia-cusparse>=12.6.2.49", "nvidia-nccl-cu13>=2.27.7",
	"nvidia-nvjitlink>=13.0.39", "nvidia-cuda-nvrtc>=13.0.48", "nvidia-nvshmem-cu13>=3.3.20", "nvidia-nvvm",
}

// pluginGlob finds JAX's CUDA plugins in a site-packages folder (xla_cuda12, xla_cuda13).
const pluginGlob = "jax_plugins/xla_cuda*/xla_cuda_plugin.so"

// cudaSiteDir is where InstallCUDA puts the wheels: a site-packages-like folder.
func cudaSiteDir() string { return filepath.Join(PluginDir(), "cuda") }

// CUDAPlugin is a CUDA PJRT plugin found on disk, with what it needs around it.
type CUDAPlugin struct {
	Path    string   // the plugin .so
	Site    string   // the site-packages folder holding it
	LibDirs []string // folders of NVIDIA libraries to preload (site/nvidia/**/lib)
	DataDir string   // a CUDA folder with bin/ptxas or nvvm/libdevice for XLA, "" if none found
}

// hasNvidiaGPU: device files exist only where a driver sees a GPU; without one, looking
// for (and loading) a CUDA plugin is wasted time.
var hasNvidiaGPU = func() bool {
	m, _ := filepath.Glob("/dev/nvidia[0-9]*")
	return len(m) > 0
}

// pythonSitePaths lists the sys.path folders of python3 (or $VGGKIT_PYTHON); none if
// there is no Python. A variable so tests can stand in for it.
var pythonSitePaths = func() []string {
	py, err := exec.LookPath(config.Env().Python) // "python3" unless set
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", "import sys; print('\\n'.join(p for p in sys.path if p))").Output()
	if err != nil {
		return nil
	}
	return strings.Fields(string(out))
}

// FindCUDAPlugins lists the CUDA plugins in vggkit's cache and in Python's site-packages,
// newest CUDA first (xla_cuda13 before xla_cuda12).
func FindCUDAPlugins() []CUDAPlugin {
	sites := append([]string{cudaSiteDir()}, pythonSitePaths()...)
	var found []CUDAPlugin
	seen := map[string]bool{}
	for _, site := range sites {
		matches, _ := filepath.Glob(filepath.Join(site, pluginGlob))
		sort.Sort(sort.Reverse(sort.StringSlice(matches)))
		for _, m := range matches {
			real, err := filepath.EvalSymlinks(m)
			if err != nil || seen[real] {
				continue
			}
			seen[real] = true
			found = append(found, pluginAt(m, site))
		}
	}
	return found
}

// pluginAt describes the plugin at path in the site-packages folder site.
func pluginAt(path, site string) CUDAPlugin {
	return CUDAPlugin{Path: path, Site: site, LibDirs: nvidiaLibDirs(site), DataDir: cudaDataDir(site)}
}

// nvidiaLibDirs are the lib folders of the nvidia-* wheels (nvidia/cu13/lib, nvidia/cudnn/lib, ...).
func nvidiaLibDirs(site string) []string {
	var dirs []string
	for _, pattern := range []string{"nvidia/*/lib", "nvidia/*/*/lib"} {
		m, _ := filepath.Glob(filepath.Join(site, pattern))
		dirs = append(dirs, m...)
	}
	sort.Strings(dirs)
	return dirs
}

// cudaDataDir finds the folder XLA wants as --xla_gpu_cuda_data_dir: one holding bin/ptxas
// or nvvm/libdevice (from the nvidia-cuda-nvcc and nvidia-nvvm wheels, or a CUDA toolkit).
func cudaDataDir(site string) string {
	cands, _ := filepath.Glob(filepath.Join(site, "nvidia", "*"))
	if h := config.Env().CUDAHome; h != "" {
		cands = append(cands, h)
	}
	cands = append(cands, "/usr/local/cuda")
	for _, d := range cands {
		for _, f := range []string{"bin/ptxas", "nvvm/libdevice"} {
			if _, err := os.Stat(filepath.Join(d, f)); err == nil {
				return d
			}
		}
	}
	return ""
}

// prepare makes the plugin loadable: NVIDIA's libraries preloaded (as JAX does in Python:
// the plugin's own search path does not reach them in every layout) and XLA told where
// ptxas and libdevice are, unless XLA_FLAGS already says.
func (p CUDAPlugin) prepare() []string {
	var failed []string
	if len(p.LibDirs) > 0 {
		failed = preloadLibraries(p.LibDirs)
	}
	// XLA_FLAGS: the user's, and those vggkit adds unless the user's set them already.
	flags := config.Env().XLAFlags
	add := func(name, value string) {
		if !strings.Contains(flags, name) {
			flags = strings.TrimSpace(flags + " --" + name + "=" + value)
		}
	}
	if p.DataDir != "" {
		add("xla_gpu_cuda_data_dir", p.DataDir)
	}
	// XLA autotunes every convolution of a new graph (seconds on VGG16); its results kept
	// on disk make a re-run (a notebook cell run again) compile faster: measured 10.9 s ->
	// 7.0 s for VGG16 bf16 batch 128 on an H100. The flag exists in every CUDA 13 plugin.
	if dir := filepath.Join(PluginDir(), "..", "xla-autotune"); strings.Contains(p.Path, "xla_cuda13") && os.MkdirAll(dir, 0o755) == nil {
		add("xla_gpu_per_fusion_autotune_cache_dir", filepath.Clean(dir))
	}
	if flags != config.Env().XLAFlags {
		os.Setenv("XLA_FLAGS", flags)
	}
	// go-xla's own check looks for nvidia/ beside the plugin's folder only; the layout
	// is handled above, so its warning would only mislead.
	if config.Env().CUDAChecks == "" {
		os.Setenv(config.EnvCUDAChecks, "0")
	}
	return failed
}

// pipInstall installs packages into target; a variable so tests can stand in for pip.
var pipInstall = func(ctx context.Context, target string, pkgs []string, out io.Writer) error {
	py, err := exec.LookPath("python3")
	if err != nil {
		return fmt.Errorf("python3 with pip is needed to download the CUDA plugin: %w", err)
	}
	args := append([]string{"-m", "pip", "install", "--disable-pip-version-check", "--only-binary=:all:",
		"--no-compile", "-q", "--target", target}, pkgs...)
	cmd := exec.CommandContext(ctx, py, args...)
	cmd.Stdout, cmd.Stderr = out, out
	return cmd.Run()
}

// InstallCUDA installs JAX's CUDA 13 PJRT plugin and the NVIDIA libraries it needs (about
// 3 GB) with pip into vggkit's cache (PluginDir()/cuda), unless a CUDA plugin is found
// already. It returns the plugin's path.
func InstallCUDA(ctx context.Context, out io.Writer) (string, error) {
	if ps := FindCUDAPlugins(); len(ps) > 0 {
		fmt.Fprintf(out, "CUDA plugin already present: %s\n", ps[0].Path)
		return ps[0].Path, nil
	}
	if err := os.MkdirAll(PluginDir(), 0o755); err != nil {
		return "", err
	}
	// Into a temporary folder, renamed when complete: an interrupted install leaves
	// nothing that looks usable.
	tmp, err := os.MkdirTemp(PluginDir(), ".cuda-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(out, "installing %s and %d NVIDIA wheels with pip into %s ...\n", cudaWheels[0], len(cudaWheels)-1, cudaSiteDir())
	if err := pipInstall(ctx, tmp, cudaWheels, out); err != nil {
		return "", fmt.Errorf("pip install of the CUDA plugin failed (offline? on a machine without PyPI, install %s with pip elsewhere and copy %s): %w",
			strings.Join(cudaWheels[:1], " "), cudaSiteDir(), err)
	}
	if m, _ := filepath.Glob(filepath.Join(tmp, pluginGlob)); len(m) == 0 {
		return "", fmt.Errorf("pip installed %s but no %s is in %s", cudaWheels[0], pluginGlob, tmp)
	}
	if err := os.RemoveAll(cudaSiteDir()); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, cudaSiteDir()); err != nil {
		return "", err
	}
	ps := FindCUDAPlugins()
	if len(ps) == 0 {
		return "", fmt.Errorf("installed into %s but found no plugin there", cudaSiteDir())
	}
	return ps[0].Path, nil
}
