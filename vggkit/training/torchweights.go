package training

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/weights"
)

// torchWeights reads torchvision's or timm's weights (a variant in the cache, or a file)
// for this model; the head's weights that do not fit it are left to start fresh.
func (l *Learner) torchWeights(arg string) (map[string]*tensors.Tensor, error) {
	path, _, err := weights.Resolve(arg)
	if err != nil {
		return nil, err
	}
	loaded, err := weights.Load(path, l.Config.Model)
	if err != nil {
		return nil, err
	}
	if len(loaded.Fresh) > 0 {
		fresh := append([]string(nil), loaded.Fresh...)
		sort.Strings(fresh)
		fmt.Fprintf(l.Out, "weights %s: %d tensors loaded; new head: %s\n", path, len(loaded.Vars), strings.Join(fresh, ", "))
	}
	return loaded.Vars, nil
}
