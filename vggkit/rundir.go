package vggkit

import (
	"fmt"
	"strings"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/data"
)

// RunDir is the checkpoint directory of a run, runs/<dataset>-<model>[-first<N>], so
// that a change of dataset, model or training subset starts a new run instead of
// resuming the wrong checkpoint (the notebooks' config.Notebook runs use it).
func RunDir(cfg config.Config, train *data.Set) string {
	name := train.Name + "-" + cfg.Model.Name()
	if cfg.Data.Limit > 0 {
		name += fmt.Sprintf("-first%d", cfg.Data.Limit)
	}
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		case r == ' ' || r == '_' || r == '@':
			b.WriteRune('-')
		}
	}
	return "runs/" + strings.Trim(b.String(), "-")
}
