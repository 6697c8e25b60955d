package data

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSTL10 is the content of each file of an STL-10 folder, raw as on disk.
// A nil entry is not written (to test missing files).
type fakeSTL10 struct {
	files map[string][]byte
}

// setSTL10Counts makes the reader expect small splits for the test's duration.
func setSTL10Counts(t *testing.T, train, test, unlabeled int) {
	t.Helper()
	old := stl10Counts
	stl10Counts = map[string]int{"train": train, "test": test, "unlabeled": unlabeled}
	t.Cleanup(func() { stl10Counts = old })
}

// newFakeSTL10 makes small splits of random raw images (planar, column-major
// as in the real files), labels 1..10 cycling from a random start, the real
// class names and 10 folds (fold k: the train indices i with i%10 == k, in
// descending order so that order is checked too). It also sets stl10Counts.
func newFakeSTL10(t *testing.T, nTrain, nTest, nUnlabeled int) *fakeSTL10 {
	t.Helper()
	setSTL10Counts(t, nTrain, nTest, nUnlabeled)
	rng := rand.New(rand.NewPCG(1, 2))
	raw := func(n int) []byte {
		b := make([]byte, n*stl10ImageBytes)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	labels := func(n int) []byte {
		b := make([]byte, n)
		start := rng.IntN(10)
		for i := range b {
			b[i] = byte((start+i)%10 + 1)
		}
		return b
	}
	var folds strings.Builder
	for k := range 10 {
		var idx []string
		for i := nTrain - 1; i >= 0; i-- {
			if i%10 == k {
				idx = append(idx, fmt.Sprint(i))
			}
		}
		folds.WriteString(strings.Join(idx, " ") + " \n") // The real file has a trailing space.
	}
	return &fakeSTL10{files: map[string][]byte{
		"train_X.bin":      raw(nTrain),
		"train_y.bin":      labels(nTrain),
		"test_X.bin":       raw(nTest),
		"test_y.bin":       labels(nTest),
		"unlabeled_X.bin":  raw(nUnlabeled),
		"class_names.txt":  []byte("airplane\nbird\ncar\ncat\ndeer\ndog\nhorse\nmonkey\nship\ntruck\n"),
		"fold_indices.txt": []byte(folds.String()),
	}}
}

// writeSTL10 writes the files into dir (which it creates).
func writeSTL10(t *testing.T, dir string, f *fakeSTL10) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range f.files {
		if b == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// rawPixel is the byte of image i, channel c, at row y, column x in the raw
// STL-10 layout, written out from the format's definition.
func rawPixel(raw []byte, i, c, y, x int) byte {
	return raw[i*27648+c*96*96+x*96+y]
}

func TestLoadSTL10Orientation(t *testing.T) {
	f := newFakeSTL10(t, 2, 1, 1)
	img := make([]byte, 27648) // Image 0 of train: all zero except four known bytes.
	img[0*9216+0*96+0] = 255   // R plane, column 0, row 0: red top-left pixel, R only.
	img[1*9216+5*96+0] = 200   // G plane, column 5, row 0.
	img[2*9216+0*96+5] = 100   // B plane, column 0, row 5.
	img[0*9216+70*96+10] = 77  // R plane, column 70, row 10.
	copy(f.files["train_X.bin"], img)
	dir := t.TempDir()
	writeSTL10(t, filepath.Join(dir, "stl10_binary"), f)

	s, err := LoadSTL10(dir, "train", -1)
	if err != nil {
		t.Fatal(err)
	}
	if s.H != 96 || s.W != 96 || s.C != 3 || s.Len() != 2 {
		t.Fatalf("got %dx%dx%d x %d images, want 96x96x3 x 2", s.H, s.W, s.C, s.Len())
	}
	px := s.Image(0)
	at := func(y, x, c int) byte { return px[(y*96+x)*3+c] }
	checks := []struct {
		y, x, c int
		want    byte
	}{
		{0, 0, 0, 255}, {0, 0, 1, 0}, {0, 0, 2, 0}, // red, only in R.
		{0, 5, 1, 200}, {5, 0, 1, 0}, // row 0 col 5, not row 5 col 0.
		{5, 0, 2, 100}, {0, 5, 2, 0},
		{10, 70, 0, 77}, {70, 10, 0, 0},
	}
	for _, ck := range checks {
		if got := at(ck.y, ck.x, ck.c); got != ck.want {
			t.Errorf("pixel row %d col %d channel %d = %d, want %d", ck.y, ck.x, ck.c, got, ck.want)
		}
	}
	nonzero := 0
	for _, b := range px {
		if b != 0 {
			nonzero++
		}
	}
	if nonzero != 4 {
		t.Errorf("%d non-zero bytes in image 0, want 4", nonzero)
	}
}

func TestLoadSTL10Splits(t *testing.T) {
	f := newFakeSTL10(t, 23, 7, 5)
	for _, layout := range []string{"subdir", "flat"} {
		t.Run(layout, func(t *testing.T) {
			dir := t.TempDir()
			filesDir := dir
			if layout == "subdir" {
				filesDir = filepath.Join(dir, "stl10_binary")
			}
			writeSTL10(t, filesDir, f)
			if got, ok := FindSTL10(dir); !ok || got != filesDir {
				t.Fatalf("FindSTL10(%s) = %s, %v; want %s, true", dir, got, ok, filesDir)
			}
			for _, split := range []string{"train", "test", "unlabeled"} {
				s, err := LoadSTL10(dir, split, -1)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Validate(); err != nil {
					t.Fatal(err)
				}
				if want := "STL-10 " + split; s.Name != want {
					t.Errorf("Name %q, want %q", s.Name, want)
				}
				if strings.Join(s.Classes, " ") != "airplane bird car cat deer dog horse monkey ship truck" {
					t.Errorf("classes %v", s.Classes)
				}
				raw := f.files[split+"_X.bin"]
				n := len(raw) / 27648
				if s.Len() != n {
					t.Fatalf("%s: %d images, want %d", split, s.Len(), n)
				}
				for i := range n {
					img := s.Image(i)
					for y := range 96 {
						for x := range 96 {
							for c := range 3 {
								if got, want := img[(y*96+x)*3+c], rawPixel(raw, i, c, y, x); got != want {
									t.Fatalf("%s image %d row %d col %d ch %d = %d, want %d", split, i, y, x, c, got, want)
								}
							}
						}
					}
					want := int32(-1)
					if split != "unlabeled" {
						want = int32(f.files[split+"_y.bin"][i]) - 1
					}
					if s.Labels[i] != want {
						t.Errorf("%s label %d = %d, want %d", split, i, s.Labels[i], want)
					}
				}
			}
		})
	}
}

func TestLoadSTL10Folds(t *testing.T) {
	f := newFakeSTL10(t, 35, 2, 1)
	dir := t.TempDir()
	writeSTL10(t, filepath.Join(dir, "stl10_binary"), f)
	all, err := LoadSTL10(dir, "train", -1)
	if err != nil {
		t.Fatal(err)
	}
	for _, fold := range []int{0, 3, 9} {
		s, err := LoadSTL10(dir, "train", fold)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("STL-10 train fold %d", fold); s.Name != want {
			t.Errorf("Name %q, want %q", s.Name, want)
		}
		var want []int // As newFakeSTL10 writes them: i%10 == fold, descending.
		for i := 34; i >= 0; i-- {
			if i%10 == fold {
				want = append(want, i)
			}
		}
		if s.Len() != len(want) {
			t.Fatalf("fold %d: %d images, want %d", fold, s.Len(), len(want))
		}
		for k, i := range want {
			if !bytes.Equal(s.Image(k), all.Image(i)) || s.Labels[k] != all.Labels[i] {
				t.Errorf("fold %d image %d is not train image %d", fold, k, i)
			}
		}
	}
}

func TestFindSTL10Missing(t *testing.T) {
	dir := t.TempDir()
	if got, ok := FindSTL10(dir); ok || got != filepath.Join(dir, "stl10_binary") {
		t.Errorf("FindSTL10(empty) = %s, %v; want %s, false", got, ok, filepath.Join(dir, "stl10_binary"))
	}
	f := newFakeSTL10(t, 1, 1, 1)
	f.files["test_y.bin"] = nil
	writeSTL10(t, filepath.Join(dir, "stl10_binary"), f)
	if _, ok := FindSTL10(dir); ok {
		t.Error("FindSTL10 true without test_y.bin")
	}
}

func TestLoadSTL10Errors(t *testing.T) {
	type tc struct {
		name   string
		split  string
		fold   int
		change func(f *fakeSTL10)
		want   []string // substrings of the error.
	}
	cases := []tc{
		{"missing images", "train", -1, func(f *fakeSTL10) { f.files["train_X.bin"] = nil },
			[]string{"train_X.bin not found", "vggkit download stl10", "stl10_binary"}},
		{"missing labels", "test", -1, func(f *fakeSTL10) { f.files["test_y.bin"] = nil },
			[]string{"test_y.bin not found", "vggkit download stl10"}},
		{"missing class names", "train", -1, func(f *fakeSTL10) { f.files["class_names.txt"] = nil },
			[]string{"class_names.txt not found"}},
		{"short class names", "train", -1, func(f *fakeSTL10) { f.files["class_names.txt"] = []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\n") },
			[]string{"class_names.txt has 9 lines, want 10"}},
		{"blank class name", "train", -1, func(f *fakeSTL10) { f.files["class_names.txt"] = []byte("a\nb\n \nd\ne\nf\ng\nh\ni\nj\n") },
			[]string{"class_names.txt line 3 is empty"}},
		{"not a multiple", "train", -1, func(f *fakeSTL10) { f.files["train_X.bin"] = append(f.files["train_X.bin"], make([]byte, 100)...) },
			[]string{"train_X.bin is 331876 bytes, not a multiple of 27648", "12 whole images and 100 bytes over"}},
		{"truncated", "train", -1, func(f *fakeSTL10) { f.files["train_X.bin"] = f.files["train_X.bin"][:11*27648] },
			[]string{"train_X.bin holds 11 images, want 12", "truncated"}},
		{"too many", "test", -1, func(f *fakeSTL10) { f.files["test_X.bin"] = append(f.files["test_X.bin"], make([]byte, 27648)...) },
			[]string{"test_X.bin holds 4 images, want 3", "not the official"}},
		{"label count", "train", -1, func(f *fakeSTL10) { f.files["train_y.bin"] = f.files["train_y.bin"][:11] },
			[]string{"train_y.bin holds 11 labels but train_X.bin holds 12 images"}},
		{"label 0", "train", -1, func(f *fakeSTL10) { f.files["train_y.bin"][2] = 0 },
			[]string{"train_y.bin: label at index 2 is 0, want 1..10"}},
		{"label 11", "test", -1, func(f *fakeSTL10) { f.files["test_y.bin"][1] = 11 },
			[]string{"test_y.bin: label at index 1 is 11, want 1..10"}},
		{"missing folds", "train", 2, func(f *fakeSTL10) { f.files["fold_indices.txt"] = nil },
			[]string{"fold_indices.txt not found"}},
		{"9 fold lines", "train", 2, func(f *fakeSTL10) { f.files["fold_indices.txt"] = []byte(strings.Repeat("0 1\n", 9)) },
			[]string{"fold_indices.txt has 9 lines, want 10"}},
		{"fold not a number", "train", 0, func(f *fakeSTL10) {
			f.files["fold_indices.txt"] = []byte(strings.Repeat("0 1\n", 4) + "2 x3\n" + strings.Repeat("0\n", 5))
		}, []string{`fold_indices.txt line 5: "x3" is not an image index`}},
		{"fold index out of range", "train", 0, func(f *fakeSTL10) {
			f.files["fold_indices.txt"] = []byte(strings.Repeat("0 1\n", 9) + "4 12\n")
		}, []string{"fold_indices.txt line 10: index 12 out of range 0..11"}},
		{"fold index repeated", "train", 1, func(f *fakeSTL10) {
			f.files["fold_indices.txt"] = []byte("1 2 1\n" + strings.Repeat("0\n", 9))
		}, []string{"fold_indices.txt line 1: index 1 repeated"}},
		{"empty fold line", "train", 1, func(f *fakeSTL10) {
			f.files["fold_indices.txt"] = []byte("1\n\n" + strings.Repeat("0\n", 8))
		}, []string{"fold_indices.txt line 2 is empty"}},
		{"fold with test", "test", 0, nil, []string{`fold 0 given with split "test"`}},
		{"fold 10", "train", 10, nil, []string{"fold 10 out of range"}},
		{"unknown split", "validation", -1, nil, []string{`unknown split "validation"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeSTL10(t, 12, 3, 2)
			if c.change != nil {
				c.change(f)
			}
			dir := t.TempDir()
			writeSTL10(t, filepath.Join(dir, "stl10_binary"), f)
			s, err := LoadSTL10(dir, c.split, c.fold)
			if err == nil {
				t.Fatalf("no error; got %s", s.Describe())
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// A clean set of files passes: the error cases above fail for their change,
// not for something in the fixture.
func TestLoadSTL10FixtureClean(t *testing.T) {
	f := newFakeSTL10(t, 12, 3, 2)
	dir := t.TempDir()
	writeSTL10(t, filepath.Join(dir, "stl10_binary"), f)
	for _, split := range []string{"train", "test", "unlabeled"} {
		if _, err := LoadSTL10(dir, split, -1); err != nil {
			t.Error(err)
		}
	}
	for fold := range 10 {
		if _, err := LoadSTL10(dir, "train", fold); err != nil {
			t.Error(err)
		}
	}
}
