// Package refstest finds the reference Python that tests compare vggkit against (PyTorch,
// torchvision, safetensors, onnxruntime; scripts/refs.sh sets it up).
package refstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vggkit/vggkit/vggkit/config"
)

// Python returns the reference python (VGGKIT_REFS_PYTHON, else the repository's
// .build/refs/bin/python when present). Without one the test is skipped, or fails under
// VGGKIT_REQUIRE_REFS (CI).
func Python(t testing.TB) string {
	t.Helper()
	env := config.Env()
	py := env.RefsPython
	if py == "" {
		if root, err := repoRoot(); err == nil {
			if p := filepath.Join(root, ".build", "refs", "bin", "python"); fileExists(p) {
				py = p
			}
		}
	}
	if py == "" {
		msg := "no reference python: run scripts/refs.sh and set " + config.EnvRefsPython + " to the path it prints"
		if env.RequireRefs {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return py
}

// Run runs a python script with args in dir and fails the test with its output on error.
func Run(t testing.TB, py, dir, script string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(py, append([]string{"-c", script}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("reference python: %v\n%s", err, out)
	}
	return out
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	for err == nil {
		if fileExists(filepath.Join(dir, "go.mod")) && fileExists(filepath.Join(dir, "scripts", "refs.sh")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
	return "", err
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
