package weights

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/config"
)

// Loaded is a state dict turned into a model's variables.
type Loaded struct {
	Format string
	// Vars are keyed by path under the model, in vggkit's layout: what
	// training.Learner.SetVariables takes.
	Vars map[string]*tensors.Tensor
	// Fresh are the model's head variables the file did not give (a head for other
	// classes, another kind of head, or none): the model initialises them.
	Fresh []string
	// Unused are the file's tensors left out for that reason (torchvision names).
	Unused []string
}

// Load reads a state dict (Read) with torchvision's or timm's names and maps it onto
// the variables of model m for RGB images. Every tensor must be one the model has, of
// the shape it wants, except: num_batches_tracked (unused), and the head when the
// model's differs: a classic 1000-class head loads whole into a classic 1000-class
// model, without its last layer into a classic model of other classes, and not at all
// into a GAP-head model.
func Load(path string, m config.Model) (*Loaded, error) {
	rs, format, err := readRaw(path)
	if err != nil {
		return nil, err
	}
	l, err := convert(rs, m.Resolve())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	l.Format = format
	return l, nil
}

func convert(rs map[string]raw, m config.Model) (*Loaded, error) {
	rs, err := fromTimm(rs)
	if err != nil {
		return nil, err
	}
	ps, err := params(m, 3)
	if err != nil {
		return nil, err
	}
	l := &Loaded{Vars: map[string]*tensors.Tensor{}}
	drop := headToDrop(rs, m, ps)
	if err := checkKnown(rs, ps, drop, m); err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.head && drop[p.torch] {
			l.Fresh = append(l.Fresh, p.path)
			continue
		}
		t, err := convertParam(rs, p, m)
		if err != nil {
			return nil, err
		}
		l.Vars[p.path] = t
	}
	for _, name := range sortedNames(rs) {
		if drop[name] {
			l.Unused = append(l.Unused, name)
		}
	}
	return l, nil
}

func convertParam(rs map[string]raw, p param, m config.Model) (*tensors.Tensor, error) {
	if p.torch == "" { // avg_weight.
		v := make([]float32, p.want[0])
		for i := range v {
			v[i] = avgWeight
		}
		return tensors.FromFlatDataAndDimensions(v, p.want...), nil
	}
	r, ok := rs[p.torch]
	switch {
	case !ok:
		return nil, fmt.Errorf("tensor %s is missing: %s wants it, shape %v", p.torch, m.Name(), p.from)
	case !slices.Equal(r.dims, p.from):
		return nil, fmt.Errorf("tensor %s has shape %v, %s wants %v", p.torch, r.dims, m.Name(), p.from)
	case r.f32 == nil:
		return nil, fmt.Errorf("tensor %s holds integers, want floating point", p.torch)
	}
	return tensors.FromFlatDataAndDimensions(p.conv(r.f32, r.dims), p.want...), nil
}

// checkKnown refuses tensors the model has no place for.
func checkKnown(rs map[string]raw, ps []param, drop map[string]bool, m config.Model) error {
	known := map[string]bool{}
	for _, p := range ps {
		known[p.torch] = true
	}
	for _, name := range sortedNames(rs) {
		if !known[name] && !drop[name] && !strings.HasSuffix(name, ".num_batches_tracked") {
			return fmt.Errorf("tensor %s (shape %v) has no place in %s: another arch, batch norm setting or head?", name, rs[name].dims, m.Name())
		}
	}
	return nil
}

// headToDrop names the head tensors (the file's, and the model's torchvision names)
// left for fresh initialisation: all of them when the file's head is of another kind
// (or absent), the last layer when only the number of classes differs.
func headToDrop(rs map[string]raw, m config.Model, ps []param) map[string]bool {
	drop := map[string]bool{}
	all := func() {
		for name := range rs {
			if strings.HasPrefix(name, "classifier.") {
				drop[name] = true
			}
		}
		for _, p := range ps {
			if p.head {
				drop[p.torch] = true
			}
		}
	}
	if fileHead(rs) != m.Head {
		all()
		return drop
	}
	last := "classifier.0."
	if m.Head == config.HeadClassic {
		last = "classifier.6."
	}
	for _, p := range ps {
		w, ok := rs[p.torch]
		if p.torch == last+"weight" && ok && len(w.dims) == 2 && w.dims[0] != m.Classes && w.dims[1] == p.from[1] {
			drop[last+"weight"], drop[last+"bias"] = true, true
		}
	}
	return drop
}

// fileHead tells the file's head: classic (torchvision's three layers), GAP (one
// Linear) or none ("").
func fileHead(rs map[string]raw) string {
	_, c3 := rs["classifier.3.weight"]
	_, c6 := rs["classifier.6.weight"]
	_, c0 := rs["classifier.0.weight"]
	switch {
	case c3 || c6:
		return config.HeadClassic
	case c0:
		return config.HeadGAP
	}
	return ""
}

// fromTimm renames timm's VGG tensors (timm/models/vgg.py: features.* as torchvision;
// the classifier as ConvMlp pre_logits.fc1, a 7x7 conv, and fc2, a 1x1 conv, then
// head.fc) to torchvision's. A conv [O,C,7,7] read row-major is the Linear [O,C*49]
// with inputs in C,H,W order, as torchvision's classifier.0.
func fromTimm(rs map[string]raw) (map[string]raw, error) {
	ren := map[string]string{
		"pre_logits.fc1.": "classifier.0.", "pre_logits.fc2.": "classifier.3.", "head.fc.": "classifier.6.",
	}
	out := make(map[string]raw, len(rs))
	for name, r := range rs {
		to := name
		for from, tv := range ren {
			if rest, ok := strings.CutPrefix(name, from); ok {
				to = tv + rest
			}
		}
		if strings.HasPrefix(name, "pre_logits.") && strings.HasSuffix(name, ".weight") {
			if len(r.dims) != 4 {
				return nil, fmt.Errorf("tensor %s has shape %v: want a conv kernel [out,in,kH,kW]", name, r.dims)
			}
			r.dims = []int{r.dims[0], r.dims[1] * r.dims[2] * r.dims[3]}
		}
		if _, dup := rs[to]; dup && to != name {
			return nil, fmt.Errorf("tensor %s and %s both hold %s: mixed timm and torchvision names", name, to, to)
		}
		out[to] = r
	}
	return out, nil
}
