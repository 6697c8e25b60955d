package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vggkit/vggkit/internal/fetch"
	"github.com/vggkit/vggkit/internal/regularfile"
)

// CIFAR binary layout: each record is the label byte(s), then 3 planes (R, G,
// B) of 32x32 bytes, each plane row-major (unlike STL-10).
const (
	cifarSide       = 32
	cifarPlane      = cifarSide * cifarSide // 1024
	cifarImageBytes = 3 * cifarPlane        // 3072
)

// cifarKind describes one of the two CIFAR binary releases.
type cifarKind struct {
	what       string              // "CIFAR-10", for messages and set names.
	name       string              // Load's name, for the "vggkit download" hint.
	sub        string              // folder the archive extracts to.
	files      map[string][]string // split -> its .bin files, in order.
	labelBytes int                 // bytes before the pixels: 1 (CIFAR-10) or 2 (coarse, fine).
	remote     *fetch.File
}

var cifar10Kind = cifarKind{
	what: "CIFAR-10", name: "cifar10", sub: "cifar-10-batches-bin", labelBytes: 1, remote: &cifar10Remote,
	files: map[string][]string{
		"train": {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
		"test":  {"test_batch.bin"},
	},
}

var cifar100Kind = cifarKind{
	what: "CIFAR-100", name: "cifar100", sub: "cifar-100-binary", labelBytes: 2, remote: &cifar100Remote,
	files: map[string][]string{"train": {"train.bin"}, "test": {"test.bin"}},
}

// cifarCounts is the number of records each official file holds; the reader
// insists on it so a truncated copy is reported, not trained on. Tests shrink it.
var cifarCounts = map[string]int{
	"data_batch_1.bin": 10000, "data_batch_2.bin": 10000, "data_batch_3.bin": 10000,
	"data_batch_4.bin": 10000, "data_batch_5.bin": 10000, "test_batch.bin": 10000,
	"train.bin": 50000, "test.bin": 10000,
}

// cifar10Remote and cifar100Remote are the authors' binary archives (sizes and
// MD5s as published on https://www.cs.toronto.edu/~kriz/cifar.html).
var cifar10Remote = fetch.File{
	URL: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", Name: "cifar-10-binary.tar.gz",
	Size: 170_052_171, MD5: "c32a1d4ab5d03f1284b67883e8d87530", What: "CIFAR-10", Extracted: "cifar-10-batches-bin",
}

var cifar100Remote = fetch.File{
	URL: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", Name: "cifar-100-binary.tar.gz",
	Size: 168_513_733, MD5: "03b5dce01913d631647c71ecec9e9cb8", What: "CIFAR-100", Extracted: "cifar-100-binary",
}

// LoadCIFAR10 reads the "train" (data_batch_1..5.bin, 50000 images) or "test"
// (test_batch.bin, 10000) split of the CIFAR-10 binary release from dir or
// dir/cifar-10-batches-bin, with the class names of batches.meta.txt.
func LoadCIFAR10(dir, split string) (*Set, error) {
	return loadCIFAR(cifar10Kind, dir, split, false)
}

// LoadCIFAR100 reads the "train" (train.bin, 50000 images) or "test" (test.bin,
// 10000) split of the CIFAR-100 binary release from dir or dir/cifar-100-binary.
// Labels are the 100 fine classes (fine_label_names.txt), or with coarse the 20
// superclasses (coarse_label_names.txt).
func LoadCIFAR100(dir, split string, coarse bool) (*Set, error) {
	return loadCIFAR(cifar100Kind, dir, split, coarse)
}

// findCIFAR returns the folder holding k's .bin files: dir/k.sub or dir itself.
func findCIFAR(k cifarKind, dir string) (string, bool) {
	for _, d := range []string{filepath.Join(dir, k.sub), dir} {
		ok := true
		for _, split := range []string{"train", "test"} {
			for _, f := range k.files[split] {
				if st, err := os.Stat(filepath.Join(d, f)); err != nil || !st.Mode().IsRegular() {
					ok = false
				}
			}
		}
		if ok {
			return d, true
		}
	}
	return filepath.Join(dir, k.sub), false
}

// cifarRoot is findCIFAR's folder, else dir when the wanted split's files are
// there (copied flat), else dir/k.sub, where "not found" errors point.
func cifarRoot(k cifarKind, dir, split string) string {
	if d, ok := findCIFAR(k, dir); ok {
		return d
	}
	if _, err := os.Stat(filepath.Join(dir, k.files[split][0])); err == nil {
		return dir
	}
	return filepath.Join(dir, k.sub)
}

func missingCIFAR(k cifarKind, dir, path string) error {
	return fmt.Errorf("%s: %s not found: put the files of %s (its %s/ folder) in %s, or run `vggkit download %s`",
		k.what, path, k.remote.URL, k.sub, dir, k.name)
}

func loadCIFAR(k cifarKind, dir, split string, coarse bool) (*Set, error) {
	files, ok := k.files[split]
	if !ok {
		return nil, fmt.Errorf("%s: unknown split %q: want train or test", k.what, split)
	}
	root := cifarRoot(k, dir, split)
	namesFile, labelAt, nClasses, name := "batches.meta.txt", 0, 10, k.what+" "+split
	if k.labelBytes == 2 {
		namesFile, labelAt, nClasses = "fine_label_names.txt", 1, 100
		if coarse {
			namesFile, labelAt, nClasses, name = "coarse_label_names.txt", 0, 20, k.what+" (coarse) "+split
		}
	}
	// The images first: when they are missing, that is the error to report. Every file
	// is checked (a regular file of the right size) before the set is allocated.
	total := 0
	for _, f := range files {
		path := filepath.Join(root, f)
		st, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, missingCIFAR(k, dir, path)
		}
		if err == nil {
			err = regularfile.Check(path, st)
		}
		if err == nil {
			err = cifarSize(k.what, path, st.Size(), k.labelBytes, cifarCounts[f])
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.what, err)
		}
		total += cifarCounts[f]
	}
	classes, err := readClassNames(k.what, filepath.Join(root, namesFile), func(p string) error { return missingCIFAR(k, dir, p) })
	if err != nil {
		return nil, err
	}
	if len(classes) != nClasses {
		return nil, fmt.Errorf("%s: %s has %d class names, want %d", k.what, filepath.Join(root, namesFile), len(classes), nClasses)
	}
	s := &Set{Name: name, Classes: classes, H: cifarSide, W: cifarSide, C: 3,
		Pixels: make([]uint8, total*cifarImageBytes), Labels: make([]int32, total)}
	at := 0
	for _, f := range files {
		path := filepath.Join(root, f)
		fh, size, err := regularfile.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.what, err)
		}
		n := cifarCounts[f]
		err = readCIFARRecords(k.what, path, fh, size, k.labelBytes, labelAt, len(classes), n,
			s.Pixels[at*cifarImageBytes:(at+n)*cifarImageBytes], s.Labels[at:at+n])
		at += n
		fh.Close()
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// cifarSize checks a CIFAR file of size bytes: whole records of labelBytes label bytes
// and 3072 pixel bytes, want of them.
func cifarSize(what, path string, size int64, labelBytes, want int) error {
	rec := int64(labelBytes + cifarImageBytes)
	if size%rec != 0 {
		return fmt.Errorf("%s is %d bytes, not a multiple of the %d-byte record: record %d is cut short after %d bytes (offset %d); the file is truncated or not a %s binary file",
			path, size, rec, size/rec, size%rec, size/rec*rec, what)
	}
	if n := size / rec; n != int64(want) {
		hint := "the file is truncated; delete it and extract or download again"
		if n > int64(want) {
			hint = "not the official file"
		}
		return fmt.Errorf("%s holds %d records, want %d: %s", path, n, want, hint)
	}
	return nil
}

// readCIFARRecords reads want records of labelBytes label bytes + 3072 pixel
// bytes from r (size bytes, named path in errors) into pixels (as HWC) and
// labels, using label byte labelAt, which must be < classes. The size is
// checked before reading, so a wrong file fails at once and never makes the
// reader allocate more than one block.
func readCIFARRecords(what, path string, r io.Reader, size int64, labelBytes, labelAt, classes, want int, pixels []uint8, labels []int32) error {
	rec := int64(labelBytes + cifarImageBytes)
	if err := cifarSize(what, path, size, labelBytes, want); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(pixels) != want*cifarImageBytes || len(labels) != want {
		return fmt.Errorf("%s: %s: room for %d pixel bytes and %d labels given for %d records", what, path, len(pixels), len(labels), want)
	}
	const block = 1024 // records per read: a few MB, whatever the file size.
	buf := make([]byte, min(want, block)*int(rec))
	for start := 0; start < want; start += block {
		n := min(block, want-start)
		chunk := buf[:n*int(rec)]
		if got, err := io.ReadFull(r, chunk); err != nil {
			return fmt.Errorf("%s: reading %s: record %d (offset %d): %w: the file is truncated or changed while reading",
				what, path, start+got/int(rec), int64(start)*rec+int64(got), err)
		}
		for i := range n {
			l := chunk[i*int(rec)+labelAt]
			if int(l) >= classes {
				return fmt.Errorf("%s: %s: record %d (offset %d) has label %d, want 0..%d",
					what, path, start+i, int64(start+i)*rec+int64(labelAt), l, classes-1)
			}
			labels[start+i] = int32(l)
		}
		parallelFor(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				src := chunk[i*int(rec)+labelBytes : (i+1)*int(rec)]
				dst := pixels[(start+i)*cifarImageBytes : (start+i+1)*cifarImageBytes]
				for p := range cifarPlane { // planar RGB -> interleaved.
					dst[3*p], dst[3*p+1], dst[3*p+2] = src[p], src[cifarPlane+p], src[2*cifarPlane+p]
				}
			}
		})
	}
	return nil
}

// readClassNames reads a file of one class name per line (trailing blank lines
// ignored): the names come from the dataset, so labels and names cannot drift.
func readClassNames(what, path string, missing func(string) error) ([]string, error) {
	b, err := readRegular(path, maxTextFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, missing(path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	lines := textLines(b)
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: %s is empty, want one class name per line", what, path)
	}
	names := make([]string, len(lines))
	for i, l := range lines {
		if names[i] = strings.TrimSpace(l); names[i] == "" {
			return nil, fmt.Errorf("%s: %s line %d is empty, want a class name", what, path, i+1)
		}
	}
	return names, nil
}

// DownloadCIFAR10 makes sure the CIFAR-10 binary release is extracted in
// cacheDir (DefaultCacheDir() if empty) and returns its folder, as
// DownloadSTL10 does: resumable download, MD5 check, atomic extraction.
func DownloadCIFAR10(ctx context.Context, cacheDir string, progress io.Writer) (string, error) {
	return downloadCIFAR(ctx, cifar10Kind, cacheDir, progress)
}

// DownloadCIFAR100 is DownloadCIFAR10 for the CIFAR-100 binary release.
func DownloadCIFAR100(ctx context.Context, cacheDir string, progress io.Writer) (string, error) {
	return downloadCIFAR(ctx, cifar100Kind, cacheDir, progress)
}

func downloadCIFAR(ctx context.Context, k cifarKind, cacheDir string, progress io.Writer) (string, error) {
	if cacheDir == "" {
		cacheDir = DefaultCacheDir()
	}
	if progress == nil {
		progress = io.Discard
	}
	find := func(d string) (string, bool) { return findCIFAR(k, d) }
	if dir, ok := find(cacheDir); ok {
		return dir, nil
	}
	final := filepath.Join(cacheDir, k.sub)
	if _, err := os.Lstat(final); err == nil {
		return "", fmt.Errorf("%s: %s exists but does not hold the %s files: delete it (or complete it) and run again", k.what, final, k.what)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("%s: %w", k.what, err)
	}
	archive, err := fetch.Verified(ctx, *k.remote, cacheDir, progress)
	if err != nil {
		return "", err
	}
	var files []string
	for _, split := range []string{"train", "test"} {
		files = append(files, k.files[split]...)
	}
	dir, err := extractDataset(ctx, k.what, archive, cacheDir, k.sub, find, strings.Join(files, ", "), progress)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "%s is in %s\n", k.what, dir)
	return dir, nil
}
