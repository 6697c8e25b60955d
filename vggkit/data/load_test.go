package data

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 3)
	stlDir := t.TempDir()
	writeSTL10(t, filepath.Join(stlDir, "stl10_binary"), f)
	emptyDir := t.TempDir()
	opts := func(dir string, fold, per int) LoadOptions { return LoadOptions{Dir: dir, Fold: fold, PerClass: per} }

	cases := []struct {
		name, split string
		opts        LoadOptions
		wantName    string
		wantLen     int
	}{
		{"shapes10", "test", opts(stlDir, -1, 3), "Shapes10 (embedded) test", 30},
		{"Shapes10", "train", opts("", -1, 2), "Shapes10 (embedded) train", 20},
		{"stl10", "train", opts(stlDir, -1, 0), "STL-10 train", 20},
		{"stl10", "train", opts(stlDir, 7, 0), "STL-10 train fold 7", 2},
		{"stl10", "unlabeled", opts(stlDir, -1, 0), "STL-10 unlabeled", 3},
		{"auto", "test", opts(stlDir, -1, 0), "STL-10 test", 10},
		{"", "train", opts(stlDir, 2, 0), "STL-10 train fold 2", 2},
		{"auto", "train", opts(emptyDir, -1, 4), "Shapes10 (embedded) train", 40},
		{"auto", "test", opts(emptyDir, -1, 0), "Shapes10 (embedded) test", 1000},
	}
	for _, c := range cases {
		s, err := Load(c.name, c.split, c.opts)
		if err != nil {
			t.Errorf("Load(%q, %q, %+v): %v", c.name, c.split, c.opts, err)
			continue
		}
		if s.Name != c.wantName || s.Len() != c.wantLen {
			t.Errorf("Load(%q, %q, %+v) = %q with %d images, want %q with %d", c.name, c.split, c.opts, s.Name, s.Len(), c.wantName, c.wantLen)
		}
		if err := s.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func TestLoadDefaultDir(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 3)
	cache := t.TempDir()
	writeSTL10(t, filepath.Join(cache, "stl10_binary"), f)
	t.Setenv("VGGKIT_CACHE", cache)
	s, err := Load("auto", "test", DefaultLoadOptions())
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "STL-10 test" {
		t.Errorf("got %q, want STL-10 test from $VGGKIT_CACHE", s.Name)
	}
}

func TestLoadErrors(t *testing.T) {
	emptyDir := t.TempDir()
	cases := []struct {
		name, split string
		opts        LoadOptions
		want        []string
	}{
		{"imagenet", "train", DefaultLoadOptions(), []string{`unknown dataset "imagenet"`, "auto, stl10, shapes10"}},
		{"stl10", "train", LoadOptions{Dir: emptyDir, Fold: -1}, []string{filepath.Join(emptyDir, "stl10_binary", "train_X.bin") + " not found", "vggkit download stl10", "in " + emptyDir}},
		{"shapes10", "train", LoadOptions{Fold: 0}, []string{"Shapes10 has no folds (Fold=0)"}},
		{"auto", "train", LoadOptions{Dir: emptyDir, Fold: 3}, []string{"Shapes10 has no folds (Fold=3)"}},
		{"auto", "unlabeled", LoadOptions{Dir: emptyDir, Fold: -1}, []string{`Shapes10: unknown split "unlabeled"`}},
	}
	for _, c := range cases {
		_, err := Load(c.name, c.split, c.opts)
		if err == nil {
			t.Errorf("Load(%q, %q, %+v): no error", c.name, c.split, c.opts)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Load(%q, %q): error %q lacks %q", c.name, c.split, err, w)
			}
		}
	}
}

func TestLoadNewDatasets(t *testing.T) {
	dir := t.TempDir()
	fakeCIFAR10(t, dir, 3)
	fakeCIFAR100(t, dir, 4) // Also sets cifarCounts to 4 for every file.
	fakeCIFAR10(t, dir, 4)
	writeFiles(t, filepath.Join(dir, "kmnist"), fakeIDX(t, 6, 2, true))
	folder := filepath.Join(t.TempDir(), "pets")
	fakeFolder(t, folder)
	opts := LoadOptions{Dir: dir, Fold: AllFolds}
	grey := opts
	grey.Channels = 1
	var warn strings.Builder
	fopts := LoadOptions{Fold: AllFolds, Size: 20, Warnings: &warn, Seed: 4}
	cases := []struct {
		name, split string
		opts        LoadOptions
		wantName    string
		wantLen, c  int
	}{
		{"cifar10", "train", opts, "CIFAR-10 train", 20, 3},
		{"CIFAR-10", "test", grey, "CIFAR-10 test (grey)", 4, 1},
		{"cifar100", "test", opts, "CIFAR-100 test", 4, 3},
		{"cifar100-coarse", "train", opts, "CIFAR-100 (coarse) train", 4, 3},
		{"kmnist", "train", opts, "KMNIST train", 6, 3},
		{"kmnist", "test", grey, "KMNIST test", 2, 1},
	}
	for _, c := range cases {
		s, err := Load(c.name, c.split, c.opts)
		if err != nil {
			t.Errorf("Load(%q, %q): %v", c.name, c.split, err)
			continue
		}
		if s.Name != c.wantName || s.Len() != c.wantLen || s.C != c.c {
			t.Errorf("Load(%q, %q) = %q with %d images of %d channels, want %q with %d of %d", c.name, c.split, s.Name, s.Len(), s.C, c.wantName, c.wantLen, c.c)
		}
		if err := s.Validate(); err != nil {
			t.Error(err)
		}
	}
	train, err := Load("folder:"+folder, "train", fopts)
	if err != nil {
		t.Fatal(err)
	}
	test, err := Load("folder:"+folder, "test", fopts)
	if err != nil {
		t.Fatal(err)
	}
	if train.Name != "pets train (20% held out, seed 4)" || train.C != 3 || train.H != 20 || train.Len()+test.Len() != 15 {
		t.Errorf("folder: %s + %s, want 15 images of 20x20x3 in all", train.Describe(), test.Describe())
	}
	if !strings.Contains(warn.String(), filepath.Join(folder, "dog", "broken.jpg")+": ") {
		t.Errorf("warnings %q do not list the broken file", warn.String())
	}
	for _, c := range []struct {
		name string
		opts LoadOptions
		want string
	}{
		{"cifar10", LoadOptions{Dir: dir, Fold: 2}, "cifar10 has no folds (Fold=2)"},
		{"mnist", opts, "train-images-idx3-ubyte not found"},
		{"folder:", LoadOptions{Fold: AllFolds}, "say which folder"},
		{"cifar10", LoadOptions{Dir: dir, Fold: AllFolds, Channels: 2}, "channels 2"},
	} {
		if _, err := Load(c.name, "train", c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%q): error %v, want %q", c.name, err, c.want)
		}
	}
}
