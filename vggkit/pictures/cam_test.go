package pictures

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/training"
)

// The heat lands where the map is: a map hot only in its top-left cell turns that corner
// of a grey image bright yellow-orange and leaves the far corner dark (grey blended
// with inferno's black).
func TestOverlayPutsHeatWhereTheMapIs(t *testing.T) {
	grey := image.NewGray(image.Rect(0, 0, 32, 32))
	for i := range grey.Pix {
		grey.Pix[i] = 128
	}
	c := training.CAM{Map: []float32{5, 0, 0, 0, 0, 0, 0, 0, 0}, H: 3, W: 3}
	img := Overlay(grey, c)
	if b := img.Bounds(); b.Dx() != 96 || b.Dy() != 96 {
		t.Fatalf("overlay of a 32 px image is %v, want 96x96", b)
	}
	hot := color.RGBAModel.Convert(img.At(5, 5)).(color.RGBA)
	cold := color.RGBAModel.Convert(img.At(90, 90)).(color.RGBA)
	if hot.R < 180 || hot.G < 180 || hot.B > hot.R-30 {
		t.Errorf("hot corner %v: want bright yellow (grey half-blended with inferno's top)", hot)
	}
	if cold.R > 70 || cold.G > 70 || cold.B > 70 {
		t.Errorf("cold corner %v: want dark (grey half-blended with inferno's black)", cold)
	}
}

// A grid of overlays: one 96 px cell per image, long class names wrap under it, a
// mismatched count is refused.
func TestCAMsGrid(t *testing.T) {
	set := shapes(t)
	set.Classes = append([]string(nil), set.Classes...)
	set.Classes[7] = strings.Repeat("very long horizontal stripes class name ", 4)
	idx := []int{0, 7, 9}
	cams := make([]training.CAM, len(idx))
	for k := range cams {
		cams[k] = training.CAM{Map: []float32{1, 2, 3, 4}, H: 2, W: 2, Class: 7, Pred: 7, Prob: 0.93, Method: training.MethodCAM}
	}
	cams[2].Class = 3 // a chosen class, not the predicted one.
	checkGridWidth(t, decode(t)(CAMs(set, idx, cams, 3)), 3)
	// Prediction first, as the other grids: the truth only when it differs.
	if s, col := camCaption(set, 7, cams[1]); s != "very long hor… 93%" || col != right {
		t.Errorf("caption of a right prediction %q, colour %v", s, col)
	}
	if s, col := camCaption(set, 9, cams[2]); s != "very long hor… 93%\ntrue: checkerboard\nmap: diamond" || col != wrong {
		t.Errorf("caption of a chosen class %q, colour %v", s, col)
	}
	if _, err := CAMs(set, idx, cams[:2], 3); err == nil {
		t.Error("2 maps for 3 images: no error")
	}
	unl := &data.Set{Name: "u", Classes: set.Classes, H: set.H, W: set.W, C: set.C, Pixels: set.Image(0), Labels: []int32{-1}}
	if s, col := camCaption(unl, 0, cams[0]); col != nil || s != "very long hor… 93%" {
		t.Errorf("unlabelled image captioned %q in %v", s, col)
	}
}
