package main

import (
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/training"
	"github.com/vggkit/vggkit/vggkit/weights"
)

// TestDownloadWeights: `vggkit download vgg16` fetches torchvision's file into DIR/weights
// (here from a local server that is gone, so the offline message comes back, naming
// the file and where to put it); an unknown name lists the weights too.
func TestDownloadWeights(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	old := weights.BaseURL
	weights.BaseURL = srv.URL + "/"
	t.Cleanup(func() { weights.BaseURL = old })
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "download", "-dir", dir, "vgg16")
	for _, want := range []string{srv.URL + "/vgg16-397923af.pth", "Offline?", filepath.Join(dir, "weights")} {
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr %q: want 1 and %q", code, stderr, want)
		}
	}
	code, _, stderr = runCLI(t, "download", "vgg17")
	if code != 2 || !strings.Contains(stderr, "vgg16_bn") {
		t.Errorf("exit %d, stderr %q: want 2 and the weights listed", code, stderr)
	}
}

// predict -weights vgg16 without the file says how to get it; a name that is no variant is
// a usage error listing them.
func TestPredictWeightsMissing(t *testing.T) {
	t.Setenv("VGGKIT_CACHE", t.TempDir())
	img := filepath.Join(t.TempDir(), "cat.png")
	writePNG(t, img, 40, 30)
	code, _, stderr := runCLI(t, "predict", "-weights", "vgg16", img)
	if code != 1 || !strings.Contains(stderr, "vggkit download vgg16") || !strings.Contains(stderr, "vgg16-397923af.pth") {
		t.Errorf("exit %d, stderr %q: want 1 and how to download vgg16", code, stderr)
	}
	code, _, stderr = runCLI(t, "predict", "-weights", "resnet50.pth", img)
	if code != 2 || !strings.Contains(stderr, "vgg19_bn") {
		t.Errorf("exit %d, stderr %q: want 2 and the variants listed", code, stderr)
	}
}

func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// predict -weights reads image files as torchvision evaluates ImageNet models (Resize(256),
// CenterCrop(224)); a checkpoint's model gets them as it was trained (the whole shorter side).
func TestPredictImageNetCrop(t *testing.T) {
	img := filepath.Join(t.TempDir(), "cat.png")
	writePNG(t, img, 320, 240)
	l := &training.Learner{Images: [3]int{224, 224, 3}}
	for _, weightsArg := range []string{"vgg16", ""} {
		crop := predictCrop(weightsArg)
		if want := map[string]float64{"vgg16": data.ImageNetCrop, "": 1}[weightsArg]; crop != want {
			t.Errorf("-weights %q: crop %g, want %g", weightsArg, crop, want)
		}
		set, _, err := readImages([]string{img}, l, crop)
		if err != nil {
			t.Fatal(err)
		}
		want, err := data.ReadImageCrop(img, 224, 3, crop)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(set.Pixels, want) {
			t.Errorf("-weights %q: pixels not those of a centre crop of %g", weightsArg, crop)
		}
	}
}
