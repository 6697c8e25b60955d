package pictures

import (
	"fmt"
	"image"
	"image/color"
	"math"

	xdraw "golang.org/x/image/draw"

	"github.com/vggkit/vggkit/plotting"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/training"
)

// camAlpha is how much of an overlay pixel is heat: half keeps the object visible.
const camAlpha = 0.5

// CAMs is a grid of the set's images at indices with their class activation maps
// (training.Learner.CAM, one per index) overlaid as heat: inferno, dark where the map is
// zero, yellow at its peak. Captions read as the other grids' (predCaption): "pred p%",
// then "true: class" when wrong, and "map: class" when the map is of another class than
// the predicted one; green when right, red when wrong, plain for unlabelled images.
func CAMs(set *data.Set, indices []int, cams []training.CAM, cols int) (*plotting.Chart, error) {
	if len(cams) != len(indices) {
		return nil, fmt.Errorf("%d maps for %d images", len(cams), len(indices))
	}
	if len(indices) == 0 {
		return nil, fmt.Errorf("%s: no images to show", set.Name)
	}
	sub := set.Subset(set.Name, indices)
	imgs, err := plotting.ImagesFromUint8(sub.Pixels, sub.Len(), sub.H, sub.W, sub.C)
	if err != nil {
		return nil, err
	}
	captions := make([]string, len(indices))
	colors := make([]color.Color, len(indices))
	for k, i := range indices {
		imgs[k] = Overlay(imgs[k], cams[k])
		captions[k], colors[k] = camCaption(set, i, cams[k])
	}
	return plotting.ImageGrid(imgs, captions, plotting.GridOptions{Cols: cols, CaptionColors: colors, Scale: 1,
		Title: fmt.Sprintf("%s (green: right, red: wrong)", cams[0].Method)})
}

// camCaption is predCaption's "pred 97%" (with "true: class" under it when wrong) and,
// for a map of another class than the predicted one, "map: class"; each name cut to fit a
// line of the cell.
func camCaption(set *data.Set, i int, c training.CAM) (string, color.Color) {
	pred := shortName(className(set, c.Pred))
	truth := pred // unlabelled: no "true:" line
	if set.Labels[i] >= 0 {
		truth = shortName(label(set, i))
	}
	s := predCaption(pred, truth, c.Prob)
	if c.Class != c.Pred {
		s += "\nmap: " + shortName(className(set, c.Class))
	}
	switch {
	case set.Labels[i] < 0:
		return s, nil
	case int(set.Labels[i]) == c.Pred:
		return s, right
	}
	return s, wrong
}

// shortName cuts a class name to about what one caption line of a 96 px cell holds.
func shortName(s string) string {
	const most = 14
	if r := []rune(s); len(r) > most {
		return string(r[:most-1]) + "…"
	}
	return s
}

func className(set *data.Set, k int) string {
	if k >= 0 && k < len(set.Classes) {
		return set.Classes[k]
	}
	return fmt.Sprintf("class %d", k)
}

// Overlay blends the map, upsampled bilinearly and scaled to its maximum, over the image
// as inferno heat. Small images are first enlarged (bilinear) to at least 96 px, so the
// heat is smooth rather than one block per feature cell.
func Overlay(img image.Image, c training.CAM) image.Image {
	b := img.Bounds()
	scale := max(1, (plotting.DefaultMinCellSize+max(b.Dx(), b.Dy())-1)/max(b.Dx(), b.Dy()))
	w, h := b.Dx()*scale, b.Dy()*scale
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.BiLinear.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
	heat := c.Upsample(h, w)
	peak := float32(0)
	for _, v := range heat {
		peak = max(peak, v)
	}
	for p, v := range heat {
		f := 0.0
		if peak > 0 {
			f = float64(v / peak)
		}
		hr, hg, hb := inferno(f)
		px := dst.Pix[4*p : 4*p+3 : 4*p+3]
		px[0] = blend(px[0], hr)
		px[1] = blend(px[1], hg)
		px[2] = blend(px[2], hb)
	}
	return dst
}

func blend(a, b uint8) uint8 {
	return uint8(math.Round((1-camAlpha)*float64(a) + camAlpha*float64(b)))
}

// inferno maps 0..1 to matplotlib's perceptually uniform "inferno" colour map (black,
// purple, orange, pale yellow): brightness grows with the value, in colour or grey.
func inferno(f float64) (r, g, b uint8) {
	stops := [...][3]float64{
		{0, 0, 4}, {40, 11, 84}, {101, 21, 110}, {159, 42, 99},
		{212, 72, 66}, {245, 125, 21}, {250, 193, 39}, {252, 255, 164},
	}
	if math.IsNaN(f) || f < 0 {
		f = 0
	}
	f = math.Min(f, 1)
	pos := f * float64(len(stops)-1)
	i := min(int(pos), len(stops)-2)
	t := pos - float64(i)
	mix := func(c int) uint8 { return uint8(math.Round(stops[i][c] + t*(stops[i+1][c]-stops[i][c]))) }
	return mix(0), mix(1), mix(2)
}
