package data

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeImage writes a w x h image filled by fill as PNG or JPEG (by extension).
func writeImage(t testing.TB, path string, w, h int, fill func(x, y int) color.RGBA) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, fill(x, y))
		}
	}
	var buf bytes.Buffer
	var err error
	if strings.HasSuffix(path, ".png") {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95})
	}
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func solid(c color.RGBA) func(x, y int) color.RGBA { return func(int, int) color.RGBA { return c } }

var classColours = map[string]color.RGBA{"cat": {200, 30, 30, 255}, "dog": {30, 200, 30, 255}, "emu": {30, 30, 200, 255}}

// fakeFolder writes classes cat (6 images), dog (5), emu (4) in mixed sizes,
// PNG and JPEG, each filled with its class colour, plus a corrupt JPEG in dog
// and a README (not an image) in cat.
func fakeFolder(t testing.TB, dir string) {
	sizes := [][2]int{{40, 30}, {17, 90}, {300, 200}, {96, 96}, {8, 8}, {1000, 7}}
	counts := map[string]int{"cat": 6, "dog": 5, "emu": 4}
	for class, n := range counts {
		for i := range n {
			ext := ".png"
			if i%2 == 1 {
				ext = ".jpg"
			}
			writeImage(t, filepath.Join(dir, class, "img"+string(rune('a'+i))+ext), sizes[i][0], sizes[i][1], solid(classColours[class]))
		}
	}
	os.WriteFile(filepath.Join(dir, "dog", "broken.jpg"), []byte("\xff\xd8\xff\xe0 not really a jpeg"), 0o644)
	os.WriteFile(filepath.Join(dir, "cat", "README.txt"), []byte("notes"), 0o644)
}

func TestLoadImageFolder(t *testing.T) {
	dir := t.TempDir()
	fakeFolder(t, dir)
	var all []int32
	for _, split := range []string{"train", "test"} {
		s, skipped, err := LoadImageFolder(dir, split, FolderOptions{Size: 24, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		if strings.Join(s.Classes, ",") != "cat,dog,emu" || s.H != 24 || s.W != 24 || s.C != 3 {
			t.Fatalf("got %s", s.Describe())
		}
		for _, sk := range skipped {
			if sk.Path != filepath.Join(dir, "dog", "broken.jpg") || !strings.Contains(sk.String(), "broken.jpg: ") {
				t.Errorf("skipped %s", sk)
			}
		}
		// Every image is its class colour everywhere (JPEG within a few levels).
		for i := range s.Len() {
			want := classColours[s.Classes[s.Labels[i]]]
			img := s.Image(i)
			for p := 0; p < len(img); p += 3 {
				for c, w := range []uint8{want.R, want.G, want.B} {
					if d := int(img[p+c]) - int(w); d < -6 || d > 6 {
						t.Fatalf("%s image %d pixel %d channel %d = %d, want ~%d", split, i, p/3, c, img[p+c], w)
					}
				}
			}
		}
		all = append(all, s.Labels...)
		counts := s.CountsPerClass()
		// 20% of cat (6) rounds to 1, of dog (6 files, one broken) to 1, of emu (4) to 1.
		if split == "test" && !slices.Equal(counts, []int{1, 1, 1}) && !slices.Equal(counts, []int{1, 0, 1}) {
			t.Errorf("test counts %v, want one per class (dog's may be the broken file)", counts)
		}
	}
	if len(all) != 6+5+4 {
		t.Errorf("%d images in train+test, want 15 (the broken one skipped)", len(all))
	}
}

// The centre crop keeps the middle: a wide image whose middle square is green
// and whose sides are red becomes all green; a tall one likewise.
func TestFolderCentreCrop(t *testing.T) {
	dir := t.TempDir()
	green, red := color.RGBA{0, 255, 0, 255}, color.RGBA{255, 0, 0, 255}
	writeImage(t, filepath.Join(dir, "a", "wide.png"), 300, 100, func(x, y int) color.RGBA {
		if x >= 100 && x < 200 {
			return green
		}
		return red
	})
	writeImage(t, filepath.Join(dir, "a", "tall.png"), 50, 150, func(x, y int) color.RGBA {
		if y >= 50 && y < 100 {
			return green
		}
		return red
	})
	writeImage(t, filepath.Join(dir, "b", "small.png"), 5, 5, solid(green)) // enlarged.
	for _, size := range []int{7, 32, 96} {
		s, _, err := LoadImageFolder(dir, "train", FolderOptions{Size: size, TestFraction: 0.01})
		if err != nil {
			t.Fatal(err)
		}
		for i := range s.Len() {
			img := s.Image(i)
			for p := 0; p < len(img); p += 3 {
				if img[p] != 0 || img[p+1] != 255 || img[p+2] != 0 {
					t.Fatalf("size %d image %d pixel %d = %v, want pure green", size, i, p/3, img[p:p+3])
				}
			}
		}
	}
}

// Shrinking averages: a 1-pixel checkerboard becomes mid grey, not aliased.
func TestFolderAreaResize(t *testing.T) {
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "a", "check.png"), 240, 240, func(x, y int) color.RGBA {
		if (x+y)%2 == 0 {
			return color.RGBA{255, 255, 255, 255}
		}
		return color.RGBA{0, 0, 0, 255}
	})
	s, _, err := LoadImageFolder(dir, "train", FolderOptions{Size: 96, Channels: 1, TestFraction: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if s.C != 1 {
		t.Fatalf("C = %d, want 1", s.C)
	}
	for p, v := range s.Image(0) {
		if v < 120 || v > 135 {
			t.Fatalf("pixel %d = %d, want ~128", p, v)
		}
	}
}

// The result does not depend on how the workers were scheduled: it equals
// decoding the files one by one, in order.
func TestFolderDeterministic(t *testing.T) {
	dir := t.TempDir()
	for i := range 40 {
		w, h := 20+i*7, 30+(i*13)%50
		writeImage(t, filepath.Join(dir, []string{"x", "y"}[i%2], "f"+string(rune('A'+i))+".png"), w, h, func(x, y int) color.RGBA {
			return color.RGBA{uint8(x * i), uint8(y * 3), uint8(x ^ y), 255}
		})
	}
	a, _, err := LoadImageFolder(dir, "train", FolderOptions{Size: 16, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := LoadImageFolder(dir, "train", FolderOptions{Size: 16, Seed: 9})
	if !bytes.Equal(a.Pixels, b.Pixels) || !slices.Equal(a.Labels, b.Labels) {
		t.Fatal("two loads differ")
	}
	// Sequentially, in the reader's order (class, then file name), for the train files.
	classes, files, _ := listClassFolders(dir)
	k := 0
	for c := range classes {
		for _, f := range splitClass(files[c], classes[c], "train", 0.2, 9) {
			want := make([]uint8, 16*16*3)
			if err := decodeFile(f, 16, 3, 1, want); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Image(k), want) || a.Labels[k] != int32(c) {
				t.Fatalf("image %d (%s) differs from a sequential decode", k, f)
			}
			k++
		}
	}
	if k != a.Len() {
		t.Errorf("%d images, want %d", a.Len(), k)
	}
}

func TestFolderSplit(t *testing.T) {
	var files []string
	for i := range 50 {
		files = append(files, string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	slices.Sort(files)
	train := splitClass(files, "cls", "train", 0.2, 1)
	test := splitClass(files, "cls", "test", 0.2, 1)
	if len(test) != 10 || len(train) != 40 {
		t.Fatalf("%d train + %d test, want 40 + 10", len(train), len(test))
	}
	both := slices.Concat(train, test)
	slices.Sort(both)
	if !slices.Equal(both, files) {
		t.Error("train and test do not partition the files")
	}
	if !slices.IsSorted(train) || !slices.IsSorted(test) {
		t.Error("splits not in name order")
	}
	if again := splitClass(files, "cls", "test", 0.2, 1); !slices.Equal(again, test) {
		t.Error("same seed, other split")
	}
	if other := splitClass(files, "cls", "test", 0.2, 2); slices.Equal(other, test) {
		t.Error("seed 2 gives seed 1's split")
	}
	if other := splitClass(files, "dog", "test", 0.2, 1); slices.Equal(other, test) {
		t.Error("another class gets the same draw")
	}
	// Small classes: one image always trains; two or more give at least one test image.
	if got := splitClass(files[:1], "c", "test", 0.2, 1); len(got) != 0 {
		t.Errorf("1 image: %d test", len(got))
	}
	if got := splitClass(files[:2], "c", "test", 0.2, 1); len(got) != 1 {
		t.Errorf("2 images: %d test", len(got))
	}
	if got := splitClass(files[:3], "c", "train", 0.99, 1); len(got) != 1 {
		t.Errorf("3 images at 99%%: %d train, want 1", len(got))
	}
}

func TestFolderOnDiskSplit(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"train/ant/1.png", "train/ant/2.png", "train/bee/1.png", "train/cow/1.png", "val/bee/9.png", "val/ant/8.png"} {
		writeImage(t, filepath.Join(dir, f), 12, 12, solid(color.RGBA{1, 2, 3, 255}))
	}
	train, _, err := LoadImageFolder(dir, "train", FolderOptions{Size: 8})
	if err != nil {
		t.Fatal(err)
	}
	test, _, err := LoadImageFolder(dir, "test", FolderOptions{Size: 8})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 4 || strings.Join(train.Classes, ",") != "ant,bee,cow" || !slices.Equal(train.CountsPerClass(), []int{2, 1, 1}) {
		t.Errorf("train %s %v", train.Describe(), train.CountsPerClass())
	}
	if test.Len() != 2 || !slices.Equal(test.Classes, train.Classes) || !slices.Equal(test.Labels, []int32{0, 1}) {
		t.Errorf("test (from val/) %s %v", test.Describe(), test.Labels)
	}
	// A test class unknown to train is an error naming the folder.
	writeImage(t, filepath.Join(dir, "val", "dodo", "1.png"), 4, 4, solid(color.RGBA{}))
	_, _, err = LoadImageFolder(dir, "test", FolderOptions{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "val", "dodo")+" is not among the train classes") {
		t.Errorf("error %v", err)
	}
}

func TestFolderErrors(t *testing.T) {
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "loose.jpg"), nil, 0o644)
	withEmptyClass := t.TempDir()
	writeImage(t, filepath.Join(withEmptyClass, "a", "1.png"), 4, 4, solid(color.RGBA{}))
	os.MkdirAll(filepath.Join(withEmptyClass, "b", "sub"), 0o755)
	os.WriteFile(filepath.Join(withEmptyClass, "b", "notes.txt"), nil, 0o644)
	allBroken := t.TempDir()
	os.MkdirAll(filepath.Join(allBroken, "a"), 0o755)
	os.WriteFile(filepath.Join(allBroken, "a", "x.png"), []byte("garbage"), 0o644)
	cases := []struct {
		dir, split string
		opts       FolderOptions
		want       string
	}{
		{empty, "train", FolderOptions{}, empty + " has no class folders"},
		{withEmptyClass, "train", FolderOptions{}, "class folder " + filepath.Join(withEmptyClass, "b") + " holds no image"},
		{allBroken, "train", FolderOptions{}, "no image of the train split could be read (1 files skipped)"},
		{filepath.Join(empty, "nope"), "train", FolderOptions{}, "nope"},
		{withEmptyClass, "unlabeled", FolderOptions{}, `unknown split "unlabeled"`},
		{withEmptyClass, "train", FolderOptions{TestFraction: 1}, "test fraction 1"},
		{withEmptyClass, "train", FolderOptions{Channels: 2}, "channels 2"},
		{withEmptyClass, "train", FolderOptions{Size: -1}, "size -1"},
	}
	for _, c := range cases {
		_, _, err := LoadImageFolder(c.dir, c.split, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadImageFolder(%s, %s, %+v): error %v, want %q", c.dir, c.split, c.opts, err, c.want)
		}
	}
}
