package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// idxBytes builds an IDX file: magic, dims, data.
func idxBytes(magic uint32, dims []uint32, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// setIDXCounts makes the MNIST-family reader expect small splits.
func setIDXCounts(t *testing.T, train, test int) {
	t.Helper()
	old := idxCounts
	idxCounts = map[string]int{"train": train, "test": test}
	t.Cleanup(func() { idxCounts = old })
}

// fakeIDX returns the four files of a small MNIST-family dataset (28x28,
// random pixels, labels (i*3)%10), raw; gz gzips them and adds ".gz".
func fakeIDX(t *testing.T, nTrain, nTest int, gz bool) map[string][]byte {
	t.Helper()
	setIDXCounts(t, nTrain, nTest)
	rng := rand.New(rand.NewPCG(7, 8))
	files := map[string][]byte{}
	for prefix, n := range map[string]int{"train": nTrain, "t10k": nTest} {
		px := make([]byte, n*28*28)
		for i := range px {
			px[i] = byte(rng.IntN(256))
		}
		lb := make([]byte, n)
		for i := range lb {
			lb[i] = byte((i * 3) % 10)
		}
		files[prefix+"-images-idx3-ubyte"] = idxBytes(idxImagesMagic, []uint32{uint32(n), 28, 28}, px)
		files[prefix+"-labels-idx1-ubyte"] = idxBytes(idxLabelsMagic, []uint32{uint32(n)}, lb)
	}
	if gz {
		for name, b := range files {
			delete(files, name)
			files[name+".gz"] = gzipBytes(t, b)
		}
	}
	return files
}

func TestLoadMNISTFamily(t *testing.T) {
	for _, tc := range []struct {
		name, sub string
		gz        bool
		firstName string
	}{
		{"mnist", "mnist", true, "0"},
		{"mnist", "MNIST/raw", false, "0"},
		{"fashion-mnist", "fashion-mnist", false, "T-shirt/top"},
		{"kmnist", "", true, "o"},
	} {
		t.Run(tc.name+"/"+tc.sub, func(t *testing.T) {
			files := fakeIDX(t, 12, 5, tc.gz)
			dir := t.TempDir()
			writeFiles(t, filepath.Join(dir, tc.sub), files)
			for split, prefix := range map[string]string{"train": "train", "test": "t10k"} {
				for _, ch := range []int{0, 1, 3} {
					s, err := LoadMNIST(tc.name, dir, split, ch)
					if err != nil {
						t.Fatal(err)
					}
					if err := s.Validate(); err != nil {
						t.Fatal(err)
					}
					wantC := 3
					if ch == 1 {
						wantC = 1
					}
					if s.H != 28 || s.W != 28 || s.C != wantC || len(s.Classes) != 10 || s.Classes[0] != tc.firstName {
						t.Fatalf("got %s", s.Describe())
					}
					raw := files[prefix+"-images-idx3-ubyte"]
					if tc.gz {
						raw = gunzip(t, files[prefix+"-images-idx3-ubyte.gz"])
					}
					for i := range s.Len() {
						if s.Labels[i] != int32((i*3)%10) {
							t.Fatalf("label %d = %d", i, s.Labels[i])
						}
						img := s.Image(i)
						for p := range 28 * 28 {
							for c := range wantC {
								if img[p*wantC+c] != raw[16+i*784+p] {
									t.Fatalf("image %d pixel %d channel %d = %d, want %d", i, p, c, img[p*wantC+c], raw[16+i*784+p])
								}
							}
						}
					}
				}
			}
		})
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	out.ReadFrom(zr)
	return out.Bytes()
}

func TestLoadMNISTErrors(t *testing.T) {
	const img, lab = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
	cases := []struct {
		name   string
		gz     bool
		change func(f map[string][]byte)
		want   []string
	}{
		{"missing", false, func(f map[string][]byte) { f[img] = nil },
			[]string{img + " not found (nor " + img + ".gz)", "vggkit download mnist", "ossci-datasets"}},
		{"wrong magic", false, func(f map[string][]byte) { f[img][3] = 1 },
			[]string{img + ": magic number 0x00000801 at offset 0, want 0x00000803"}},
		{"labels as images", false, func(f map[string][]byte) { f[lab] = f[img] },
			[]string{lab + ": magic number 0x00000803 at offset 0, want 0x00000801"}},
		{"truncated raw", false, func(f map[string][]byte) { f[img] = f[img][:16+5*784+10] },
			[]string{img + ": header claims [12 28 28] items", "item 5 (offset 3936) is cut short"}},
		{"extra bytes", false, func(f map[string][]byte) { f[img] = append(f[img], 1, 2, 3) },
			[]string{img + ": header claims [12 28 28] items (9408 bytes)", "3 bytes too many"}},
		{"short header", false, func(f map[string][]byte) { f[img] = f[img][:10] },
			[]string{img + ": file ends at offset 10, within the 3 dimensions"}},
		{"truncated gzip", true, func(f map[string][]byte) {
			raw := gunzip(&testing.T{}, f[img+".gz"])
			f[img+".gz"] = gzipBytes(&testing.T{}, raw[:16+7*784+1])
		}, []string{img + ".gz: decompressed data ends after 5489 of the 9408 bytes", "item 7 (offset 5504) is cut short"}},
		{"gzip cut mid-stream", true, func(f map[string][]byte) { f[img+".gz"] = f[img+".gz"][:len(f[img+".gz"])/2] },
			[]string{img + ".gz: decompressed data ends after", "is cut short"}},
		{"gzip data past header", true, func(f map[string][]byte) {
			f[img+".gz"] = gzipBytes(&testing.T{}, append(gunzip(&testing.T{}, f[img+".gz"]), 9))
		}, []string{img + ".gz: decompressed data continues past offset 9424"}},
		{"label count", false, func(f map[string][]byte) {
			f[lab] = idxBytes(idxLabelsMagic, []uint32{11}, make([]byte, 11))
		}, []string{lab + " holds 11 labels but", img + " holds 12 images"}},
		{"label 10", false, func(f map[string][]byte) { f[lab][8+6] = 10 },
			[]string{lab + ": label at index 6 (offset 14) is 10, want 0..9"}},
		{"wrong count", false, func(f map[string][]byte) {
			f[img] = idxBytes(idxImagesMagic, []uint32{3, 28, 28}, make([]byte, 3*784))
			f[lab] = idxBytes(idxLabelsMagic, []uint32{3}, make([]byte, 3))
		}, []string{img + " holds 3 images of 28x28 (its header), want 12 of 28x28: not the official train file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := fakeIDX(t, 12, 5, c.gz)
			c.change(files)
			dir := t.TempDir()
			writeFiles(t, filepath.Join(dir, "mnist"), files)
			_, err := LoadMNIST("mnist", dir, "train", 0)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// A header claiming billions of images fails without allocating for
// them: raw (checked against the file size) and gzipped (checked against what
// DEFLATE can expand to, then read in growing steps).
func TestIDXHugeHeaderNoAllocation(t *testing.T) {
	huge := idxBytes(idxImagesMagic, []uint32{4_000_000_000, 28, 28}, make([]byte, 784*3))
	dir := t.TempDir()
	rawPath, gzPath := filepath.Join(dir, "huge-raw"), filepath.Join(dir, "huge.gz")
	os.WriteFile(rawPath, huge, 0o644)
	os.WriteFile(gzPath, gzipBytes(t, huge), 0o644)
	// Plausible for the compressed size, so the gzip path must read and grow.
	noise := make([]byte, 784*3) // Incompressible, so the claim fits the gzip size.
	rand.NewChaCha8([32]byte{1}).Read(noise)
	plausible := gzipBytes(t, idxBytes(idxImagesMagic, []uint32{2000, 28, 28}, noise))
	plausiblePath := filepath.Join(dir, "plausible.gz")
	os.WriteFile(plausiblePath, plausible, 0o644)
	for _, c := range []struct{ path, want string }{
		{rawPath, "huge-raw: header claims [4000000000 28 28] items (3136000000000 bytes after the 16-byte header) but the file has 2352: item 3 (offset 2368) is cut short"},
		{gzPath, "cannot hold more than"},
		{plausiblePath, "plausible.gz: decompressed data ends after 2352 of the 1568000 bytes the header claims: item 3 (offset 2368)"},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, _, err := readIDXFile(c.path, idxImagesMagic)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.path, err, c.want)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
			t.Errorf("%s: allocated %d bytes for a %d-byte file", c.path, alloc, len(huge))
		}
	}
}

func TestLoadIDXChannelsOption(t *testing.T) {
	_, err := LoadIDX("x", "a", "b", []string{"0"}, 2)
	if err == nil || !strings.Contains(err.Error(), "channels 2") {
		t.Errorf("error %v", err)
	}
}
