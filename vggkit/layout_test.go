package vggkit

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/vggkit/vggkit"

// imports maps each package of the module (its directory relative to the module
// root, outside third_party) to the module packages its non-test files import.
func imports(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "third_party" || strings.HasPrefix(d.Name(), ".") && path != root) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		dir = filepath.ToSlash(dir)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if rel, ok := strings.CutPrefix(p, module+"/"); ok && !slices.Contains(out[dir], rel) {
				out[dir] = append(out[dir], rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The layout keeps data flowing one way: no package imports its parent (vggkit/report
// and vggkit/nb once imported vggkit), and the pictures are drawn at the top only.
func TestLayout(t *testing.T) {
	deps := imports(t, "..")
	if len(deps["vggkit/pictures"]) == 0 {
		t.Fatal("found no imports of vggkit/pictures: wrong root?")
	}
	pictureUsers := []string{"vggkit", "vggkit/report", "vggkit/nb", "cmd/vggkit"}
	for pkg, imps := range deps {
		for _, imp := range imps {
			if strings.HasPrefix(pkg, imp+"/") {
				t.Errorf("%s imports its parent %s", pkg, imp)
			}
			if imp == "vggkit/pictures" && !slices.Contains(pictureUsers, pkg) {
				t.Errorf("%s imports vggkit/pictures: only %v may", pkg, pictureUsers)
			}
		}
	}
	// The leaves import nothing of the module; internal/ packages only each other.
	for _, leaf := range []string{"vggkit/metrics", "vggkit/config", "internal/regularfile", "internal/atomicfile"} {
		if len(deps[leaf]) > 0 {
			t.Errorf("%s imports %v; it should stand alone", leaf, deps[leaf])
		}
	}
	for pkg, imps := range deps {
		for _, imp := range imps {
			if strings.HasPrefix(pkg, "internal/") && !strings.HasPrefix(imp, "internal/") {
				t.Errorf("%s imports %s: internal packages serve vggkit, not the other way", pkg, imp)
			}
		}
	}
}
