package data

import (
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// folderExtensions are the files the folder reader takes as images (as
// torchvision's ImageFolder, less .ppm/.pgm, which Go cannot decode). Other
// files (README, .DS_Store) are ignored.
var folderExtensions = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".gif": true,
	".bmp": true, ".webp": true, ".tif": true, ".tiff": true}

// FolderOptions tune LoadImageFolder; the zero value gives the defaults.
type FolderOptions struct {
	Size         int     // images come back Size x Size; 0 = 96 (STL-10's size).
	Channels     int     // 3 (RGB) or 1 (grey); 0 = 3.
	TestFraction float64 // share of each class held out for "test" when the folder has no split; 0 = 0.2.
	Seed         uint64  // picks the held-out images; the same seed gives the same split.
}

// SkippedImage is an image file the folder reader could not use, and why.
type SkippedImage struct {
	Path string
	Err  error
}

func (s SkippedImage) String() string { return s.Path + ": " + s.Err.Error() }

// LoadImageFolder reads one split ("train" or "test") of a folder laid out as
// torchvision's ImageFolder expects: one sub-folder per class (the sorted
// folder names are the classes), holding JPEG, PNG, GIF, BMP, WebP or TIFF
// files of any size, each resized (shorter side) and centre-cropped to
// opts.Size. When dir has train/ and test/ (or val/) sub-folders, each split
// reads its own; otherwise each class is split at random (opts.Seed) into
// "test" (opts.TestFraction) and "train", the same way every time. Files that
// do not decode are returned in skipped, not fatal.
func LoadImageFolder(dir, split string, opts FolderOptions) (s *Set, skipped []SkippedImage, err error) {
	size, channels, frac := opts.Size, opts.Channels, opts.TestFraction
	if size == 0 {
		size = 96
	}
	if channels == 0 {
		channels = 3
	}
	if frac == 0 {
		frac = 0.2
	}
	switch {
	case size < 1 || size > 4096:
		return nil, nil, fmt.Errorf("image folder %s: size %d: want 1..4096", dir, size)
	case channels != 1 && channels != 3:
		return nil, nil, fmt.Errorf("image folder %s: channels %d: want 1 or 3", dir, channels)
	case !(frac > 0 && frac < 1):
		return nil, nil, fmt.Errorf("image folder %s: test fraction %g: want more than 0 and less than 1", dir, frac)
	case split != "train" && split != "test" && split != "val":
		return nil, nil, fmt.Errorf("image folder %s: unknown split %q: want train or test", dir, split)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("image folder: %w", err)
	}
	if !st.IsDir() {
		return nil, nil, fmt.Errorf("image folder: %s is not a folder", dir)
	}
	trainDir, testDir := folderSplitDirs(dir, split)
	var classes []string
	var files [][]string // per class, sorted.
	name := fmt.Sprintf("%s %s", filepath.Base(filepath.Clean(dir)), split)
	if trainDir != "" {
		// Classes come from train/, so labels mean the same in both splits.
		if classes, files, err = listClassFolders(trainDir); err != nil {
			return nil, nil, err
		}
		if testDir != trainDir {
			if files, err = listSplitFolder(testDir, classes); err != nil {
				return nil, nil, err
			}
		}
	} else {
		if classes, files, err = listClassFolders(dir); err != nil {
			return nil, nil, err
		}
		for c := range files {
			files[c] = splitClass(files[c], classes[c], split, frac, opts.Seed)
		}
		name = fmt.Sprintf("%s %s (%.0f%% held out, seed %d)", filepath.Base(filepath.Clean(dir)), split, 100*frac, opts.Seed)
	}
	var paths []string
	var labels []int32
	for c, imgs := range files {
		for _, f := range imgs {
			paths = append(paths, f)
			labels = append(labels, int32(c))
		}
	}
	pixels, errs := decodeAll(paths, size, channels)
	// Keep the decoded images in order; list the others.
	s = &Set{Name: name, Classes: classes, H: size, W: size, C: channels}
	n := size * size * channels
	kept := 0
	for i, e := range errs {
		if e != nil {
			skipped = append(skipped, SkippedImage{Path: paths[i], Err: e})
			continue
		}
		copy(pixels[kept*n:(kept+1)*n], pixels[i*n:(i+1)*n])
		labels[kept] = labels[i]
		kept++
	}
	s.Pixels, s.Labels = pixels[:kept*n], labels[:kept]
	if kept == 0 {
		return nil, skipped, fmt.Errorf("image folder %s: no image of the %s split could be read (%d files skipped)", dir, split, len(skipped))
	}
	return s, skipped, nil
}

// folderSplitDirs returns the folders of an on-disk split: dir/train for
// "train", and dir/test (else dir/val) for "test" or dir/val for "val", when
// dir has train/ and one of test/, val/. Otherwise both are "".
func folderSplitDirs(dir, split string) (trainDir, splitDir string) {
	isDir := func(p string) bool { st, err := os.Stat(p); return err == nil && st.IsDir() }
	train, test, val := filepath.Join(dir, "train"), filepath.Join(dir, "test"), filepath.Join(dir, "val")
	if !isDir(train) || (!isDir(test) && !isDir(val)) {
		return "", ""
	}
	switch {
	case split == "train":
		return train, train
	case split == "val" && isDir(val), split == "test" && !isDir(test):
		return train, val
	default:
		return train, test
	}
}

// listClassFolders lists dir's sub-folders (sorted: the classes) and the image
// files under each (sorted, searched recursively). A class without images is an
// error: its label would never be seen, and the folder is most likely a mistake.
func listClassFolders(dir string) ([]string, [][]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("image folder: %w", err)
	}
	var classes []string
	var files [][]string
	for _, e := range entries { // ReadDir sorts by name.
		if !isDirEntry(dir, e) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		imgs, err := listImages(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, nil, err
		}
		if len(imgs) == 0 {
			return nil, nil, fmt.Errorf("image folder %s: class folder %s holds no image (%s): remove it or add images",
				dir, filepath.Join(dir, e.Name()), extensionList())
		}
		classes = append(classes, e.Name())
		files = append(files, imgs)
	}
	if len(classes) == 0 {
		return nil, nil, fmt.Errorf("image folder %s has no class folders: want one sub-folder of images per class (e.g. %s)",
			dir, filepath.Join(dir, "cat", "001.jpg"))
	}
	return classes, files, nil
}

// listSplitFolder lists the test (or val) folder of an on-disk split, whose
// class folders must be among the train classes; a class it lacks is simply
// not tested.
func listSplitFolder(dir string, classes []string) ([][]string, error) {
	got, gotFiles, err := listClassFolders(dir)
	if err != nil {
		return nil, err
	}
	files := make([][]string, len(classes))
	for i, c := range got {
		k, ok := slices.BinarySearch(classes, c)
		if !ok {
			return nil, fmt.Errorf("image folder %s: class folder %s is not among the train classes (%s)",
				dir, filepath.Join(dir, c), strings.Join(classes, ", "))
		}
		files[k] = gotFiles[i]
	}
	return files, nil
}

// isDirEntry follows a symlink, so a class folder may link elsewhere.
func isDirEntry(dir string, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink != 0 {
		st, err := os.Stat(filepath.Join(dir, e.Name()))
		return err == nil && st.IsDir()
	}
	return false
}

// listImages returns the image files under dir (recursively), sorted. dir may be a
// symlink to a folder (a class folder linked from elsewhere): the walk starts at the
// folder it points to, and the paths returned are under dir as given. Links further
// down are not followed into (no cycles); a link to an image file is listed.
func listImages(dir string) ([]string, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("image folder: %w", err)
	}
	var out []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && !strings.HasPrefix(d.Name(), ".") && folderExtensions[strings.ToLower(filepath.Ext(p))] {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.Join(dir, rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("image folder: %w", err)
	}
	slices.Sort(out)
	return out, nil
}

func extensionList() string {
	var exts []string
	for e := range folderExtensions {
		exts = append(exts, e)
	}
	slices.Sort(exts)
	return strings.Join(exts, " ")
}

// splitClass returns the files of one class that belong to split: a random
// share frac of them (at least one, and never all, when the class has two or
// more) is "test", the rest "train". The draw depends only on the seed, the
// class name and the file list, so it is the same on every run and adding a
// class leaves the other classes' splits alone. Files stay in name order.
func splitClass(files []string, class, split string, frac float64, seed uint64) []string {
	n := len(files)
	nTest := int(math.Round(frac * float64(n)))
	if n >= 2 {
		nTest = min(max(nTest, 1), n-1)
	} else {
		nTest = 0 // A single image trains.
	}
	h := fnv.New64a()
	h.Write([]byte(class))
	perm := rand.New(rand.NewPCG(seed, h.Sum64())).Perm(n)
	test := make([]bool, n)
	for _, i := range perm[:nTest] {
		test[i] = true
	}
	var out []string
	for i, f := range files {
		if test[i] == (split != "train") {
			out = append(out, f)
		}
	}
	return out
}

// decodeAll decodes and resizes every path into one buffer (as ReadImage), in
// parallel (one worker per CPU). Image i always lands in slot i, so the result does not
// depend on scheduling; errs[i] says why image i could not be used.
func decodeAll(paths []string, size, channels int) ([]uint8, []error) {
	n := size * size * channels
	pixels := make([]uint8, len(paths)*n)
	errs := make([]error, len(paths))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.NumCPU(), max(len(paths), 1)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) {
					return
				}
				errs[i] = decodeFile(paths[i], size, channels, 1, pixels[i*n:(i+1)*n])
			}
		})
	}
	wg.Wait()
	return pixels, errs
}
