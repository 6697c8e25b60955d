package data

import (
	"bytes"
	"encoding/binary"
	"hash/adler32"
	"hash/crc32"
	"image/color"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pngHeader is a PNG that declares w x h pixels of 16-bit RGBA (8 bytes a pixel) and
// holds the first bytes of its first row: 74 bytes that a decoder which trusted the header would
// answer with w*h*8 bytes of memory (30000x30000: 7.2 GB).
func pngHeader(w, h uint32) []byte {
	chunk := func(b []byte, typ string, data []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		start := len(b)
		b = append(append(b, typ...), data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 16, 6, 0, 0, 0) // 16 bits, RGBA, deflate, no filter, no interlace.
	b := []byte("\x89PNG\r\n\x1a\n")
	b = chunk(b, "IHDR", ihdr)
	// The start of the first row: a zlib stream of one stored block of 6 zero bytes.
	idat := []byte{0x78, 0x01, 0x01, 6, 0, 0xf9, 0xff, 0, 0, 0, 0, 0, 0}
	idat = binary.BigEndian.AppendUint32(idat, adler32.Checksum(idat[7:]))
	b = chunk(b, "IDAT", idat)
	return chunk(b, "IEND", nil)
}

// hostileCase is one hostile or careless input to a reader: build writes the files under
// dir and returns the read; want are fragments of its error (none: the read must
// succeed); maxAlloc, when not 0, bounds the bytes the read may allocate.
type hostileCase struct {
	name     string
	build    func(t *testing.T, dir string) func() error
	want     []string
	maxAlloc uint64
}

// TestHostileInputs runs every reader on the inputs of issue 11's probe (a folder or a
// FIFO in place of a data file, a corrupt gzip, headers that claim gigabytes, a class
// folder that is a symlink) and on the cases around them. Each read must end (a FIFO once
// hung forever), fail with an error that names the file and says what is wrong, and
// refuse a memory bomb before allocating for it.
func TestHostileInputs(t *testing.T) {
	const mb = 1 << 20
	stl10 := func(change func(t *testing.T, sub string)) func(t *testing.T, dir string) func() error {
		return func(t *testing.T, dir string) func() error {
			f := newFakeSTL10(t, 12, 3, 2)
			sub := filepath.Join(dir, "stl10_binary")
			writeSTL10(t, sub, f)
			change(t, sub)
			return func() error { _, err := LoadSTL10(dir, "train", 0); return err }
		}
	}
	cifar := func(n int, change func(t *testing.T, sub string)) func(t *testing.T, dir string) func() error {
		return func(t *testing.T, dir string) func() error {
			fakeCIFAR10(t, dir, n)
			change(t, filepath.Join(dir, "cifar-10-batches-bin"))
			return func() error { _, err := LoadCIFAR10(dir, "train"); return err }
		}
	}
	mnist := func(gz bool, change func(t *testing.T, sub string, files map[string][]byte)) func(t *testing.T, dir string) func() error {
		return func(t *testing.T, dir string) func() error {
			files := fakeIDX(t, 12, 5, gz)
			sub := filepath.Join(dir, "mnist")
			change(t, sub, files)
			writeFiles(t, sub, files)
			return func() error { _, err := LoadMNIST("mnist", dir, "test", 1); return err }
		}
	}
	replace := func(name string, with func(t *testing.T, path string)) func(t *testing.T, sub string) {
		return func(t *testing.T, sub string) {
			p := filepath.Join(sub, name)
			os.Remove(p)
			with(t, p)
		}
	}
	asDir := func(t *testing.T, p string) { os.MkdirAll(filepath.Join(p, "oops"), 0o755) }
	image := func(path string) func() error {
		return func() error { _, err := ReadImage(path, 32, 3); return err }
	}
	cases := []hostileCase{
		// A folder or a FIFO where a data file belongs: said so, never waited on.
		{"stl10 images are a directory", stl10(replace("train_X.bin", asDir)),
			[]string{"train_X.bin is a directory, not a regular file"}, 0},
		{"stl10 images are a FIFO", stl10(replace("train_X.bin", mkfifo)),
			[]string{"train_X.bin is a named pipe (FIFO), not a regular file"}, 0},
		{"stl10 labels are a FIFO", stl10(replace("train_y.bin", mkfifo)),
			[]string{"train_y.bin is a named pipe (FIFO)"}, 0},
		{"stl10 folds are a directory", stl10(replace("fold_indices.txt", asDir)),
			[]string{"fold_indices.txt is a directory"}, 0},
		{"stl10 class names are a FIFO", stl10(replace("class_names.txt", mkfifo)),
			[]string{"class_names.txt is a named pipe (FIFO)"}, 0},
		{"cifar batch is a directory", cifar(5, replace("data_batch_3.bin", asDir)),
			[]string{"data_batch_3.bin is a directory, not a regular file"}, 0},
		{"cifar batch is a FIFO", cifar(5, replace("data_batch_1.bin", mkfifo)),
			[]string{"data_batch_1.bin is a named pipe (FIFO)"}, 0},
		{"cifar names are a FIFO", cifar(5, replace("batches.meta.txt", mkfifo)),
			[]string{"batches.meta.txt is a named pipe (FIFO)"}, 0},
		// The official sizes drive the set's allocation (150 MB for CIFAR-10 train): a
		// short file is found before it.
		{"cifar short batch, official counts", func(t *testing.T, dir string) func() error {
			sub := filepath.Join(dir, "cifar-10-batches-bin")
			files := map[string][]byte{"batches.meta.txt": []byte(cifar10Names)}
			for _, f := range append(cifar10Kind.files["train"], cifar10Kind.files["test"]...) {
				files[f] = make([]byte, 3073)
			}
			writeFiles(t, sub, files)
			return func() error { _, err := LoadCIFAR10(dir, "train"); return err }
		}, []string{"data_batch_1.bin holds 1 records, want 10000"}, mb},
		{"idx images are a directory", mnist(false, func(t *testing.T, sub string, f map[string][]byte) {
			delete(f, "t10k-images-idx3-ubyte")
			asDir(t, filepath.Join(sub, "t10k-images-idx3-ubyte"))
		}), []string{"t10k-images-idx3-ubyte is a directory, not a regular file"}, 0},
		{"idx labels are a FIFO", mnist(true, func(t *testing.T, sub string, f map[string][]byte) {
			delete(f, "t10k-labels-idx1-ubyte.gz")
			os.MkdirAll(sub, 0o755)
			mkfifo(t, filepath.Join(sub, "t10k-labels-idx1-ubyte.gz"))
		}), []string{"t10k-labels-idx1-ubyte.gz is a named pipe (FIFO)"}, 0},
		// A damaged gzip is corrupt, not short.
		{"idx gzip with a bad CRC", mnist(true, func(t *testing.T, sub string, f map[string][]byte) {
			b := f["t10k-images-idx3-ubyte.gz"]
			b[len(b)-8] ^= 0xff // the CRC-32 of the trailer.
		}), []string{"t10k-images-idx3-ubyte.gz: corrupt gzip file", "CRC-32"}, 0},
		{"idx gzip with a bad length", mnist(true, func(t *testing.T, sub string, f map[string][]byte) {
			b := f["t10k-labels-idx1-ubyte.gz"]
			b[len(b)-4] ^= 0x01 // the length of the trailer.
		}), []string{"t10k-labels-idx1-ubyte.gz: corrupt gzip file"}, 0},
		{"idx gzip cut short", mnist(true, func(t *testing.T, sub string, f map[string][]byte) {
			b := f["t10k-images-idx3-ubyte.gz"]
			f["t10k-images-idx3-ubyte.gz"] = b[:len(b)-6]
		}), []string{"t10k-images-idx3-ubyte.gz", "cut short"}, 0},
		// A compression bomb: a 10 KB gzip of 9 MB of real (zero) images, 300x300 where
		// MNIST has 28x28; refused from the header, before anything is read.
		{"idx gzip bomb", mnist(true, func(t *testing.T, sub string, f map[string][]byte) {
			f["t10k-images-idx3-ubyte.gz"] = gzipBytes(t, idxBytes(idxImagesMagic, []uint32{5, 300, 300}, make([]byte, 5*300*300)))
		}), []string{"t10k-images-idx3-ubyte.gz holds 5 images of 300x300 (its header), want 5 of 28x28: not the official test file"}, mb / 4},
		{"idx header claims 10000x300x300", mnist(false, func(t *testing.T, sub string, f map[string][]byte) {
			f["t10k-images-idx3-ubyte"] = idxBytes(idxImagesMagic, []uint32{10000, 300, 300}, nil)
		}), []string{"t10k-images-idx3-ubyte: header claims [10000 300 300] items (900000000 bytes"}, mb / 4},
		{"idx image over the pixel limit", func(t *testing.T, dir string) func() error {
			t.Setenv("VGGKIT_MAX_IMAGE_PIXELS", "700")
			p := filepath.Join(dir, "images")
			os.WriteFile(p, idxBytes(idxImagesMagic, []uint32{1, 28, 28}, make([]byte, 784)), 0o644)
			return func() error { _, _, err := readIDXFile(p, idxImagesMagic); return err }
		}, []string{"images: the header declares 28x28 pixels", "over the limit of 0.0007 megapixels", "VGGKIT_MAX_IMAGE_PIXELS=784"}, mb / 4},
		// Images: the header is read first and the size checked against the limit.
		{"png header claiming 30000x30000 RGBA64", func(t *testing.T, dir string) func() error {
			p := filepath.Join(dir, "bomb.png")
			os.WriteFile(p, pngHeader(30000, 30000), 0o644)
			return image(p)
		}, []string{"bomb.png: PNG header declares 30000x30000 pixels (900 megapixels), over the limit of 50 megapixels",
			"set VGGKIT_MAX_IMAGE_PIXELS=900000000"}, mb / 4},
		// TIFF directory entries claiming more values than the file holds: the decoder
		// buffered up to their end before reading (27 MB for a 26-byte file claiming a
		// gigabyte; 4.3 GB for the 396-byte file FuzzDecode found); given an io.ReaderAt
		// it reads what is there, in chunks of at most 10 MB.
		{"tiff entry claiming a gigabyte", func(t *testing.T, dir string) func() error {
			b := []byte("II*\x00\x08\x00\x00\x00\x01\x00")
			b = append(b, 0x11, 0x01, 4, 0, 0x01, 0, 0, 0x0f, 8, 0, 0, 0) // tag 273, LONG, count, offset 8.
			b = append(b, 0, 0, 0, 0)                                     // no next directory.
			p := filepath.Join(dir, "big.tif")
			os.WriteFile(p, b, 0o644)
			return image(p)
		}, []string{"big.tif: bad image header"}, 16 * mb},
		{"tiff found by FuzzDecode", func(t *testing.T, dir string) func() error {
			p := filepath.Join(dir, "found.tif")
			os.WriteFile(p, fuzzInput(t, "testdata/fuzz/FuzzDecode/tiff-4GB"), 0o644)
			return image(p)
		}, []string{"found.tif: bad image header"}, 16 * mb},
		{"image over a lowered limit", func(t *testing.T, dir string) func() error {
			t.Setenv("VGGKIT_MAX_IMAGE_PIXELS", "10_000")
			p := filepath.Join(dir, "wide.png")
			writeImage(t, p, 200, 60, solid(color.RGBA{1, 2, 3, 255}))
			return image(p)
		}, []string{"wide.png: PNG header declares 200x60 pixels", "VGGKIT_MAX_IMAGE_PIXELS=12000"}, mb / 4},
		{"image under a raised limit", func(t *testing.T, dir string) func() error {
			t.Setenv("VGGKIT_MAX_IMAGE_PIXELS", "12000")
			p := filepath.Join(dir, "wide.png")
			writeImage(t, p, 200, 60, solid(color.RGBA{1, 2, 3, 255}))
			return image(p)
		}, nil, 0},
		{"bad pixel limit setting", func(t *testing.T, dir string) func() error {
			t.Setenv("VGGKIT_MAX_IMAGE_PIXELS", "lots")
			p := filepath.Join(dir, "ok.png")
			writeImage(t, p, 8, 8, solid(color.RGBA{1, 2, 3, 255}))
			return image(p)
		}, []string{`VGGKIT_MAX_IMAGE_PIXELS="lots": want a whole number of pixels`}, 0},
		{"image is a directory", func(t *testing.T, dir string) func() error {
			p := filepath.Join(dir, "cat.jpg")
			asDir(t, p)
			return image(p)
		}, []string{"cat.jpg: is a directory, not an image file"}, 0},
		{"image is a FIFO", func(t *testing.T, dir string) func() error {
			p := filepath.Join(dir, "cat.png")
			mkfifo(t, p)
			return image(p)
		}, []string{"cat.png: is a named pipe (FIFO), not an image file"}, 0},
		// Image folders: a class folder may be a symlink; a FIFO among the images is
		// skipped, not waited on.
		{"class folder is a symlink", func(t *testing.T, dir string) func() error {
			writeImage(t, filepath.Join(dir, "elsewhere", "dog", "1.png"), 8, 8, solid(color.RGBA{9, 9, 9, 255}))
			writeImage(t, filepath.Join(dir, "pets", "cat", "1.png"), 8, 8, solid(color.RGBA{1, 1, 1, 255}))
			if err := os.Symlink(filepath.Join(dir, "elsewhere", "dog"), filepath.Join(dir, "pets", "dog")); err != nil {
				t.Skip("no symlinks here:", err)
			}
			return func() error {
				s, skipped, err := LoadImageFolder(filepath.Join(dir, "pets"), "train", FolderOptions{Size: 8})
				if err == nil && (s.Len() != 2 || strings.Join(s.Classes, ",") != "cat,dog" || len(skipped) != 0) {
					t.Errorf("got %s, skipped %v: want cat and dog, one image each", s.Describe(), skipped)
				}
				return err
			}
		}, nil, 0},
		{"FIFO among the images", func(t *testing.T, dir string) func() error {
			writeImage(t, filepath.Join(dir, "pets", "train", "cat", "1.png"), 8, 8, solid(color.RGBA{1, 1, 1, 255}))
			writeImage(t, filepath.Join(dir, "pets", "test", "cat", "1.png"), 8, 8, solid(color.RGBA{1, 1, 1, 255}))
			mkfifo(t, filepath.Join(dir, "pets", "train", "cat", "2.png"))
			return func() error {
				s, skipped, err := LoadImageFolder(filepath.Join(dir, "pets"), "train", FolderOptions{Size: 8})
				if err == nil && (s.Len() != 1 || len(skipped) != 1 || !strings.Contains(skipped[0].String(), "2.png: is a named pipe (FIFO)")) {
					t.Errorf("got %s, skipped %v: want one image and the FIFO skipped", s.Describe(), skipped)
				}
				return err
			}
		}, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			read := c.build(t, t.TempDir())
			done := make(chan struct{})
			var err error
			var alloc uint64
			go func() {
				defer close(done)
				alloc = allocated(func() { err = read() })
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the read did not return in 30 s (waiting on a FIFO?)")
			}
			if c.maxAlloc > 0 && alloc > c.maxAlloc {
				t.Errorf("allocated %d bytes, want at most %d", alloc, c.maxAlloc)
			}
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// The pixel limit costs nothing to check: refusing the 74-byte PNG bomb allocates about
// what reading its header does, whatever size it declares.
func TestImageBombRefusedCheaply(t *testing.T) {
	for _, side := range []uint32{30000, 1 << 20} {
		b := pngHeader(side, side)
		if len(b) != 74 {
			t.Fatalf("the PNG is %d bytes, want 74 (as the probe's)", len(b))
		}
		var err error
		perRun := testing.AllocsPerRun(20, func() { _, err = Decode(bytes.NewReader(b), 32, 3) })
		if err == nil || !strings.Contains(err.Error(), "over the limit") {
			t.Fatalf("%dx%d: error %v", side, side, err)
		}
		bytesUsed := allocated(func() { Decode(bytes.NewReader(b), 32, 3) })
		if perRun > 100 || bytesUsed > 256<<10 {
			t.Errorf("%dx%d: refusing took %.0f allocations and %d bytes", side, side, perRun, bytesUsed)
		}
	}
}

// fuzzInput reads the []byte of a one-value fuzz corpus file ("go test fuzz v1").
func fuzzInput(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	q, ok := strings.CutPrefix(lines[len(lines)-1], "[]byte(")
	s, err := strconv.Unquote(strings.TrimSuffix(q, ")"))
	if !ok || err != nil {
		t.Fatalf("%s: not a []byte corpus entry (%v)", path, err)
	}
	return []byte(s)
}
