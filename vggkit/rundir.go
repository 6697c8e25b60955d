package vggkit

import (
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strings"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/data"
)

// RunDir is a run folder for cfg, runs/<dataset>-<model>[-first<N>][-<K>classes-<hash>]
// [-from-<weights>], so that a change of dataset, model, training subset or starting
// weights starts a new run (the notebooks use it; a change
// of anything else in an existing folder is refused by Open, naming the fields).
func RunDir(cfg config.Config) string {
	name := data.Resolve(cfg.Data.Name, cfg.Data.Dir) + "-" + cfg.Model.Name()
	if cfg.Data.Limit > 0 {
		name += fmt.Sprintf("-first%d", cfg.Data.Limit)
	}
	if c := cfg.Data.Classes; len(c) > 0 {
		h := fnv.New32a()
		h.Write([]byte(strings.Join(c, "\x00")))
		name += fmt.Sprintf("-%dclasses-%08x", len(c), h.Sum32())
	}
	if w := cfg.Train.Weights; w != "" {
		name += "-from-" + filepath.Base(filepath.Clean(w))
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
