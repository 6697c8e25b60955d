package weights

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/testbackend"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// forward runs vggkit's model with vars set in a fresh store (as Learner.SetVariables
// does) on uint8 images [n,size,size,3] and returns the logits. It also checks that the
// model built exactly the variables Shapes lists, no more (a misnamed variable would
// otherwise be created with random values).
func forward(t *testing.T, m config.Model, vars map[string]*tensors.Tensor, images []byte, size int) []float32 {
	t.Helper()
	choice := testbackend.Choice(t)
	store := model.NewStore()
	for p, v := range vars {
		if _, err := store.CreateVariable("/model/"+p, v); err != nil {
			t.Fatal(err)
		}
	}
	exec, err := model.NewExec(choice.Backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		logits, _ := vgg.Build(scope.In("model"), m, choice.Ops(), x)
		return logits
	})
	if err != nil {
		t.Fatal(err)
	}
	n := len(images) / (size * size * 3)
	out, err := exec.Call1(tensors.FromFlatDataAndDimensions(images, n, size, size, 3))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Shapes(m, 3)
	if err != nil {
		t.Fatal(err)
	}
	for v := range store.IterVariables() {
		p, ok := strings.CutPrefix(v.Path(), "/model/")
		if !ok {
			continue
		}
		if w, ok := want[p]; !ok || !slices.Equal(w, v.Shape().Dimensions) {
			t.Errorf("model variable %s %s: Shapes says %v (listed: %v)", p, v.Shape(), w, ok)
		}
		delete(want, p)
	}
	if len(want) > 0 {
		t.Errorf("Shapes lists variables the model does not have: %v", want)
	}
	return tensors.MustCopyFlatData[float32](out)
}

func readF32(t *testing.T, path string) []float32 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestLogitsMatchPyTorch loads each reference file (torchvision .pth zip and legacy,
// safetensors with torchvision's and timm's names) and compares vggkit's logits with
// PyTorch's in eval mode on the same images.
func TestLogitsMatchPyTorch(t *testing.T) {
	r := makeRefs(t)
	for _, c := range r.Cases {
		images, err := os.ReadFile(filepath.Join(r.dir, c.Name+".images"))
		if err != nil {
			t.Fatal(err)
		}
		want := readF32(t, filepath.Join(r.dir, c.Name+".logits"))
		for _, f := range sortedNames(c.Files) {
			if f == "bf16" {
				continue // TestReadBF16 checks it: bf16 weights do not give f32 logits.
			}
			t.Run(c.Name+"/"+f, func(t *testing.T) {
				l, err := Load(c.Files[f], c.model())
				if err != nil {
					t.Fatal(err)
				}
				if len(l.Fresh) != 0 || len(l.Unused) != 0 {
					t.Errorf("fresh %v unused %v: want the whole file used", l.Fresh, l.Unused)
				}
				got := forward(t, c.model(), l.Vars, images, c.Size)
				if len(got) != len(want) {
					t.Fatalf("%d logits, PyTorch gave %d", len(got), len(want))
				}
				d := maxDiff(got, want)
				t.Logf("%s %s (%s): max |diff| %.3g, max |logit| %.3g, ratio %.3g", c.Name, f, l.Format, d, c.MaxLogit, d/c.MaxLogit)
				if d > 1e-4*c.MaxLogit {
					t.Errorf("max |diff| %g > 1e-4 * max |logit| %g", d, c.MaxLogit)
				}
			})
		}
	}
}
