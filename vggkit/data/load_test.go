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
