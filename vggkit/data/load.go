package data

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// AllFolds selects every train image of STL-10 (LoadOptions.Fold, LoadSTL10).
const AllFolds = -1

// LoadOptions tune Load. Start from DefaultLoadOptions(): the zero value's
// Fold 0 means "fold 0 only", not "all".
type LoadOptions struct {
	Dir      string // where the dataset's files are (see Load); "" = DefaultCacheDir().
	Fold     int    // STL-10 train: AllFolds (-1) or a fold 0..9. Other datasets have no folds: it must be -1.
	PerClass int    // Shapes10 only: images per class; <= 0 = the split's default (500 train, 100 test).

	Channels     int       // 0 = the dataset's own (3, MNIST family replicated to 3); 1 = grey; 3 = RGB.
	Size         int       // image folders only: images are resized and centre-cropped to Size x Size; 0 = 96.
	TestFraction float64   // image folders without train/ and test/: share of each class held out; 0 = 0.2.
	Seed         uint64    // image folders without train/ and test/: which images are held out.
	Warnings     io.Writer // image folders: where skipped files are listed; nil = os.Stderr.
}

// DefaultLoadOptions are the options Load should usually get: the default cache
// folder and all train images.
func DefaultLoadOptions() LoadOptions { return LoadOptions{Fold: AllFolds} }

// DatasetNames are the names Load accepts ("folder:DIR" stands for any folder).
var DatasetNames = []string{"auto", "stl10", "shapes10", "cifar10", "cifar100", "cifar100-coarse",
	"mnist", "fashion-mnist", "kmnist", "folder:DIR"}

// DownloadNames are the names Download accepts.
var DownloadNames = []string{"stl10", "cifar10", "cifar100", "mnist", "fashion-mnist", "kmnist"}

// Load returns one split of a dataset by name:
//   - "stl10": splits train, test and unlabeled (100000 images, label -1);
//     opts.Fold 0..9 keeps one of the ten 1000-image train folds;
//   - "cifar10", "cifar100" (100 fine classes), "cifar100-coarse" (20 superclasses):
//     the binary releases, splits train and test;
//   - "mnist", "fashion-mnist", "kmnist": the IDX files, splits train and test;
//     grey, given 3 channels unless opts.Channels is 1;
//   - "folder:DIR": an ImageFolder-style folder (LoadImageFolder), resized to
//     opts.Size; DIR's train/ and test/ (or val/) when it has them, else a seeded
//     stratified split (opts.TestFraction, opts.Seed);
//   - "shapes10" (generated, no files);
//   - "auto" (also ""): STL-10 when its files are in opts.Dir, else Shapes10,
//     so a notebook runs the same code online, offline and before the 2.6 GB download.
//
// The downloadable datasets are looked for in opts.Dir (default: the cache
// folder that Download fills).
func Load(name, split string, opts LoadOptions) (*Set, error) {
	name = Resolve(name, opts.Dir)
	dir := opts.Dir
	if dir == "" {
		dir = DefaultCacheDir()
	}
	if opts.Channels != 0 && opts.Channels != 1 && opts.Channels != 3 {
		return nil, fmt.Errorf("channels %d: want 1 (grey) or 3 (RGB)", opts.Channels)
	}
	key := strings.ToLower(strings.TrimSpace(name))
	if path, ok := strings.CutPrefix(strings.TrimSpace(name), "folder:"); ok {
		return loadFolder(path, split, opts)
	}
	var s *Set
	var err error
	switch key {
	case "stl10", "stl-10":
		s, err = LoadSTL10(dir, split, opts.Fold)
	case "shapes10":
		s, err = loadShapes10(split, opts)
	case "auto", "":
		if _, ok := FindSTL10(dir); ok {
			s, err = LoadSTL10(dir, split, opts.Fold)
		} else {
			s, err = loadShapes10(split, opts)
		}
	case "cifar10", "cifar-10", "cifar100", "cifar-100", "cifar100-coarse", "cifar-100-coarse":
		if err = noFolds(name, opts); err != nil {
			return nil, err
		}
		if strings.Contains(key, "100") {
			s, err = LoadCIFAR100(dir, split, strings.HasSuffix(key, "coarse"))
		} else {
			s, err = LoadCIFAR10(dir, split)
		}
	case "mnist", "fashion-mnist", "kmnist":
		if err = noFolds(name, opts); err != nil {
			return nil, err
		}
		return LoadMNIST(key, dir, split, opts.Channels)
	default:
		return nil, fmt.Errorf("unknown dataset %q: want one of %s", name, strings.Join(DatasetNames, ", "))
	}
	if err != nil {
		return nil, err
	}
	if opts.Channels == 1 {
		s = s.grey()
	}
	return s, nil
}

// CheckDataset says whether Load knows the dataset name (as Load reads it: any case, the
// aliases stl-10, cifar-10...) and, when fold is not AllFolds, whether the dataset can
// have folds (STL-10, or auto, which may be STL-10), without reading any file: a command
// line can be refused before any work.
func CheckDataset(name string, fold int) error {
	key := strings.ToLower(strings.TrimSpace(name))
	if strings.HasPrefix(strings.TrimSpace(name), "folder:") {
		key = "folder"
	}
	known := map[string]bool{"auto": true, "": true, "stl10": true, "stl-10": true, "shapes10": true,
		"cifar10": true, "cifar-10": true, "cifar100": true, "cifar-100": true, "cifar100-coarse": true, "cifar-100-coarse": true,
		"mnist": true, "fashion-mnist": true, "kmnist": true, "folder": true}
	if !known[key] {
		return fmt.Errorf("unknown dataset %q: want one of %s", name, strings.Join(DatasetNames, ", "))
	}
	if fold != AllFolds && key != "stl10" && key != "stl-10" && key != "auto" && key != "" {
		return fmt.Errorf("dataset %q has no folds: only STL-10 has", name)
	}
	return nil
}

// noFolds refuses a fold for datasets without any (see loadShapes10).
func noFolds(name string, opts LoadOptions) error {
	if opts.Fold != AllFolds {
		return fmt.Errorf("%s has no folds (Fold=%d): use Fold -1 (AllFolds)", name, opts.Fold)
	}
	return nil
}

func loadFolder(dir, split string, opts LoadOptions) (*Set, error) {
	if dir == "" {
		dir = opts.Dir
	}
	if dir == "" {
		return nil, fmt.Errorf("dataset folder: say which folder: folder:DIR, e.g. folder:%s", "photos")
	}
	if err := noFolds("an image folder", opts); err != nil {
		return nil, err
	}
	s, skipped, err := LoadImageFolder(dir, split, FolderOptions{Size: opts.Size, Channels: opts.Channels,
		TestFraction: opts.TestFraction, Seed: opts.Seed})
	w := opts.Warnings
	if w == nil {
		w = os.Stderr
	}
	if len(skipped) > 0 {
		fmt.Fprintf(w, "image folder %s (%s): skipped %d file(s) that do not decode:\n", dir, split, len(skipped))
		for _, sk := range skipped {
			fmt.Fprintf(w, "  %s\n", sk)
		}
	}
	return s, err
}

func loadShapes10(split string, opts LoadOptions) (*Set, error) {
	if opts.Fold != AllFolds {
		// An error rather than ignoring it: asking for a fold means expecting
		// 1000 STL-10 images, and silently getting 5000 other ones would mislead.
		return nil, fmt.Errorf("Shapes10 has no folds (Fold=%d): use Fold -1 (AllFolds), or put STL-10 in place for its folds", opts.Fold)
	}
	return Shapes10(split, opts.PerClass)
}

// grey returns s with one channel, the luma of RGB (weights as PIL's "L").
func (s *Set) grey() *Set {
	if s.C == 1 {
		return s
	}
	g := &Set{Name: s.Name + " (grey)", Classes: s.Classes, H: s.H, W: s.W, C: 1,
		Pixels: make([]uint8, s.Len()*s.H*s.W), Labels: s.Labels}
	parallelFor(len(g.Pixels), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := s.Pixels[i*s.C:]
			g.Pixels[i] = uint8((299*int(p[0]) + 587*int(p[1]) + 114*int(p[2]) + 500) / 1000)
		}
	})
	return g
}

// Download fetches a dataset by name (DownloadNames; "cifar100-coarse" is
// cifar100) into cacheDir ("" = DefaultCacheDir()), where Load then finds it,
// and returns the folder that holds its files. Progress goes to progress.
func Download(ctx context.Context, name, cacheDir string, progress io.Writer) (string, error) {
	switch key := strings.ToLower(strings.TrimSpace(name)); key {
	case "stl10", "stl-10":
		return DownloadSTL10(ctx, cacheDir, progress)
	case "cifar10", "cifar-10":
		return DownloadCIFAR10(ctx, cacheDir, progress)
	case "cifar100", "cifar-100", "cifar100-coarse", "cifar-100-coarse":
		return DownloadCIFAR100(ctx, cacheDir, progress)
	case "mnist", "fashion-mnist", "kmnist":
		return DownloadMNIST(ctx, key, cacheDir, progress)
	default:
		return "", fmt.Errorf("cannot download %q: want one of %s", name, strings.Join(DownloadNames, ", "))
	}
}

// Resolve names the dataset "auto" (or "") stands for: "stl10" when its files are in dir
// (default: the cache folder), else "shapes10". Other names are returned as they are.
func Resolve(name, dir string) string {
	if k := strings.ToLower(strings.TrimSpace(name)); k != "auto" && k != "" {
		return name
	}
	if dir == "" {
		dir = DefaultCacheDir()
	}
	if _, ok := FindSTL10(dir); ok {
		return "stl10"
	}
	return "shapes10"
}
