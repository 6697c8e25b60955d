package training

import (
	"errors"

	"github.com/gomlx/gomlx/core/tensors"
)

// torchWeights reads torchvision's or timm's weights (placeholder until vggkit/weights lands).
func (l *Learner) torchWeights(arg string) (map[string]*tensors.Tensor, error) {
	return nil, errors.New("torchvision weights: not yet")
}
