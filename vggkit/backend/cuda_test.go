package backend

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSite writes the layout of a Python environment with JAX's CUDA plugin and the
// nvidia-* wheels, for the given plugin folders (e.g. "xla_cuda13").
func fakeSite(t *testing.T, site string, plugins ...string) {
	t.Helper()
	files := []string{"nvidia/cu13/lib/libcublas.so.13", "nvidia/cudnn/lib/libcudnn.so.9", "nvidia/cu13/bin/ptxas"}
	for _, p := range plugins {
		files = append(files, "jax_plugins/"+p+"/xla_cuda_plugin.so")
	}
	for _, f := range files {
		p := filepath.Join(site, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("not really a library"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func stubPython(t *testing.T, sites ...string) {
	old := pythonSitePaths
	t.Cleanup(func() { pythonSitePaths = old })
	pythonSitePaths = func() []string { return sites }
}

func TestFindCUDAPluginsInPythonEnvironments(t *testing.T) {
	t.Setenv("VGGKIT_CACHE", t.TempDir())
	t.Setenv("CUDA_HOME", "")
	site := t.TempDir()
	fakeSite(t, site, "xla_cuda12", "xla_cuda13")
	stubPython(t, t.TempDir(), site) // an empty sys.path entry first
	got := FindCUDAPlugins()
	if len(got) != 2 {
		t.Fatalf("found %d plugins, want 2: %+v", len(got), got)
	}
	p := got[0]
	if !strings.Contains(p.Path, "xla_cuda13") || p.Site != site {
		t.Errorf("first plugin %s in %s: want CUDA 13's, in %s", p.Path, p.Site, site)
	}
	want := []string{filepath.Join(site, "nvidia/cu13/lib"), filepath.Join(site, "nvidia/cudnn/lib")}
	if strings.Join(p.LibDirs, ",") != strings.Join(want, ",") {
		t.Errorf("library folders %q, want %q", p.LibDirs, want)
	}
	if p.DataDir != filepath.Join(site, "nvidia/cu13") {
		t.Errorf("CUDA data dir %q, want the folder with bin/ptxas", p.DataDir)
	}
	// Not libraries: the preload reports them as not loaded rather than failing.
	if failed := preloadLibraries(p.LibDirs); len(failed) != 2 {
		t.Errorf("preload of fake libraries: %d reported as not loaded, want 2", len(failed))
	}
}

// Without a GPU, New never tries a CUDA plugin, even with one installed.
func TestNoGPUNoCUDA(t *testing.T) {
	t.Setenv("VGGKIT_CACHE", t.TempDir())
	t.Setenv(EnvVar, "")
	site := t.TempDir()
	fakeSite(t, site, "xla_cuda13")
	stubPython(t, site)
	old := hasNvidiaGPU
	defer func() { hasNvidiaGPU = old }()
	hasNvidiaGPU = func() bool { return false }
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if c.Platform == "cuda" || strings.Contains(c.Reason, "xla_cuda") {
		t.Errorf("without a GPU the choice is %s", c)
	}
	// With a "GPU" the fake plugin is tried, fails to load, and the reason says so.
	hasNvidiaGPU = func() bool { return true }
	c, err = New()
	if err != nil {
		t.Fatal(err)
	}
	if c.Platform == "cuda" || !strings.Contains(c.Reason, "xla_cuda13") {
		t.Errorf("a broken CUDA plugin must be named in the reason and skipped: %s", c)
	}
}

func TestInstallCUDA(t *testing.T) {
	t.Setenv("VGGKIT_CACHE", t.TempDir())
	stubPython(t)
	old := pipInstall
	defer func() { pipInstall = old }()
	var got []string
	pipInstall = func(_ context.Context, target string, pkgs []string, _ io.Writer) error {
		got = pkgs
		fakeSite(t, target, "xla_cuda13")
		return nil
	}
	p, err := InstallCUDA(context.Background(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(PluginDir(), "cuda", "jax_plugins", "xla_cuda13", "xla_cuda_plugin.so"); p != want {
		t.Errorf("plugin at %s, want %s", p, want)
	}
	if len(got) == 0 || !strings.HasPrefix(got[0], "jax-cuda13-pjrt==") || !strings.Contains(strings.Join(got, " "), "nvidia-cudnn-cu13") {
		t.Errorf("pip asked for %q", got)
	}
	// Present now: a second install does not call pip.
	pipInstall = func(context.Context, string, []string, io.Writer) error { t.Error("pip called again"); return nil }
	if q, err := InstallCUDA(context.Background(), io.Discard); err != nil || q != p {
		t.Errorf("second install: %s, %v", q, err)
	}
}

// A failed pip (offline) leaves no half-installed folder that would look usable.
func TestInstallCUDAOffline(t *testing.T) {
	t.Setenv("VGGKIT_CACHE", t.TempDir())
	stubPython(t)
	old := pipInstall
	defer func() { pipInstall = old }()
	pipInstall = func(_ context.Context, target string, _ []string, _ io.Writer) error {
		os.WriteFile(filepath.Join(target, "partial"), nil, 0o644)
		return errors.New("exit status 1: no network")
	}
	_, err := InstallCUDA(context.Background(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "offline?") || !strings.Contains(err.Error(), "no network") {
		t.Fatalf("error %v: want it to say pip failed and why", err)
	}
	entries, _ := os.ReadDir(PluginDir())
	if len(entries) != 0 || len(FindCUDAPlugins()) != 0 {
		t.Errorf("after a failed install the plugin folder holds %d entries", len(entries))
	}
}
