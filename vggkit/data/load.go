package data

import (
	"fmt"
	"strings"
)

// AllFolds selects every train image of STL-10 (LoadOptions.Fold, LoadSTL10).
const AllFolds = -1

// LoadOptions tune Load. Start from DefaultLoadOptions(): the zero value's
// Fold 0 means "fold 0 only", not "all".
type LoadOptions struct {
	Dir      string // where STL-10 is (or dir/stl10_binary); "" = DefaultCacheDir().
	Fold     int    // STL-10 train: AllFolds (-1) or a fold 0..9. Shapes10 has no folds: it must be -1.
	PerClass int    // Shapes10 only: images per class; <= 0 = the split's default (500 train, 100 test).
}

// DefaultLoadOptions are the options Load should usually get: the default cache
// folder and all train images.
func DefaultLoadOptions() LoadOptions { return LoadOptions{Fold: AllFolds} }

// DatasetNames are the names Load accepts.
var DatasetNames = []string{"auto", "stl10", "shapes10"}

// Load returns one split of a dataset by name: "stl10" (from opts.Dir),
// "shapes10" (generated, no files) or "auto" (also ""): STL-10 when its files are
// in opts.Dir, else Shapes10, so a notebook runs the same code online,
// offline and before the 2.6 GB download.
func Load(name, split string, opts LoadOptions) (*Set, error) {
	dir := opts.Dir
	if dir == "" {
		dir = DefaultCacheDir()
	}
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "stl10", "stl-10":
		return LoadSTL10(dir, split, opts.Fold)
	case "shapes10":
		return loadShapes10(split, opts)
	case "auto", "":
		if _, ok := FindSTL10(dir); ok {
			return LoadSTL10(dir, split, opts.Fold)
		}
		return loadShapes10(split, opts)
	default:
		return nil, fmt.Errorf("unknown dataset %q: want one of %s", name, strings.Join(DatasetNames, ", "))
	}
}

func loadShapes10(split string, opts LoadOptions) (*Set, error) {
	if opts.Fold != AllFolds {
		// An error rather than ignoring it: asking for a fold means expecting
		// 1000 STL-10 images, and silently getting 5000 other ones would mislead.
		return nil, fmt.Errorf("Shapes10 has no folds (Fold=%d): use Fold -1 (AllFolds), or put STL-10 in place for its folds", opts.Fold)
	}
	return Shapes10(split, opts.PerClass)
}
