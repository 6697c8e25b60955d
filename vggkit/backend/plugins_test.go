package backend

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeWheel writes a zip with the plugin member holding `content`.
func fakeWheel(t *testing.T, dir, member string, content []byte) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "xla_cpu_pjrt-0.0.1-py3-none-manylinux_2_27_x86_64.whl"))
	if err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(f)
	w, _ := z.Create(member)
	w.Write(content)
	z.Close()
	f.Close()
}

func TestInstallCPUExtractsThePlugin(t *testing.T) {
	t.Setenv("VGGKIT_CACHE", t.TempDir())
	calls := 0
	old := pipDownload
	defer func() { pipDownload = old }()
	pipDownload = func(_ context.Context, w wheel, dir string, _ io.Writer) error {
		calls++
		fakeWheel(t, dir, w.Member, []byte("ELF-plugin-bytes"))
		return nil
	}
	if _, ok := InstalledPlugin("cpu"); ok {
		t.Fatal("plugin reported before install")
	}
	p, err := InstallCPU(context.Background(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if !bytes.Equal(got, []byte("ELF-plugin-bytes")) || filepath.Base(p) != "pjrt_c_api_cpu_plugin.so" {
		t.Errorf("installed %s with %q", p, got)
	}
	if q, ok := InstalledPlugin("cpu"); !ok || q != p {
		t.Errorf("InstalledPlugin: %q %v", q, ok)
	}
	if _, err := InstallCPU(context.Background(), io.Discard); err != nil || calls != 1 {
		t.Errorf("second install: %v, pip called %d times (want 1: already there)", err, calls)
	}
	if entries, _ := os.ReadDir(PluginDir()); len(entries) != 2 { // plugin + its .json
		t.Errorf("plugin dir holds %d entries (download leftovers?)", len(entries))
	}
}

func TestInstallCPUErrors(t *testing.T) {
	t.Setenv("VGGKIT_CACHE", t.TempDir())
	old := pipDownload
	defer func() { pipDownload = old }()
	pipDownload = func(_ context.Context, w wheel, dir string, _ io.Writer) error {
		fakeWheel(t, dir, "some/other/file.so", []byte("x"))
		return nil
	}
	if _, err := InstallCPU(context.Background(), io.Discard); err == nil || !strings.Contains(err.Error(), "xla_cpu_pjrt.so") {
		t.Errorf("wheel without the plugin: %v", err)
	}
	if _, ok := InstalledPlugin("cpu"); ok {
		t.Error("a failed install left a plugin behind")
	}
}

func TestPlatformOf(t *testing.T) {
	for in, want := range map[string]string{"xla:cuda": "cuda", "xla:cpu": "cpu", "/x/pjrt_c_api_cpu_plugin.so": "cpu",
		"/y/xla_cuda_plugin.so": "cuda", "xla:tpu": ""} {
		if got := platformOf(in); got != want {
			t.Errorf("platformOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// With an installed (or found) XLA CPU plugin, the default choice is XLA on CPU; run by
// scripts/test.sh after `vggkit doctor -install cpu`, skipped where no plugin is there.
func TestDefaultPicksInstalledCPUPlugin(t *testing.T) {
	if _, ok := InstalledPlugin("cpu"); !ok {
		t.Skip("no XLA CPU plugin installed (vggkit doctor -install cpu)")
	}
	t.Setenv(EnvVar, "")
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsXLACPU() || c.IsGo() {
		t.Errorf("choice %s: want XLA on CPU", c)
	}
	// The report names the plugin's path once (GoMLX's description repeats it).
	path, _ := strings.CutPrefix(c.Config, "xla:")
	if s := c.String(); strings.Count(s, path) != 1 || !strings.HasPrefix(s, "backend xla:cpu (") {
		t.Errorf("report %q: want backend xla:cpu and the path %s once", s, path)
	}
}
