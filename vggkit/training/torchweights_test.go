package training

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/refstest"
	"github.com/vggkit/vggkit/vggkit/testbackend"
)

// A torchvision .pth (vgg11_bn layout at 1/16 width, classic 1000-class head) starts a
// 10-class GAP-head model: the trunk is the file's (OIHW turned HWIO), the head fresh,
// and the config follows ImageNet weights (ReLU, ImageNet's normalisation).
func TestNewFromTorchvisionFile(t *testing.T) {
	py := refstest.Python(t)
	dir := t.TempDir()
	out := refstest.Run(t, py, dir, `
import json, torch, torch.nn as nn
from torchvision.models.vgg import cfgs, make_layers
torch.manual_seed(0)
cfg = [v if v == "M" else max(1, int(v / 16 + 0.5)) for v in cfgs["A"]]
m = nn.Module()
m.features = make_layers(cfg, batch_norm=True)
m.classifier = nn.Sequential(nn.Linear(32 * 49, 256), nn.ReLU(True), nn.Dropout(), nn.Linear(256, 256), nn.ReLU(True), nn.Dropout(), nn.Linear(256, 1000))
torch.save(m.state_dict(), "vgg11_bn-tiny.pth")
print(json.dumps({"w00": m.features[0].weight[:, :, 0, 0].flatten().tolist()[:12], "shape": list(m.features[0].weight.shape)}))
`)
	var ref struct {
		W00   []float64 `json:"w00"`
		Shape []int     `json:"shape"`
	}
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	cfg := config.Config{Data: config.Data{Name: "shapes10"},
		Model: config.Model{Arch: "vgg11", BatchNorm: true, Width: 1.0 / 16, InputSize: 32},
		Train: config.Train{Weights: filepath.Join(dir, "vgg11_bn-tiny.pth")}}
	l, err := New(testbackend.Choice(t), cfg, shapesSet(t, "test", 1).Classes)
	if err != nil {
		t.Fatal(err)
	}
	m := l.Config.Model
	if m.Activation != "relu" || m.Mean[0] != config.ImageNetMean[0] || m.Std[2] != config.ImageNetStd[2] {
		t.Errorf("config does not follow ImageNet weights: activation %s, mean %v, std %v", m.Activation, m.Mean, m.Std)
	}
	vars, err := l.Variables()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := vars["classifier/0/dense/weights"]; ok {
		t.Error("the 1000-class head was loaded into a GAP head")
	}
	w := vars["features/0/weights"] // [3,3,3,Cout]: kernel position (0,0), input channels 0..2, per output channel.
	if w == nil || w.Shape().Dimensions[3] != ref.Shape[0] {
		t.Fatalf("features/0/weights: %v, want %d outputs", w, ref.Shape[0])
	}
	flat := w.Value().([][][][]float32)
	// torch weight[o, i, 0, 0] for o-major order: ref.W00[o*3+i].
	for k, want := range ref.W00 {
		o, i := k/3, k%3
		if got := flat[0][0][i][o]; math.Abs(float64(got)-want) > 1e-7 {
			t.Fatalf("features/0/weights[0,0,%d,%d] = %g, file has %g", i, o, got, want)
		}
	}
}
