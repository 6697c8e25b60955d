package data

import (
	"bytes"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	xdraw "golang.org/x/image/draw"
)

// One decoder for training and serving: an image file gives the same pixels through
// LoadImageFolder (training) and ReadImage (vggkit predict). The image is wider than
// tall and larger than the size, so a squash to size x size (what predict once did)
// would give other pixels than the shorter-side resize + centre crop.
func TestReadImageMatchesFolder(t *testing.T) {
	dir := t.TempDir()
	const w, h, size = 300, 180, 64
	fill := func(x, y int) color.RGBA { return color.RGBA{uint8(x), uint8(y), uint8((x * y) >> 6), 255} }
	// One image per class: a class of one image keeps it for training.
	paths := []string{filepath.Join(dir, "a", "wide.png"), filepath.Join(dir, "b", "wide.jpg")}
	for _, p := range paths {
		writeImage(t, p, w, h, fill)
	}
	path := paths[0]
	for _, channels := range []int{3, 1} {
		set, skipped, err := LoadImageFolder(dir, "train", FolderOptions{Size: size, Channels: channels})
		if err != nil || len(skipped) != 0 || set.Len() != 2 {
			t.Fatalf("channels %d: %v, skipped %v", channels, err, skipped)
		}
		for i, p := range paths {
			got, err := ReadImage(p, size, channels)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, set.Image(i)) {
				t.Fatalf("channels %d: ReadImage and LoadImageFolder give different pixels for %s", channels, p)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			fromReader, err := Decode(f, size, channels)
			f.Close()
			if err != nil || !bytes.Equal(fromReader, got) {
				t.Fatalf("channels %d: Decode differs from ReadImage for %s (%v)", channels, p, err)
			}
		}
	}
	// A squash of the whole image differs from the centre crop.
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			src.SetRGBA(x, y, fill(x, y))
		}
	}
	squash := image.NewRGBA(image.Rect(0, 0, size, size))
	xdraw.BiLinear.Scale(squash, squash.Bounds(), src, src.Bounds(), xdraw.Src, nil)
	crop, err := ReadImage(path, size, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Red is x: the crop's left column sits at x ~ 60 of 300, the squash's at ~ 2.
	if r0, s0 := crop[0], squash.Pix[0]; r0 < 50 || s0 > 10 {
		t.Errorf("left column red: crop %d (want ~60), squash %d (want ~2)", r0, s0)
	}
}

func TestReadImageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jpg")
	os.WriteFile(bad, []byte("not a jpeg"), 0o644)
	if _, err := ReadImage(bad, 32, 3); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "not a JPEG, PNG") {
		t.Errorf("bad file: %v", err)
	}
	if _, err := ReadImage(filepath.Join(dir, "none.png"), 32, 3); err == nil {
		t.Error("a missing file decoded")
	}
	good := filepath.Join(dir, "ok.png")
	writeImage(t, good, 10, 10, solid(color.RGBA{1, 2, 3, 255}))
	for _, c := range [][2]int{{0, 3}, {32, 2}, {5000, 3}} {
		if _, err := ReadImage(good, c[0], c[1]); err == nil {
			t.Errorf("size %d, channels %d accepted", c[0], c[1])
		}
	}
}

// ImageNet models are evaluated as torchvision does (Resize(256), CenterCrop(224)):
// ReadImageCrop with ImageNetCrop gives the centre 224 x 224 of the image read at 256,
// which is not what ReadImage at 224 (the whole shorter side) gives.
func TestReadImageCropIsResizeThenCentreCrop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wide.png")
	writeImage(t, path, 300, 200, func(x, y int) color.RGBA {
		return color.RGBA{uint8(x * 7 % 251), uint8(y * 13 % 241), uint8((x*y)%239 + 8), 255}
	})
	got, err := ReadImageCrop(path, 224, 3, ImageNetCrop)
	if err != nil {
		t.Fatal(err)
	}
	at256, err := ReadImage(path, 256, 3)
	if err != nil {
		t.Fatal(err)
	}
	for y := range 224 {
		for x := range 224 {
			for c := range 3 {
				g, w := int(got[(y*224+x)*3+c]), int(at256[((y+16)*256+x+16)*3+c])
				if g-w > 1 || w-g > 1 {
					t.Fatalf("pixel (%d,%d,%d) = %d, the centre crop of the 256 px image has %d", x, y, c, g, w)
				}
			}
		}
	}
	whole, _ := ReadImage(path, 224, 3)
	if bytes.Equal(whole, got) {
		t.Error("the crop gave the whole shorter side's pixels")
	}
	if _, err := ReadImageCrop(path, 224, 3, 0); err == nil || !strings.Contains(err.Error(), "crop") {
		t.Errorf("crop 0: error %v", err)
	}
}
