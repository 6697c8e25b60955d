package data

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vggkit/vggkit/internal/fetch"
	"github.com/vggkit/vggkit/internal/regularfile"
)

// IDX (the MNIST family's format): a 4-byte magic (0, 0, type 0x08 = unsigned
// byte, number of dimensions), one big-endian uint32 per dimension, then the
// bytes, row-major. Files come gzipped (as downloaded) or raw.
const (
	idxImagesMagic = 0x00000803 // 3 dims: images, rows, columns.
	idxLabelsMagic = 0x00000801 // 1 dim: labels.
	// maxGzipRatio bounds what a gzip file can hold: DEFLATE expands at most
	// ~1032:1, so a header claiming more is refused before reading anything.
	maxGzipRatio = 1032
	// idxSide is the side of the MNIST family's images.
	idxSide = 28
)

// idxKind is one dataset of the MNIST family: same files, other pictures.
type idxKind struct {
	what, name string // "Fashion-MNIST", Load's name "fashion-mnist" (also the cache sub-folder).
	tvDir      string // torchvision's folder (root/<tvDir>/raw), read too so its downloads work here.
	classes    []string
	mirror     string            // URL prefix of the four .gz files.
	md5        map[string]string // .gz file -> MD5, as torchvision checks them.
}

var idxKinds = map[string]*idxKind{
	"mnist": {what: "MNIST", name: "mnist", tvDir: "MNIST",
		classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
		mirror:  "https://ossci-datasets.s3.amazonaws.com/mnist/",
		md5: map[string]string{
			"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
			"train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
			"t10k-images-idx3-ubyte.gz":  "9fb629c4189551a2d022fa330f9573f3",
			"t10k-labels-idx1-ubyte.gz":  "ec29112dd5afa0611ce80d1b7f02629c",
		}},
	"fashion-mnist": {what: "Fashion-MNIST", name: "fashion-mnist", tvDir: "FashionMNIST",
		classes: []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"},
		mirror:  "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
		md5: map[string]string{
			"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
			"train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
			"t10k-images-idx3-ubyte.gz":  "bef4ecab320f06d8554ea6380940ec79",
			"t10k-labels-idx1-ubyte.gz":  "bb300cfdad3c16e7a12a480ee83cd310",
		}},
	"kmnist": {what: "KMNIST", name: "kmnist", tvDir: "KMNIST",
		classes: []string{"o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"},
		mirror:  "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
		md5: map[string]string{
			"train-images-idx3-ubyte.gz": "bdb82020997e1d708af4cf47b453dcf7",
			"train-labels-idx1-ubyte.gz": "e144d726b3acfaa3e44228e80efcd344",
			"t10k-images-idx3-ubyte.gz":  "5c965bf0a639b31b8f53240b1b52f4d7",
			"t10k-labels-idx1-ubyte.gz":  "7320c461ea6c1c855c0b718fb2a4b134",
		}},
}

// idxCounts is the number of images per split of the MNIST family; the reader
// insists on it so that a wrong or partial file is reported. Tests shrink it.
var idxCounts = map[string]int{"train": 60000, "test": 10000}

// idxPrefix is the file name prefix of each split.
var idxPrefix = map[string]string{"train": "train", "test": "t10k"}

// LoadMNIST reads one split ("train": 60000 images, "test": 10000) of a dataset
// of the MNIST family, name "mnist", "fashion-mnist" or "kmnist", from the IDX
// files (gzipped or not) in dir/<name>, dir/<torchvision's name>/raw (MNIST,
// FashionMNIST, KMNIST) or dir. The 28x28 grey images come back with 3
// identical channels (channels 0 or 3), which ImageNet-style models expect, or
// with 1 (channels 1).
func LoadMNIST(name, dir, split string, channels int) (*Set, error) {
	k, ok := idxKinds[name]
	if !ok {
		return nil, fmt.Errorf("unknown MNIST-family dataset %q: want mnist, fashion-mnist or kmnist", name)
	}
	prefix, ok := idxPrefix[split]
	if !ok {
		return nil, fmt.Errorf("%s: unknown split %q: want train or test", k.what, split)
	}
	root := idxRoot(k, dir)
	images, err := findIDXFile(k, dir, root, prefix+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	labels, err := findIDXFile(k, dir, root, prefix+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	want := idxCounts[split]
	// The official shape is checked on the headers, before any data is read: a file
	// claiming other images (10000 of 300x300, 900 MB from an 875 KB gzip) costs nothing.
	official := func(dims []int) error {
		if dims[0] != want || dims[1] != idxSide || dims[2] != idxSide {
			return fmt.Errorf("%s: %s holds %d images of %dx%d (its header), want %d of %dx%d: not the official %s file",
				k.what, images, dims[0], dims[1], dims[2], want, idxSide, idxSide, split)
		}
		return nil
	}
	return loadIDX(k.what+" "+split, images, labels, k.classes, channels, official)
}

// idxRoot is the first of dir/<name>, dir/<tvDir>/raw and dir that holds the
// train images, else dir/<name>, where "not found" errors point.
func idxRoot(k *idxKind, dir string) string {
	for _, d := range []string{filepath.Join(dir, k.name), filepath.Join(dir, k.tvDir, "raw"), dir} {
		for _, f := range []string{"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"} {
			if _, err := os.Stat(filepath.Join(d, f)); err == nil {
				return d
			}
		}
	}
	return filepath.Join(dir, k.name)
}

// findIDXFile returns root/base, or root/base.gz: the raw file first, as it is
// quicker to read when both are there (torchvision keeps both).
func findIDXFile(k *idxKind, dir, root, base string) (string, error) {
	for _, name := range []string{base, base + ".gz"} {
		p := filepath.Join(root, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %s not found (nor %s.gz): put the four IDX files of %s in %s, or run `vggkit download %s`",
		k.what, filepath.Join(root, base), base, k.mirror, filepath.Join(dir, k.name), k.name)
}

// LoadIDX reads an IDX image file (magic 0x00000803) and its IDX label file
// (0x00000801), each gzipped or raw, into a set named name; labels must be
// below len(classes). channels: 0 or 3 replicate the grey channel, 1 keeps it.
func LoadIDX(name, imagesPath, labelsPath string, classes []string, channels int) (*Set, error) {
	return loadIDX(name, imagesPath, labelsPath, classes, channels, nil)
}

// loadIDX is LoadIDX; check, when not nil, vets the images' dimensions from the header
// before any data is read.
func loadIDX(name, imagesPath, labelsPath string, classes []string, channels int, check func(dims []int) error) (*Set, error) {
	if channels != 0 && channels != 1 && channels != 3 {
		return nil, fmt.Errorf("%s: channels %d: want 1 (grey) or 3 (grey replicated to RGB)", name, channels)
	}
	imgs, fi, err := openIDXFile(imagesPath, idxImagesMagic)
	if err != nil {
		return nil, err
	}
	defer fi.Close()
	if check != nil {
		if err := check(imgs.dims); err != nil {
			return nil, err
		}
	}
	labs, fl, err := openIDXFile(labelsPath, idxLabelsMagic)
	if err != nil {
		return nil, err
	}
	defer fl.Close()
	if labs.dims[0] != imgs.dims[0] {
		return nil, idxCountError(labelsPath, imagesPath, labs.dims[0], imgs.dims[0])
	}
	pixels, err := imgs.read()
	if err != nil {
		return nil, err
	}
	raw, err := labs.read()
	if err != nil {
		return nil, err
	}
	return idxSet(name, imagesPath, labelsPath, imgs.dims, pixels, labs.dims, raw, classes, channels)
}

// idxSet makes a set of parsed IDX images and labels (parseIDX's results).
func idxSet(name, imagesPath, labelsPath string, dims []int, pixels []byte, ldims []int, raw []byte, classes []string, channels int) (*Set, error) {
	labels, err := idxLabels(labelsPath, imagesPath, ldims[0], dims[0], raw, len(classes))
	if err != nil {
		return nil, err
	}
	s := &Set{Name: name, Classes: classes, H: dims[1], W: dims[2], C: 1, Pixels: pixels, Labels: labels}
	if channels != 1 {
		s.Pixels, s.C = greyToRGB(pixels), 3
	}
	return s, nil
}

// idxLabels checks the label count against the image count and every label
// against the number of classes.
func idxLabels(labelsPath, imagesPath string, nLabels, nImages int, raw []byte, classes int) ([]int32, error) {
	if nLabels != nImages {
		return nil, idxCountError(labelsPath, imagesPath, nLabels, nImages)
	}
	labels := make([]int32, len(raw))
	for i, b := range raw {
		if int(b) >= classes {
			return nil, fmt.Errorf("IDX: %s: label at index %d (offset %d) is %d, want 0..%d", labelsPath, i, 8+i, b, classes-1)
		}
		labels[i] = int32(b)
	}
	return labels, nil
}

func idxCountError(labelsPath, imagesPath string, nLabels, nImages int) error {
	return fmt.Errorf("IDX: %s holds %d labels but %s holds %d images: want one label per image", labelsPath, nLabels, imagesPath, nImages)
}

// greyToRGB replicates each grey byte into 3 channels.
func greyToRGB(grey []uint8) []uint8 {
	out := make([]uint8, 3*len(grey))
	parallelFor(len(grey), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := grey[i]
			out[3*i], out[3*i+1], out[3*i+2] = v, v, v
		}
	})
	return out
}

// readIDXFile opens path (a regular file: a folder or a FIFO is refused before it is
// opened), detects gzip by its magic bytes (1f 8b) rather than by the name, and parses
// it (parseIDX).
func readIDXFile(path string, magic uint32) ([]int, []byte, error) {
	s, f, err := openIDXFile(path, magic)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := s.read()
	return s.dims, data, err
}

// openIDXFile opens path and reads its header (openIDX); the caller closes the file.
func openIDXFile(path string, magic uint32) (*idxStream, *os.File, error) {
	f, size, err := regularfile.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("IDX: %s not found", path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("IDX: %w", err)
	}
	s, err := openIDX(path, f, size, magic)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return s, f, nil
}

// parseIDX reads an IDX file of size bytes (gzipped or raw) from r; path names it in
// errors (openIDX, then idxStream.read).
func parseIDX(path string, r io.Reader, size int64, magic uint32) ([]int, []byte, error) {
	s, err := openIDX(path, r, size, magic)
	if err != nil {
		return nil, nil, err
	}
	data, err := s.read()
	return s.dims, data, err
}

// idxStream is an IDX file whose header is read and checked: its dimensions, and its
// data still to read (read).
type idxStream struct {
	path   string
	src    io.Reader // at the first data byte (decompressed when gz).
	gz     bool
	kind   string // "file" or "decompressed data", for messages.
	size   int64  // bytes in the file.
	dims   []int
	hdrLen int64 // 4 + 4 per dimension.
	item   int64 // bytes per item (image or label).
	need   int64 // data bytes the header claims.
}

// openIDX reads the header of an IDX file of size bytes (gzipped or raw) from r; path
// names it in errors. The dimensions are checked against what the file can hold
// before anything is allocated: the raw size exactly, and for gzip the most DEFLATE can
// expand to. Nothing is allocated for the data yet, so a caller can check the
// dimensions (LoadMNIST: the official ones) first.
func openIDX(path string, r io.Reader, size int64, magic uint32) (*idxStream, error) {
	br := bufio.NewReader(r)
	s := &idxStream{path: path, src: br, kind: "file", size: size}
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("IDX: %s: bad gzip header: %w", path, err)
		}
		s.src, s.gz, s.kind = zr, true, "decompressed data"
	}
	var hdr [4]byte
	if n, err := io.ReadFull(s.src, hdr[:]); err != nil {
		return nil, s.streamError(fmt.Sprintf("%s ends after %d bytes, within the 4-byte magic number: not an IDX file", s.kind, n), err)
	}
	got, ndims := binary.BigEndian.Uint32(hdr[:]), int(magic&0xff)
	if got != magic {
		what := "images"
		if magic == idxLabelsMagic {
			what = "labels"
		}
		return nil, fmt.Errorf("IDX: %s: magic number 0x%08x at offset 0, want 0x%08x (IDX %s of unsigned bytes)", path, got, magic, what)
	}
	var dimBytes [12]byte // at most 3 dimensions (images).
	if n, err := io.ReadFull(s.src, dimBytes[:4*ndims]); err != nil {
		return nil, s.streamError(fmt.Sprintf("%s ends at offset %d, within the %d dimensions of the header", s.kind, 4+n, ndims), err)
	}
	s.hdrLen = int64(4 + 4*ndims)
	s.dims = make([]int, ndims)
	for i := range s.dims {
		s.dims[i] = int(binary.BigEndian.Uint32(dimBytes[4*i:]))
	}
	dims := s.dims
	s.item = 1
	for _, d := range dims[1:] {
		if d == 0 {
			return nil, fmt.Errorf("IDX: %s: header gives dimensions %v: an image cannot have a side of 0", path, dims)
		}
		s.item *= int64(d) // Two uint32s: no overflow in int64.
	}
	if ndims == 3 {
		if err := checkPixels(fmt.Sprintf("IDX: %s: the header", path), int64(dims[2]), int64(dims[1])); err != nil {
			return nil, err
		}
	}
	limit := size - s.hdrLen // most data bytes the file can hold.
	if s.gz {
		limit = maxGzipRatio * size
	}
	if s.item > max(limit, 0) || int64(dims[0]) > max(limit, 0)/s.item {
		if s.gz {
			return nil, fmt.Errorf("IDX: %s: header claims %v items (%d bytes) but a %d-byte gzip file cannot hold more than %d bytes: the header is wrong or the file is cut short",
				path, dims, int64(dims[0])*s.item, size, limit)
		}
		return nil, fmt.Errorf("IDX: %s: header claims %v items (%d bytes after the %d-byte header) but the file has %d: item %d (offset %d) is cut short; the file is truncated",
			path, dims, int64(dims[0])*s.item, s.hdrLen, max(limit, 0), max(limit, 0)/s.item, s.hdrLen+max(limit, 0)/s.item*s.item)
	}
	s.need = int64(dims[0]) * s.item
	if !s.gz && s.need != limit {
		return nil, fmt.Errorf("IDX: %s: header claims %v items (%d bytes) but the file has %d bytes after the %d-byte header: %d bytes too many",
			path, dims, s.need, limit, s.hdrLen, limit-s.need)
	}
	return s, nil
}

// read reads the data the header claims. Gzipped data is read in growing steps, so a
// header that lies costs no more memory than the data actually there; it is then read to
// the end, which checks the gzip CRC-32 and that nothing follows the data.
func (s *idxStream) read() ([]byte, error) {
	data, err := readGrowing(s.src, s.need, max(1<<16, 8*s.size))
	if err != nil {
		at := int64(len(data)) / s.item
		return nil, s.streamError(fmt.Sprintf("%s ends after %d of the %d bytes the header claims: item %d (offset %d) is cut short",
			s.kind, len(data), s.need, at, s.hdrLen+at*s.item), err)
	}
	if s.gz {
		var extra [1]byte
		if n, err := io.ReadFull(s.src, extra[:]); n > 0 {
			return nil, fmt.Errorf("IDX: %s: decompressed data continues past offset %d, where the header's %v items end: not a valid IDX file", s.path, s.hdrLen+s.need, s.dims)
		} else if err != io.EOF {
			return nil, s.streamError("gzip stream after the data", err)
		}
	}
	return data, nil
}

// streamError explains a read error: a gzip stream that fails its checks is corrupt (a
// damaged file, not a short one); an early end is the message given (what was cut short).
func (s *idxStream) streamError(short string, err error) error {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, gzip.ErrChecksum):
		return fmt.Errorf("IDX: %s: corrupt gzip file: the decompressed data fails the gzip CRC-32 (or length) check; the file is damaged: delete it and download again", s.path)
	case errors.As(err, &corrupt):
		return fmt.Errorf("IDX: %s: corrupt gzip file: invalid DEFLATE data at compressed offset %d; the file is damaged: delete it and download again", s.path, int64(corrupt))
	case errors.Is(err, gzip.ErrHeader):
		return fmt.Errorf("IDX: %s: corrupt gzip file: bytes after the gzip stream are not another gzip stream (%v)", s.path, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("IDX: %s: %s; the file is cut short (%v)", s.path, short, err)
	}
	return fmt.Errorf("IDX: %s: %s: %w", s.path, short, err)
}

// readGrowing reads exactly need bytes from r into a buffer that starts at
// min(need, start) bytes and doubles as data arrives, so the memory used
// follows the data read, not the size announced. On error it returns what it
// read.
func readGrowing(r io.Reader, need, start int64) ([]byte, error) {
	buf := make([]byte, 0, min(need, start))
	for int64(len(buf)) < need {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(need, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF && int64(len(buf)) < need {
			return buf, io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return buf, err
		}
	}
	return buf, nil
}

// DownloadMNIST fetches the four .gz files of name ("mnist", "fashion-mnist" or
// "kmnist") into cacheDir/<name> (cacheDir "" = DefaultCacheDir()), each with
// resume and torchvision's MD5, and returns that folder. They stay gzipped: the
// reader reads them as they are. It returns at once when the files are there.
func DownloadMNIST(ctx context.Context, name, cacheDir string, progress io.Writer) (string, error) {
	k, ok := idxKinds[name]
	if !ok {
		return "", fmt.Errorf("unknown MNIST-family dataset %q: want mnist, fashion-mnist or kmnist", name)
	}
	if cacheDir == "" {
		cacheDir = DefaultCacheDir()
	}
	if progress == nil {
		progress = io.Discard
	}
	if root := idxRoot(k, cacheDir); idxComplete(k, cacheDir, root) {
		return root, nil
	}
	dir := filepath.Join(cacheDir, k.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("%s: %w", k.what, err)
	}
	for _, split := range []string{"train", "test"} {
		for _, what := range []string{"-images-idx3-ubyte.gz", "-labels-idx1-ubyte.gz"} {
			file := idxPrefix[split] + what
			f := fetch.File{URL: k.mirror + file, Name: file, MD5: k.md5[file], What: k.what}
			if _, err := fetch.Verified(ctx, f, dir, progress); err != nil {
				return "", err
			}
		}
	}
	fmt.Fprintf(progress, "%s is in %s\n", k.what, dir)
	return dir, nil
}

// idxComplete reports whether root holds all four files (raw or gzipped).
func idxComplete(k *idxKind, dir, root string) bool {
	for _, split := range []string{"train", "test"} {
		for _, what := range []string{"-images-idx3-ubyte", "-labels-idx1-ubyte"} {
			if _, err := findIDXFile(k, dir, root, idxPrefix[split]+what); err != nil {
				return false
			}
		}
	}
	return true
}
