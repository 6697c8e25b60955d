package data

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// setCIFARCounts makes the reader expect n records per file for the test.
func setCIFARCounts(t *testing.T, n int) {
	t.Helper()
	old := cifarCounts
	cifarCounts = map[string]int{}
	for f := range old {
		cifarCounts[f] = n
	}
	t.Cleanup(func() { cifarCounts = old })
}

var cifar10Names = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n" // The real file ends with a blank line.

// cifarRecords makes n random records with labelBytes label bytes each; label
// byte b of record i is labelOf(i, b).
func cifarRecords(rng *rand.Rand, n, labelBytes int, labelOf func(i, b int) byte) []byte {
	rec := labelBytes + 3072
	out := make([]byte, n*rec)
	for i := range n {
		for b := range labelBytes {
			out[i*rec+b] = labelOf(i, b)
		}
		for p := labelBytes; p < rec; p++ {
			out[i*rec+p] = byte(rng.IntN(256))
		}
	}
	return out
}

// fakeCIFAR10 writes the official layout (cifar-10-batches-bin/) with n records per batch.
func fakeCIFAR10(t *testing.T, dir string, n int) map[string][]byte {
	t.Helper()
	setCIFARCounts(t, n)
	rng := rand.New(rand.NewPCG(3, 4))
	files := map[string][]byte{"batches.meta.txt": []byte(cifar10Names)}
	for k, f := range append(cifar10Kind.files["train"], cifar10Kind.files["test"]...) {
		files[f] = cifarRecords(rng, n, 1, func(i, _ int) byte { return byte((i + k) % 10) })
	}
	writeFiles(t, filepath.Join(dir, "cifar-10-batches-bin"), files)
	return files
}

// fakeCIFAR100 writes cifar-100-binary/ with n records per file; fine label
// (7i+k)%100, coarse label its fine label / 5.
func fakeCIFAR100(t *testing.T, dir string, n int) map[string][]byte {
	t.Helper()
	setCIFARCounts(t, n)
	rng := rand.New(rand.NewPCG(5, 6))
	var fine, coarse strings.Builder
	for i := range 100 {
		fmt.Fprintf(&fine, "fine%02d\n", i)
	}
	for i := range 20 {
		fmt.Fprintf(&coarse, "coarse%02d\n", i)
	}
	files := map[string][]byte{"fine_label_names.txt": []byte(fine.String()), "coarse_label_names.txt": []byte(coarse.String())}
	for k, f := range []string{"train.bin", "test.bin"} {
		files[f] = cifarRecords(rng, n, 2, func(i, b int) byte {
			fl := byte((7*i + k) % 100)
			if b == 0 {
				return fl / 5
			}
			return fl
		})
	}
	writeFiles(t, filepath.Join(dir, "cifar-100-binary"), files)
	return files
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if b == nil {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkCIFARImages compares every pixel of s with the raw records (planar RGB,
// row-major planes), written out from the format's definition.
func checkCIFARImages(t *testing.T, s *Set, raws [][]byte, labelBytes, labelAt int) {
	t.Helper()
	rec := labelBytes + 3072
	k := 0
	for _, raw := range raws {
		for i := range len(raw) / rec {
			r := raw[i*rec:]
			if s.Labels[k] != int32(r[labelAt]) {
				t.Fatalf("image %d label %d, want %d", k, s.Labels[k], r[labelAt])
			}
			img := s.Image(k)
			for y := range 32 {
				for x := range 32 {
					for c := range 3 {
						if got, want := img[(y*32+x)*3+c], r[labelBytes+c*1024+y*32+x]; got != want {
							t.Fatalf("image %d row %d col %d ch %d = %d, want %d", k, y, x, c, got, want)
						}
					}
				}
			}
			k++
		}
	}
	if k != s.Len() {
		t.Fatalf("%d images, want %d", s.Len(), k)
	}
}

func TestLoadCIFAR10(t *testing.T) {
	for _, layout := range []string{"subdir", "flat"} {
		t.Run(layout, func(t *testing.T) {
			dir := t.TempDir()
			files := fakeCIFAR10(t, dir, 7)
			if layout == "flat" {
				dir = filepath.Join(dir, "cifar-10-batches-bin")
			}
			train, err := LoadCIFAR10(dir, "train")
			if err != nil {
				t.Fatal(err)
			}
			if err := train.Validate(); err != nil {
				t.Fatal(err)
			}
			if train.Name != "CIFAR-10 train" || train.H != 32 || train.C != 3 || len(train.Classes) != 10 || train.Classes[1] != "automobile" {
				t.Errorf("got %s", train.Describe())
			}
			var raws [][]byte
			for _, f := range cifar10Kind.files["train"] {
				raws = append(raws, files[f])
			}
			checkCIFARImages(t, train, raws, 1, 0)
			test, err := LoadCIFAR10(dir, "test")
			if err != nil {
				t.Fatal(err)
			}
			checkCIFARImages(t, test, [][]byte{files["test_batch.bin"]}, 1, 0)
		})
	}
}

// A known pixel lands where the format says: red plane, row 2, column 5.
func TestLoadCIFAR10Orientation(t *testing.T) {
	dir := t.TempDir()
	files := fakeCIFAR10(t, dir, 1)
	rec := files["test_batch.bin"]
	for i := 1; i < len(rec); i++ {
		rec[i] = 0
	}
	rec[1+0*1024+2*32+5] = 255 // R, row 2, col 5.
	rec[1+2*1024+5*32+2] = 100 // B, row 5, col 2.
	writeFiles(t, filepath.Join(dir, "cifar-10-batches-bin"), map[string][]byte{"test_batch.bin": rec})
	s, err := LoadCIFAR10(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	img := s.Image(0)
	if img[(2*32+5)*3+0] != 255 || img[(5*32+2)*3+2] != 100 || img[(5*32+2)*3+0] != 0 || img[(2*32+5)*3+2] != 0 {
		t.Error("pixels are not where the format puts them")
	}
}

func TestLoadCIFAR100FineCoarse(t *testing.T) {
	dir := t.TempDir()
	files := fakeCIFAR100(t, dir, 9)
	fine, err := LoadCIFAR100(dir, "train", false)
	if err != nil {
		t.Fatal(err)
	}
	if fine.Name != "CIFAR-100 train" || len(fine.Classes) != 100 || fine.Classes[42] != "fine42" {
		t.Errorf("fine: %s", fine.Describe())
	}
	checkCIFARImages(t, fine, [][]byte{files["train.bin"]}, 2, 1)
	coarse, err := LoadCIFAR100(dir, "test", true)
	if err != nil {
		t.Fatal(err)
	}
	if coarse.Name != "CIFAR-100 (coarse) test" || len(coarse.Classes) != 20 || coarse.Classes[3] != "coarse03" {
		t.Errorf("coarse: %s", coarse.Describe())
	}
	checkCIFARImages(t, coarse, [][]byte{files["test.bin"]}, 2, 0)
	for _, s := range []*Set{fine, coarse} {
		if err := s.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func TestLoadCIFARErrors(t *testing.T) {
	cases := []struct {
		name    string
		hundred bool
		split   string
		change  func(dir string, f map[string][]byte)
		want    []string
	}{
		{"missing batch", false, "train", func(dir string, f map[string][]byte) { f["data_batch_3.bin"] = nil },
			[]string{"data_batch_3.bin not found", "vggkit download cifar10", "cifar-10-batches-bin"}},
		{"missing names", false, "test", func(dir string, f map[string][]byte) { f["batches.meta.txt"] = nil },
			[]string{"batches.meta.txt not found"}},
		{"nine names", false, "test", func(dir string, f map[string][]byte) { f["batches.meta.txt"] = []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\n") },
			[]string{"batches.meta.txt has 9 class names, want 10"}},
		{"cut record", false, "train", func(dir string, f map[string][]byte) {
			f["data_batch_2.bin"] = f["data_batch_2.bin"][:4*3073+100]
		}, []string{"data_batch_2.bin is 12392 bytes, not a multiple of the 3073-byte record", "record 4 is cut short after 100 bytes (offset 12292)"}},
		{"whole records missing", false, "test", func(dir string, f map[string][]byte) { f["test_batch.bin"] = f["test_batch.bin"][:3*3073] },
			[]string{"test_batch.bin holds 3 records, want 5", "truncated"}},
		{"too many records", false, "test", func(dir string, f map[string][]byte) {
			f["test_batch.bin"] = append(f["test_batch.bin"], f["test_batch.bin"][:3073]...)
		}, []string{"test_batch.bin holds 6 records, want 5", "not the official"}},
		{"label 10", false, "train", func(dir string, f map[string][]byte) { f["data_batch_5.bin"][3*3073] = 10 },
			[]string{"data_batch_5.bin: record 3 (offset 9219) has label 10, want 0..9"}},
		{"fine label 100", true, "train", func(dir string, f map[string][]byte) { f["train.bin"][2*3074+1] = 100 },
			[]string{"train.bin: record 2 (offset 6149) has label 100, want 0..99"}},
		{"100 missing", true, "test", func(dir string, f map[string][]byte) { f["test.bin"] = nil },
			[]string{"test.bin not found", "vggkit download cifar100"}},
		{"unknown split", false, "unlabeled", nil, []string{`CIFAR-10: unknown split "unlabeled"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			var files map[string][]byte
			sub := "cifar-10-batches-bin"
			if c.hundred {
				files, sub = fakeCIFAR100(t, dir, 5), "cifar-100-binary"
			} else {
				files = fakeCIFAR10(t, dir, 5)
			}
			if c.change != nil {
				c.change(dir, files)
				writeFiles(t, filepath.Join(dir, sub), files)
			}
			var err error
			if c.hundred {
				_, err = LoadCIFAR100(dir, c.split, false)
			} else {
				_, err = LoadCIFAR10(dir, c.split)
			}
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

// The coarse label is checked against the 20 superclasses.
func TestLoadCIFAR100CoarseRange(t *testing.T) {
	dir := t.TempDir()
	files := fakeCIFAR100(t, dir, 4)
	files["test.bin"][1*3074] = 20
	writeFiles(t, filepath.Join(dir, "cifar-100-binary"), files)
	if _, err := LoadCIFAR100(dir, "test", false); err != nil {
		t.Errorf("fine labels are fine: %v", err)
	}
	_, err := LoadCIFAR100(dir, "test", true)
	if err == nil || !strings.Contains(err.Error(), "test.bin: record 1 (offset 3074) has label 20, want 0..19") {
		t.Errorf("error %v", err)
	}
}
