package backend

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vggkit/vggkit/vggkit/config"
)

// The XLA CPU plugin comes from PyPI (the GitHub download GoMLX's installer uses is not
// reachable everywhere): the xla-cpu-pjrt wheel holds a PJRT CPU plugin that go-xla
// v0.4.1 loads (PJRT C API 0.81 against go-xla's 0.104 headers: measured to compile and
// train VGG). pip is only the downloader; the wheel is opened here.
var cpuWheel = wheel{Package: "xla-cpu-pjrt", Version: "0.0.1", Member: "xla_plugins/xla_cpu_pjrt/xla_cpu_pjrt.so"}

type wheel struct{ Package, Version, Member string }

// PluginDir is where vggkit keeps the PJRT plugins it installs: $VGGKIT_CACHE/pjrt, or
// the user cache dir + /vggkit/pjrt.
func PluginDir() string { return filepath.Join(config.Env().Cache, "pjrt") }

// cpuPluginPath is where InstallCPU puts the plugin, named as go-xla expects.
func cpuPluginPath() string { return filepath.Join(PluginDir(), "pjrt_c_api_cpu_plugin.so") }

// InstalledPlugin tells whether vggkit installed a plugin for the platform ("cpu") and where.
func InstalledPlugin(platform string) (string, bool) {
	if platform != "cpu" {
		return "", false
	}
	p := cpuPluginPath()
	st, err := os.Stat(p)
	return p, err == nil && st.Size() > 0
}

// pipDownload fetches a wheel into dir; a variable so tests can stand in for pip.
var pipDownload = func(ctx context.Context, w wheel, dir string, out io.Writer) error {
	py, err := exec.LookPath("python3")
	if err != nil {
		return fmt.Errorf("python3 with pip is needed to download %s: %w", w.Package, err)
	}
	cmd := exec.CommandContext(ctx, py, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
		"--disable-pip-version-check", "-q", "-d", dir, w.Package+"=="+w.Version)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pip download %s==%s failed (offline? put the wheel's %s at %s by hand): %w",
			w.Package, w.Version, filepath.Base(w.Member), cpuPluginPath(), err)
	}
	return nil
}

// InstallCPU downloads the XLA CPU plugin wheel with pip and extracts the plugin into
// PluginDir (through a temporary file and a rename). It returns the plugin's path.
func InstallCPU(ctx context.Context, out io.Writer) (string, error) {
	if p, ok := InstalledPlugin("cpu"); ok {
		return p, nil
	}
	if err := os.MkdirAll(PluginDir(), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(PluginDir(), ".download-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(out, "downloading %s==%s with pip ...\n", cpuWheel.Package, cpuWheel.Version)
	if err := pipDownload(ctx, cpuWheel, tmp, out); err != nil {
		return "", err
	}
	whl, err := filepath.Glob(filepath.Join(tmp, "*.whl"))
	if err != nil || len(whl) != 1 {
		return "", fmt.Errorf("pip left %d wheels in %s, want 1", len(whl), tmp)
	}
	if err := extractMember(whl[0], cpuWheel.Member, cpuPluginPath()); err != nil {
		return "", err
	}
	meta, _ := json.Marshal(map[string]string{"package": cpuWheel.Package, "version": cpuWheel.Version, "wheel": filepath.Base(whl[0])})
	_ = os.WriteFile(cpuPluginPath()+".json", meta, 0o644)
	return cpuPluginPath(), nil
}

// extractMember copies one file out of a wheel (a zip) to dst, atomically.
func extractMember(wheelPath, member, dst string) error {
	z, err := zip.OpenReader(wheelPath)
	if err != nil {
		return fmt.Errorf("%s: not a readable wheel: %w", wheelPath, err)
	}
	defer z.Close()
	for _, f := range z.File {
		if f.Name != member {
			continue
		}
		r, err := f.Open()
		if err != nil {
			return fmt.Errorf("%s: %s: %w", wheelPath, member, err)
		}
		defer r.Close()
		tmp, err := os.CreateTemp(filepath.Dir(dst), ".plugin-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		if _, err := io.Copy(tmp, r); err != nil {
			tmp.Close()
			return fmt.Errorf("%s: extracting %s: %w", wheelPath, member, err)
		}
		if err := tmp.Chmod(0o755); err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		return os.Rename(tmp.Name(), dst)
	}
	return fmt.Errorf("%s: no %s inside (a different wheel layout?)", wheelPath, member)
}

// platformOf guesses the platform of a plugin from its name or path.
func platformOf(nameOrPath string) string {
	s := strings.ToLower(filepath.Base(nameOrPath))
	switch {
	case strings.Contains(s, "cuda"), strings.Contains(s, "gpu"):
		return "cuda"
	case strings.Contains(s, "cpu"):
		return "cpu"
	}
	return ""
}
