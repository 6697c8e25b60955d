package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lr-find on a tiny model: the three suggestions, the picture, and no run folder left.
func TestLRFind(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	dir := t.TempDir()
	png := filepath.Join(dir, "lr.png")
	code, stdout, errOut := runCLI(t, "lr-find", "-dataset", "shapes10", "-per-class", "4", "-arch", "vgg11", "-bn",
		"-width", "0.0625", "-size", "32", "-batch", "8", "-steps", "30", "-start", "1e-5", "-end", "1", "-out", png)
	if code != 0 {
		t.Fatalf("lr-find: exit %d\n%s\n%s", code, stdout, errOut)
	}
	for _, want := range []string{"lr finder: ", "valley ", "minimum ", "steep ", "train with: -lr "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("lr-find output lacks %q:\n%s", want, stdout)
		}
	}
	if st, err := os.Stat(png); err != nil || st.Size() < 1000 {
		t.Errorf("picture %s: %v", png, err)
	}
	if code, _, errOut := runCLI(t, "lr-find", "-steps", "3"); code != 2 {
		t.Errorf("-steps 3: exit %d, want 2 (%s)", code, errOut)
	}
}
