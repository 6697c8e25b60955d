package training

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/config"
)

// loadWeights sets the pretrained weights that arg names (Train.Weights): a vggkit
// checkpoint, or torchvision's and timm's files (torchWeights).
func (l *Learner) loadWeights(arg string) error {
	var vars map[string]*tensors.Tensor
	var err error
	if config.ImageNetWeights(arg) {
		vars, err = l.torchWeights(arg)
	} else {
		vars, err = l.checkpointWeights(arg)
	}
	if err != nil {
		return fmt.Errorf("weights %s: %w", arg, err)
	}
	return l.SetVariables(vars)
}

// checkpointWeights reads a vggkit checkpoint's model: its trunk, and its head when this
// model's has the same kind and number of classes. The trunk must be the same VGG.
func (l *Learner) checkpointWeights(path string) (map[string]*tensors.Tensor, error) {
	meta, err := ReadMeta(path)
	if err != nil {
		return nil, err
	}
	if diff := config.Diff(config.Config{Model: meta.Config.Model}, config.Config{Model: l.Config.Model},
		notTrunk...); len(diff) > 0 {
		return nil, fmt.Errorf("its trunk is another model (%s): set the model as the checkpoint has it", strings.Join(diff, "; "))
	}
	src, err := Load(l.Backend, path)
	if err != nil {
		return nil, err
	}
	vars, err := src.Variables()
	if err != nil {
		return nil, err
	}
	m, sm := l.Config.Model, src.Config.Model
	sameHead := m.Head == sm.Head && m.Classes == sm.Classes && m.Width == sm.Width
	for p := range vars {
		if !strings.HasPrefix(p, "features/") && !sameHead {
			delete(vars, p)
		}
	}
	return vars, nil
}

// notTrunk are the model fields that may differ between a checkpoint and a model that
// starts from its weights: the head, the input size and how the model is trained.
var notTrunk = []string{"model.head", "model.classes", "model.dropout", "model.input_size",
	"model.augment", "model.precision"}
