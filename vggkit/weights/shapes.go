package weights

import (
	"fmt"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// avgWeight is the value given to a batch norm's avg_weight (GoMLX's count of updates
// of its moving averages). Inference ignores it; in training GoMLX's momentum is
// min(0.9, 1-1/(avg_weight+1)), so 0 would replace the loaded statistics with the first
// batch's. From 10 on it is PyTorch's fixed momentum (0.1 in PyTorch's terms), as
// fine-tuning in PyTorch would continue.
const avgWeight = 10

// param is one vggkit variable and the PyTorch tensor it comes from.
type param struct {
	torch string // torchvision's name: "features.3.weight".
	path  string // vggkit's path under the model: "features/2/weights".
	want  []int  // vggkit's shape.
	from  []int  // PyTorch's shape.
	conv  func(src []float32, from []int) []float32
	head  bool // part of the classifier (may be left out for a new head).
}

// Shapes returns the shapes of the model's variables, by path under the model as
// training.Learner.Variables names them ("features/0/weights"), for images of the given
// number of channels: what Load must produce. It builds no graph.
func Shapes(m config.Model, channels int) (map[string][]int, error) {
	ps, err := params(m, channels)
	if err != nil {
		return nil, err
	}
	out := map[string][]int{}
	for _, p := range ps {
		out[p.path] = p.want
	}
	return out, nil
}

// params lists the model's variables in order, with their torchvision names: the
// convolutions at vggkit's index into vgg.Cfgs (which counts "M"), torchvision's at its
// nn.Sequential index (conv, [bn,] relu per conv; one max-pool per "M").
func params(m config.Model, channels int) ([]param, error) {
	m = m.Resolve()
	cfg, ok := vgg.Cfgs[m.Arch]
	if !ok {
		return nil, fmt.Errorf("unknown arch %q: valid are %v", m.Arch, vgg.Archs())
	}
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("images of %d channels: VGG here takes 3 (RGB) or 1 (grey)", channels)
	}
	var ps []param
	t, cin := 0, channels
	for i, v := range cfg {
		if v == vgg.M {
			t++
			continue
		}
		cout := m.Channels(v)
		ps = append(ps, convParams(i, t, cin, cout)...)
		t += 2
		if m.BatchNorm {
			ps = append(ps, bnParams(i, t-1, cout)...)
			t++
		}
		cin = cout
	}
	return append(ps, headParams(m, cin)...), nil
}

func convParams(i, t, cin, cout int) []param {
	pre, to := fmt.Sprintf("features.%d.", t), fmt.Sprintf("features/%d/", i)
	return []param{
		{torch: pre + "weight", path: to + "weights", want: []int{3, 3, cin, cout}, from: []int{cout, cin, 3, 3}, conv: oihwToHWIO},
		{torch: pre + "bias", path: to + "biases", want: []int{cout}, from: []int{cout}, conv: same},
	}
}

// bnParams are BatchNorm2d's tensors in the scope norm.BatchNorm makes under the conv's.
func bnParams(i, t, c int) []param {
	pre, to := fmt.Sprintf("features.%d.", t), fmt.Sprintf("features/%d/batch_normalization/", i)
	var ps []param
	for _, n := range [][2]string{{"weight", "scale"}, {"bias", "offset"}, {"running_mean", "mean"}, {"running_var", "variance"}} {
		ps = append(ps, param{torch: pre + n[0], path: to + n[1], want: []int{c}, from: []int{c}, conv: same})
	}
	// No PyTorch tensor: set by Load (see avgWeight).
	return append(ps, param{path: to + "avg_weight", want: []int{c}})
}

// headParams: the GAP head is one Linear(C, classes) ("classifier.0" in a torchvision-
// style file); the classic head is torchvision's classifier.0, .3, .6. layers.Dense
// keeps its weights [in, out] in a "dense" sub-scope; PyTorch's Linear is [out, in].
func headParams(m config.Model, c int) []param {
	if m.Head == config.HeadGAP {
		return dense(0, c, m.Classes, transpose)
	}
	hidden := m.Channels(4096)
	// vggkit flattens the 7x7 map in H,W,C order, PyTorch in C,H,W.
	ps := dense(0, 7*7*c, hidden, flattenCHWtoHWC(c))
	ps = append(ps, dense(3, hidden, hidden, transpose)...)
	return append(ps, dense(6, hidden, m.Classes, transpose)...)
}

func dense(k, in, out int, conv func([]float32, []int) []float32) []param {
	pre, to := fmt.Sprintf("classifier.%d.", k), fmt.Sprintf("classifier/%d/dense/", k)
	return []param{
		{torch: pre + "weight", path: to + "weights", want: []int{in, out}, from: []int{out, in}, conv: conv, head: true},
		{torch: pre + "bias", path: to + "biases", want: []int{out}, from: []int{out}, conv: same, head: true},
	}
}
