package weights

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/refstest"
)

// refCase is one model testdata/make_refs.py built in PyTorch: its files, images and logits.
type refCase struct {
	Name     string            `json:"name"`
	Arch     string            `json:"arch"`
	BN       bool              `json:"bn"`
	Head     string            `json:"head"`
	Width    float64           `json:"width"`
	Classes  int               `json:"classes"`
	Size     int               `json:"size"`
	Files    map[string]string `json:"files"`
	MaxLogit float64           `json:"max_logit"`
}

type refSet struct {
	Cases []refCase                   `json:"cases"`
	Full  map[string]map[string][]int `json:"full"` // torchvision's full-width state dicts: name -> shape.
	dir   string
}

func (c refCase) model() config.Model {
	return config.Model{Arch: c.Arch, BatchNorm: c.BN, Activation: "relu", Head: c.Head, Width: c.Width,
		Classes: c.Classes, InputSize: c.Size, Mean: config.ImageNetMean, Std: config.ImageNetStd}.Resolve()
}

func (r *refSet) get(t *testing.T, name string) refCase {
	for _, c := range r.Cases {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no reference case %s", name)
	return refCase{}
}

var (
	refsOnce sync.Once
	refsDir  string
	refs     *refSet
)

// makeRefs runs make_refs.py once for the package's tests (4 s) into a folder
// TestMain removes.
func makeRefs(t *testing.T) *refSet {
	t.Helper()
	py := refstest.Python(t)
	refsOnce.Do(func() {
		script, err := os.ReadFile(filepath.Join("testdata", "make_refs.py"))
		if err != nil {
			t.Fatal(err)
		}
		if refsDir, err = os.MkdirTemp("", "vggkit-weights-refs"); err != nil {
			t.Fatal(err)
		}
		refstest.Run(t, py, refsDir, string(script), refsDir)
		b, err := os.ReadFile(filepath.Join(refsDir, "cases.json"))
		if err != nil {
			t.Fatal(err)
		}
		refs = &refSet{dir: refsDir}
		if err := json.Unmarshal(b, refs); err != nil {
			t.Fatal(err)
		}
	})
	if refs == nil {
		t.Fatal("reference files could not be made (see the first test that tried)")
	}
	return refs
}

func TestMain(m *testing.M) {
	code := m.Run()
	if refsDir != "" {
		os.RemoveAll(refsDir)
	}
	os.Exit(code)
}
