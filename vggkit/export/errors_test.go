package export_test

import (
	"io"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/export"
)

// TestONNXRefusesBadInput: each error names the value that is wrong, and nothing is
// written before the whole graph is known to be right.
func TestONNXRefusesBadInput(t *testing.T) {
	m := config.Model{Arch: "vgg11", Width: 0.125, InputSize: 32, Classes: 2}
	w := tensors.FromFlatDataAndDimensions(make([]float32, 3*3*3*8), 3, 3, 3, 8)
	bad := tensors.FromFlatDataAndDimensions(make([]float32, 3*3*1*8), 3, 3, 1, 8)
	cases := []struct {
		name     string
		channels int
		classes  []string
		vars     map[string]*tensors.Tensor
		want     string
	}{
		{"channels", 2, nil, nil, "2 channels"},
		{"class names", 3, []string{"one"}, nil, "1 class names"},
		{"missing variable", 3, nil, map[string]*tensors.Tensor{"features/0/weights": w}, "features/0/biases missing"},
		{"wrong shape", 3, nil, map[string]*tensors.Tensor{"features/0/weights": bad}, "features/0/weights has shape [3 3 1 8]"},
	}
	for _, c := range cases {
		var out strings.Builder
		err := export.ONNX(&out, m, c.channels, c.classes, c.vars)
		if err == nil || !strings.Contains(err.Error(), c.want) || out.Len() != 0 {
			t.Errorf("%s: error %v (want one naming %q), %d bytes written", c.name, err, c.want, out.Len())
		}
	}
	if err := export.ONNX(io.Discard, config.Model{Arch: "vgg11", Classes: 0}, 3, nil, nil); err == nil {
		t.Error("a model of 0 classes was exported")
	}
}
