package data

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/vggkit/vggkit/internal/regularfile"
)

// STL-10 binary layout: every image is 3 planes (R, G, B) of 96x96 bytes, each
// plane stored column-major (MATLAB order), so the reader must transpose.
const (
	stl10Side       = 96
	stl10Plane      = stl10Side * stl10Side // 9216
	stl10ImageBytes = 3 * stl10Plane        // 27648
	stl10Classes    = 10
	stl10Folds      = 10
	stl10SubDir     = "stl10_binary"
)

// stl10Counts is the number of images the official archive has per split. The
// reader insists on it so that a truncated file (an interrupted copy or
// extraction) is reported rather than silently training on part of the data.
// Tests shrink it to write small files.
var stl10Counts = map[string]int{"train": 5000, "test": 8000, "unlabeled": 100000}

// stl10Required are the files whose presence means "STL-10 is here": the
// unlabeled split (2.7 GB) is optional, since training only needs train/test.
var stl10Required = []string{"train_X.bin", "train_y.bin", "test_X.bin", "test_y.bin"}

// FindSTL10 reports whether the STL-10 binary files (train_X.bin, train_y.bin,
// test_X.bin, test_y.bin) are in dir/stl10_binary or directly in dir, and
// returns the folder that holds them. When they are not found it returns
// dir/stl10_binary, where they are expected, and false.
func FindSTL10(dir string) (string, bool) {
	for _, d := range []string{filepath.Join(dir, stl10SubDir), dir} {
		ok := true
		for _, f := range stl10Required {
			st, err := os.Stat(filepath.Join(d, f))
			if err != nil || !st.Mode().IsRegular() {
				ok = false
				break
			}
		}
		if ok {
			return d, true
		}
	}
	return filepath.Join(dir, stl10SubDir), false
}

// stl10Root picks the folder to read from: the one FindSTL10 finds, else
// dir/stl10_binary when it exists (the layout the archive extracts to), else
// dir when it holds some STL-10 file (files copied flat), else dir/stl10_binary,
// so a "not found" error names where the files are expected.
func stl10Root(dir string) string {
	if d, ok := FindSTL10(dir); ok {
		return d
	}
	sub := filepath.Join(dir, stl10SubDir)
	if st, err := os.Stat(sub); err == nil && st.IsDir() {
		return sub
	}
	for _, f := range append(stl10Required, "unlabeled_X.bin", "class_names.txt", "fold_indices.txt") {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return dir
		}
	}
	return sub
}

// LoadSTL10 reads one split of STL-10 from its official binary files in dir
// (or dir/stl10_binary): split is "train" (5000 labeled images), "test" (8000)
// or "unlabeled" (100000, label -1; 2.8 GB in memory). fold -1 keeps all train images; 0..9 keeps
// only the 1000 train images of that fold (fold_indices.txt), the protocol the
// STL-10 paper uses for its small-data benchmark. Pixels come back row-major HWC.
func LoadSTL10(dir, split string, fold int) (*Set, error) {
	want, ok := stl10Counts[split]
	if !ok {
		return nil, fmt.Errorf("STL-10: unknown split %q: want train, test or unlabeled", split)
	}
	if fold < -1 || fold >= stl10Folds {
		return nil, fmt.Errorf("STL-10: fold %d out of range: want -1 (all) or 0..%d", fold, stl10Folds-1)
	}
	if fold >= 0 && split != "train" {
		return nil, fmt.Errorf("STL-10: fold %d given with split %q: folds only select train images", fold, split)
	}
	root := stl10Root(dir)
	imagesPath := filepath.Join(root, split+"_X.bin")
	if _, err := os.Stat(imagesPath); errors.Is(err, fs.ErrNotExist) {
		return nil, missingSTL10(dir, imagesPath) // Before the other files: the images are what is missing.
	}
	classes, err := readSTL10Classes(dir, root)
	if err != nil {
		return nil, err
	}
	pixels, n, err := readSTL10Images(dir, imagesPath, want)
	if err != nil {
		return nil, err
	}
	labels := make([]int32, n)
	if split == "unlabeled" {
		for i := range labels {
			labels[i] = -1
		}
	} else if labels, err = readSTL10Labels(dir, filepath.Join(root, split+"_y.bin"), split+"_X.bin", n); err != nil {
		return nil, err
	}
	s := &Set{Name: "STL-10 " + split, Classes: classes, H: stl10Side, W: stl10Side, C: 3, Pixels: pixels, Labels: labels}
	if fold >= 0 {
		folds, err := readSTL10Folds(dir, filepath.Join(root, "fold_indices.txt"), n)
		if err != nil {
			return nil, err
		}
		s = s.Subset(fmt.Sprintf("STL-10 train fold %d", fold), folds[fold])
	}
	return s, nil
}

// missingSTL10 is the error for an absent file: it says where the files belong
// and how to get them, since that is what the user has to do next.
func missingSTL10(dir, path string) error {
	return fmt.Errorf("STL-10: %s not found: put the STL-10 binary files (the stl10_binary/ folder of %s) in %s, or run `vggkit download stl10`",
		path, stl10Remote.URL, dir)
}

// openSTL10 opens one of the files (a regular file: a folder or a FIFO in its place is
// refused before it is opened) and returns it with its size.
func openSTL10(dir, path string) (*os.File, int64, error) {
	f, size, err := regularfile.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, missingSTL10(dir, path)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("STL-10: %w", err)
	}
	return f, size, nil
}

// readSTL10Images reads an *_X.bin file (parseSTL10Images).
func readSTL10Images(dir, path string, want int) ([]uint8, int, error) {
	f, size, err := openSTL10(dir, path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return parseSTL10Images(path, f, size, want)
}

// parseSTL10Images reads want images from r, an *_X.bin file of size bytes (path names it
// in errors), and converts them to row-major HWC. The size is checked before anything is
// allocated, so a wrong file fails fast instead of allocating gigabytes.
func parseSTL10Images(path string, r io.Reader, size int64, want int) ([]uint8, int, error) {
	if size%stl10ImageBytes != 0 {
		return nil, 0, fmt.Errorf("STL-10: %s is %d bytes, not a multiple of %d (one 96x96x3 image): %d whole images and %d bytes over; not an STL-10 image file, or cut short",
			path, size, stl10ImageBytes, size/stl10ImageBytes, size%stl10ImageBytes)
	}
	n := size / stl10ImageBytes
	if n < int64(want) {
		return nil, 0, fmt.Errorf("STL-10: %s holds %d images, want %d: the file is truncated; delete it and extract or download again", path, n, want)
	}
	if n > int64(want) {
		return nil, 0, fmt.Errorf("STL-10: %s holds %d images, want %d: not the official STL-10 file", path, n, want)
	}
	buf := make([]uint8, size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, 0, fmt.Errorf("STL-10: reading %s (%d bytes): %w: the file is truncated or changed while reading", path, size, err)
	}
	transposeSTL10(buf, want)
	return buf, want, nil
}

// transposeSTL10 converts n images in place from STL-10's planar column-major
// layout to row-major HWC, in parallel, with one image of scratch per worker.
func transposeSTL10(buf []uint8, n int) {
	parallelFor(n, func(lo, hi int) {
		var src [stl10ImageBytes]uint8
		for i := lo; i < hi; i++ {
			img := buf[i*stl10ImageBytes : (i+1)*stl10ImageBytes]
			copy(src[:], img)
			for c := range 3 {
				plane := src[c*stl10Plane : (c+1)*stl10Plane]
				for x := range stl10Side {
					col := plane[x*stl10Side : (x+1)*stl10Side] // column x, rows 0..95
					for y, v := range col {
						img[(y*stl10Side+x)*3+c] = v
					}
				}
			}
		}
	})
}

// readSTL10Labels reads an *_y.bin file (parseSTL10Labels).
func readSTL10Labels(dir, path, imagesName string, n int) ([]int32, error) {
	f, size, err := openSTL10(dir, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseSTL10Labels(path, f, size, imagesName, n)
}

// parseSTL10Labels reads an *_y.bin file of size bytes from r (one byte per image, 1..10)
// into 0..9.
func parseSTL10Labels(path string, r io.Reader, size int64, imagesName string, n int) ([]int32, error) {
	if size != int64(n) {
		return nil, fmt.Errorf("STL-10: %s holds %d labels but %s holds %d images: want one label byte per image", path, size, imagesName, n)
	}
	raw := make([]uint8, n)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("STL-10: reading %s: %w", path, err)
	}
	labels := make([]int32, n)
	for i, b := range raw {
		if b < 1 || b > stl10Classes {
			return nil, fmt.Errorf("STL-10: %s: label at index %d is %d, want 1..%d", path, i, b, stl10Classes)
		}
		labels[i] = int32(b) - 1
	}
	return labels, nil
}

// textLines splits a small text file into lines without trailing blanks; CRLF
// files (edited on Windows) read the same as LF files.
func textLines(b []byte) []string {
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// readSTL10Classes reads class_names.txt: the class names come from the dataset
// rather than from a table in the code, so labels and names cannot drift apart.
func readSTL10Classes(dir, root string) ([]string, error) {
	path := filepath.Join(root, "class_names.txt")
	b, err := readRegular(path, maxTextFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, missingSTL10(dir, path)
	}
	if err != nil {
		return nil, fmt.Errorf("STL-10: %w", err)
	}
	return parseSTL10Classes(path, b)
}

// parseSTL10Classes reads the class names from class_names.txt's bytes.
func parseSTL10Classes(path string, b []byte) ([]string, error) {
	lines := textLines(b)
	if len(lines) != stl10Classes {
		return nil, fmt.Errorf("STL-10: %s has %d lines, want %d class names", path, len(lines), stl10Classes)
	}
	names := make([]string, len(lines))
	for i, l := range lines {
		names[i] = strings.TrimSpace(l)
		if names[i] == "" {
			return nil, fmt.Errorf("STL-10: %s line %d is empty, want a class name", path, i+1)
		}
	}
	return names, nil
}

// readSTL10Folds reads fold_indices.txt: 10 lines of space-separated 0-based
// indices into the train split, each checked to be in range and not repeated.
func readSTL10Folds(dir, path string, nTrain int) ([][]int, error) {
	b, err := readRegular(path, maxTextFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, missingSTL10(dir, path)
	}
	if err != nil {
		return nil, fmt.Errorf("STL-10: %w", err)
	}
	return parseSTL10Folds(path, b, nTrain)
}

// parseSTL10Folds reads fold_indices.txt's bytes (readSTL10Folds).
func parseSTL10Folds(path string, b []byte, nTrain int) ([][]int, error) {
	lines := textLines(b)
	if len(lines) != stl10Folds {
		return nil, fmt.Errorf("STL-10: %s has %d lines, want %d (one fold per line)", path, len(lines), stl10Folds)
	}
	folds := make([][]int, len(lines))
	for li, l := range lines {
		fields := strings.Fields(l)
		if len(fields) == 0 {
			return nil, fmt.Errorf("STL-10: %s line %d is empty, want train image indices", path, li+1)
		}
		seen := make(map[int]bool, len(fields))
		for _, f := range fields {
			v, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("STL-10: %s line %d: %q is not an image index", path, li+1, f)
			}
			if v < 0 || v >= nTrain {
				return nil, fmt.Errorf("STL-10: %s line %d: index %d out of range 0..%d", path, li+1, v, nTrain-1)
			}
			if seen[v] {
				return nil, fmt.Errorf("STL-10: %s line %d: index %d repeated", path, li+1, v)
			}
			seen[v] = true
			folds[li] = append(folds[li], v)
		}
	}
	return folds, nil
}

// parallelFor runs fn over [0, n) split into one contiguous range per CPU.
func parallelFor(n int, fn func(lo, hi int)) {
	workers := min(runtime.NumCPU(), n)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}
