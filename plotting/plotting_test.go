package plotting

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	xfont "golang.org/x/image/font"
)

var cifar = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

func solid(w, h int, c color.Color) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

func solids(n, w, h int, c color.Color) []image.Image {
	out := make([]image.Image, n)
	for i := range out {
		out[i] = solid(w, h, c)
	}
	return out
}

func mustImage(t *testing.T, ch *Chart) image.Image {
	t.Helper()
	img, err := ch.Image()
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("output is not a PNG: %v", err)
	}
	return img
}

func sameRGB(a, b color.Color) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	return ar>>8 == br>>8 && ag>>8 == bg>>8 && ab>>8 == bb>>8
}

func TestImageGridSize(t *testing.T) {
	tests := []struct {
		name          string
		n, w, h       int
		opt           GridOptions
		wantW, wantH  int
		wantCellWidth int
	}{
		// 4 per row, 3 rows; cells 64 px.
		{"explicit", 10, 32, 32, GridOptions{Cols: 4, Padding: 3, Scale: 2}, 4*(64+3) + 3, 3*(64+3) + 3, 64},
		// Defaults: 8 per row, 2 px padding, 32 px upscaled 3x to 96.
		{"defaults", 11, 32, 32, GridOptions{}, 8*(96+2) + 2, 2*(96+2) + 2, 96},
		// Fewer images than Cols: a single row of just those images.
		{"short row", 3, 28, 28, GridOptions{}, 3*(112+2) + 2, 112 + 2 + 2, 112},
		// Negative padding means none at all.
		{"no padding", 6, 10, 20, GridOptions{Cols: 3, Padding: -1, Scale: 1}, 3 * 10, 2 * 20, 10},
		// Large images are not scaled.
		{"large", 2, 224, 200, GridOptions{}, 2*(224+2) + 2, 200 + 2 + 2, 224},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := ImageGrid(solids(tc.n, tc.w, tc.h, color.Black), nil, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			b := mustImage(t, ch).Bounds()
			if b.Dx() != tc.wantW || b.Dy() != tc.wantH {
				t.Errorf("grid is %dx%d, want %dx%d", b.Dx(), b.Dy(), tc.wantW, tc.wantH)
			}
		})
	}
}

func TestImageGridCaptionAndTitleSize(t *testing.T) {
	face := pixelFace(sansFont, captionFontPx)
	tface := pixelFace(boldFont, titleFontPx)
	lineH := face.Metrics().Height.Ceil()
	titleH := titleMargin + tface.Metrics().Height.Ceil() + titleMargin
	imgs := solids(5, 32, 32, color.Black)

	one := []string{"cat", "dog", "ship", "frog", "deer"}
	ch, err := ImageGrid(imgs, one, GridOptions{Cols: 5})
	if err != nil {
		t.Fatal(err)
	}
	b := mustImage(t, ch).Bounds()
	if want := 96 + captionGap + lineH + captionGap + 2 + 2; b.Dy() != want || b.Dx() != 5*98+2 {
		t.Errorf("one-line captions: grid is %dx%d, want %dx%d", b.Dx(), b.Dy(), 5*98+2, want)
	}

	// One caption needs two lines: every cell gets the same two-line band,
	// so rows stay aligned. A title adds its band on top.
	two := []string{"cat", "true: airplane / pred: automobile", "ship", "frog", "deer"}
	ch, err = ImageGrid(imgs, two, GridOptions{Cols: 5, Title: "samples"})
	if err != nil {
		t.Fatal(err)
	}
	b = mustImage(t, ch).Bounds()
	if want := titleH + 96 + captionGap + 2*lineH + captionGap + 2 + 2; b.Dy() != want {
		t.Errorf("two-line captions + title: height %d, want %d", b.Dy(), want)
	}
}

func TestImageGridWideTitleWidensCanvas(t *testing.T) {
	ch, err := ImageGrid(solids(1, 8, 8, color.Black), nil, GridOptions{Scale: 1, Title: "a title much wider than one 8 px image"})
	if err != nil {
		t.Fatal(err)
	}
	if w := mustImage(t, ch).Bounds().Dx(); w <= 8+2*2 {
		t.Errorf("width %d: a wide title should widen the grid", w)
	}
}

func TestImageGridErrors(t *testing.T) {
	imgs := solids(3, 4, 4, color.Black)
	if _, err := ImageGrid(imgs, []string{"a", "b"}, GridOptions{}); err == nil || !strings.Contains(err.Error(), "2 captions for 3 images") {
		t.Errorf("caption count mismatch: err = %v", err)
	}
	if _, err := ImageGrid(nil, nil, GridOptions{}); err == nil {
		t.Error("no images: want error")
	}
	if _, err := ImageGrid(imgs, nil, GridOptions{CaptionColors: []color.Color{color.Black}}); err == nil {
		t.Error("caption colour count mismatch: want error")
	}
	if _, err := ImageGrid([]image.Image{imgs[0], nil}, nil, GridOptions{}); err == nil {
		t.Error("nil image: want error")
	}
	if _, err := ImageGrid([]image.Image{image.NewRGBA(image.Rect(0, 0, 0, 5))}, nil, GridOptions{}); err == nil {
		t.Error("empty image: want error")
	}
}

func TestImageGridPixels(t *testing.T) {
	red := color.RGBA{255, 0, 0, 255}
	green := color.RGBA{0, 255, 0, 255}
	blue := color.RGBA{0, 0, 255, 255}
	bg := color.RGBA{10, 20, 30, 255}
	imgs := []image.Image{solid(8, 8, red), solid(8, 8, green), solid(8, 8, blue)}
	// 2 per row, 2 px padding, 4x scale: cells are 32 px, at x/y = 2 + k*34.
	ch, err := ImageGrid(imgs, nil, GridOptions{Cols: 2, Padding: 2, Scale: 4, PadValue: bg})
	if err != nil {
		t.Fatal(err)
	}
	img := mustImage(t, ch)
	checks := []struct {
		x, y int
		want color.Color
		what string
	}{
		{2, 2, red, "first cell top-left"},
		{2 + 31, 2 + 31, red, "first cell bottom-right"},
		{2 + 34 + 16, 2 + 16, green, "second cell centre"},
		{2 + 16, 2 + 34 + 16, blue, "third cell (second row) centre"},
		{0, 0, bg, "outer padding"},
		{2 + 32, 10, bg, "padding between cells"},
		{2 + 34 + 16, 2 + 34 + 16, bg, "empty fourth cell"},
	}
	for _, c := range checks {
		if got := img.At(c.x, c.y); !sameRGB(got, c.want) {
			t.Errorf("%s at (%d,%d) = %v, want %v", c.what, c.x, c.y, got, c.want)
		}
	}
}

func TestImageGridNearestScaling(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 2, 1))
	src.Set(0, 0, color.RGBA{255, 0, 0, 255})
	src.Set(1, 0, color.RGBA{0, 0, 255, 255})
	ch, err := ImageGrid([]image.Image{src}, nil, GridOptions{Scale: 3, Padding: 1})
	if err != nil {
		t.Fatal(err)
	}
	img := mustImage(t, ch)
	// Pixels stay sharp: 3 red columns then 3 blue ones, no blend.
	for x := 1; x < 7; x++ {
		want := color.Color(color.RGBA{255, 0, 0, 255})
		if x >= 4 {
			want = color.RGBA{0, 0, 255, 255}
		}
		if got := img.At(x, 2); !sameRGB(got, want) {
			t.Errorf("x=%d: %v, want %v", x, got, want)
		}
	}
}

func TestImageGridCaptionColour(t *testing.T) {
	// A caption in pure red on white must put some red pixels under the image.
	red := color.RGBA{255, 0, 0, 255}
	ch, err := ImageGrid(solids(1, 32, 32, color.Black), []string{"WRONG"}, GridOptions{CaptionColors: []color.Color{red}})
	if err != nil {
		t.Fatal(err)
	}
	img := mustImage(t, ch)
	b := img.Bounds()
	found := false
	for y := 2 + 96; y < b.Max.Y && !found; y++ {
		for x := 0; x < b.Max.X; x++ {
			if sameRGB(img.At(x, y), red) {
				found = true
				break
			}
		}
	}
	if !found {
		t.Error("no red caption pixel under the image")
	}
}

func TestImageReturnsCopy(t *testing.T) {
	ch, err := ImageGrid(solids(1, 4, 4, color.White), nil, GridOptions{Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	img := mustImage(t, ch).(*image.RGBA)
	img.Set(3, 3, color.Black)
	if got := mustImage(t, ch).At(3, 3); !sameRGB(got, color.White) {
		t.Error("modifying the returned image changed the chart")
	}
}

func TestWrapText(t *testing.T) {
	face := pixelFace(sansFont, captionFontPx)
	got := wrapText(face, "true: cat / pred: dog", 96, 3)
	if strings.Join(got, "|") != "true: cat|pred: dog" {
		t.Errorf("wrap at ' / ': got %q", got)
	}
	// The longest Shapes10 and STL-10 captions of a mistakes grid (prediction first, then
	// the true class) fit a 96 px cell whole: nothing cut, the prediction on top.
	for _, c := range []string{"horizontal stripes 100%\ntrue: vertical stripes", "airplane 97%\ntrue: checkerboard"} {
		got := wrapText(face, c, 96, maxCaptionRows)
		if j := strings.Join(got, " "); strings.Contains(j, "…") || j != strings.ReplaceAll(c, "\n", " ") {
			t.Errorf("caption %q wrapped to %q", c, got)
		}
	}
	if got := wrapText(face, "cat", 96, 3); len(got) != 1 || got[0] != "cat" {
		t.Errorf("short caption: got %q", got)
	}
	got = wrapText(face, "supercalifragilisticexpialidocious", 40, 3)
	if len(got) != 1 || !strings.HasSuffix(got[0], "…") {
		t.Errorf("long word: got %q, want one ellipsized line", got)
	}
	got = wrapText(face, "a b c d e f g h i j k l m n o p q r s t u v w x y z", 30, 2)
	if len(got) != 2 || !strings.HasSuffix(got[1], "…") {
		t.Errorf("too many rows: got %q, want 2 lines ending with an ellipsis", got)
	}
	for _, l := range got {
		if w := measure(face, l); w > 30 {
			t.Errorf("line %q is %d px wide, limit 30", l, w)
		}
	}
}

func TestImagesFromUint8(t *testing.T) {
	// 2 images of 2x3 RGB, each value unique so that any HWC mixup shows.
	n, h, w, c := 2, 2, 3, 3
	px := make([]uint8, n*h*w*c)
	for i := range px {
		px[i] = uint8(i)
	}
	imgs, err := ImagesFromUint8(px, n, h, w, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 2 || imgs[1].Bounds() != image.Rect(0, 0, 3, 2) {
		t.Fatalf("got %d images of %v", len(imgs), imgs[0].Bounds())
	}
	// Image 1, y=1, x=2: offset ((1*2+1)*3+2)*3 = 33.
	r, g, b, a := imgs[1].At(2, 1).RGBA()
	if r>>8 != 33 || g>>8 != 34 || b>>8 != 35 || a>>8 != 255 {
		t.Errorf("pixel = %d,%d,%d,%d, want 33,34,35,255", r>>8, g>>8, b>>8, a>>8)
	}
	px[33] = 99 // the images must not alias the input
	if r, _, _, _ := imgs[1].At(2, 1).RGBA(); r>>8 != 33 {
		t.Error("image aliases the input slice")
	}

	grey, err := ImagesFromUint8([]uint8{0, 50, 100, 150}, 1, 2, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := grey[0].At(1, 1).(color.Gray).Y; got != 150 {
		t.Errorf("grey pixel = %d, want 150", got)
	}

	if _, err := ImagesFromUint8(make([]uint8, 10), 1, 2, 2, 3); err == nil {
		t.Error("wrong length: want error")
	}
	if _, err := ImagesFromUint8(make([]uint8, 8), 1, 2, 2, 2); err == nil {
		t.Error("2 channels: want error")
	}
	if _, err := ImagesFromUint8(nil, 0, 2, 2, 3); err == nil {
		t.Error("n=0: want error")
	}
}

func TestImagesFromFloat(t *testing.T) {
	// With mean = std = 0.5 (the tutorial's normalisation), x=0 is mid-grey
	// 0.5*255 = 127.5, rounded to 128; -1 and 1 are the ends; beyond clamps.
	x := []float32{0, -1, 1, 2, -3, float32(math.NaN())}
	imgs, err := ImagesFromFloat(x, 1, 1, 6, 1, []float64{0.5}, []float64{0.5})
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{128, 0, 255, 255, 0, 0}
	g := imgs[0].(*image.Gray)
	for i, w := range want {
		if g.Pix[i] != w {
			t.Errorf("x=%v -> %d, want %d", x[i], g.Pix[i], w)
		}
	}

	// Per-channel statistics (ImageNet's) are applied channel by channel.
	mean := []float64{0.485, 0.456, 0.406}
	std := []float64{0.229, 0.224, 0.225}
	imgs, err = ImagesFromFloat([]float32{0, 0, 0, 1, 1, 1}, 1, 1, 2, 3, mean, std)
	if err != nil {
		t.Fatal(err)
	}
	for p := range 2 {
		r, gg, b, _ := imgs[0].At(p, 0).RGBA()
		got := []uint32{r >> 8, gg >> 8, b >> 8}
		for ch := range 3 {
			w := uint32(math.Round((float64(p)*std[ch] + mean[ch]) * 255))
			if got[ch] != w {
				t.Errorf("pixel %d channel %d = %d, want %d", p, ch, got[ch], w)
			}
		}
	}

	// nil statistics: values already in 0..1.
	imgs, err = ImagesFromFloat([]float32{0.2}, 1, 1, 1, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := imgs[0].(*image.Gray).Pix[0]; got != 51 {
		t.Errorf("0.2 without normalisation -> %d, want 51", got)
	}

	if _, err := ImagesFromFloat(make([]float32, 6), 1, 1, 2, 3, []float64{1, 2}, nil); err == nil {
		t.Error("2 means for 3 channels: want error")
	}
	if _, err := ImagesFromFloat(make([]float32, 5), 1, 1, 2, 3, nil, nil); err == nil {
		t.Error("wrong length: want error")
	}
}

func plotCharts(t *testing.T) map[string]*Chart {
	t.Helper()
	curves, err := Curves("Loss", "epoch", "loss",
		Series{Name: "train", Y: []float64{2.3, 1.5, 1.1, 0.9}},
		Series{Name: "val", X: []float64{1, 2, 3, 4}, Y: []float64{2.4, 1.7, 1.4, 1.3}})
	if err != nil {
		t.Fatal(err)
	}
	bars, err := ClassBars("Per-class accuracy", "accuracy", cifar, []float64{.9, .95, .7, .6, .8, .7, .9, .88, .93, .91})
	if err != nil {
		t.Fatal(err)
	}
	counts := make([][]int, len(cifar))
	for i := range counts {
		counts[i] = make([]int, len(cifar))
		counts[i][i] = 900
		counts[i][(i+1)%len(cifar)] = 100
	}
	cm, err := ConfusionMatrix("Confusion", cifar, counts)
	if err != nil {
		t.Fatal(err)
	}
	generic, err := Bars("Samples", "count", []string{"cat", "dog"}, []float64{5000, -20})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*Chart{"curves": curves, "classbars": bars, "confusion": cm, "bars": generic}
}

func TestPlotChartsPNGSize(t *testing.T) {
	for name, ch := range plotCharts(t) {
		t.Run(name, func(t *testing.T) {
			b, err := ch.PNG()
			if err != nil {
				t.Fatal(err)
			}
			if got := decodePNG(t, b).Bounds(); got.Dx() != 600 || got.Dy() != 400 {
				t.Errorf("PNG is %dx%d, want 600x400 (6x4 in at 100 dpi)", got.Dx(), got.Dy())
			}
			ch.SetSize(3, 2).SetDPI(50)
			b, err = ch.PNG()
			if err != nil {
				t.Fatal(err)
			}
			if got := decodePNG(t, b).Bounds(); got.Dx() != 150 || got.Dy() != 100 {
				t.Errorf("resized PNG is %dx%d, want 150x100", got.Dx(), got.Dy())
			}
		})
	}
}

func TestPlotChartsDrawSomething(t *testing.T) {
	// A chart that renders blank would pass the size test; require a fair
	// number of non-white pixels (axes, text, data).
	for name, ch := range plotCharts(t) {
		img := mustImage(t, ch)
		b := img.Bounds()
		ink := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if !sameRGB(img.At(x, y), color.White) {
					ink++
				}
			}
		}
		if ink < b.Dx()*b.Dy()/50 {
			t.Errorf("%s: only %d non-white pixels", name, ink)
		}
	}
}

func TestSVG(t *testing.T) {
	for name, ch := range plotCharts(t) {
		b, err := ch.SVG()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s := string(b)
		if !strings.Contains(s, "<svg") || !strings.HasSuffix(strings.TrimSpace(s), "</svg>") {
			t.Errorf("%s: not an SVG document: %.80q", name, s)
		}
		if !strings.Contains(s, "<text") {
			t.Errorf("%s: SVG has no text; titles and labels should stay vector", name)
		}
		if strings.Contains(s, "font-family:Liberation Sans;") {
			t.Errorf("%s: SVG font has no fallback", name)
		}
	}

	grid, err := ImageGrid(solids(3, 8, 8, color.Black), []string{"a", "b", "c"}, GridOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := grid.SVG()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`data:image/png;base64,([A-Za-z0-9+/=]+)`).FindSubmatch(b)
	if !bytes.Contains(b, []byte("<svg")) || m == nil {
		t.Fatalf("grid SVG lacks <svg or an embedded PNG: %.200q", b)
	}
	raw, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	want := mustImage(t, grid).Bounds()
	if got := decodePNG(t, raw).Bounds(); got != want {
		t.Errorf("embedded PNG is %v, want %v", got, want)
	}
	if !bytes.Contains(b, []byte(`width="`+strconv.Itoa(want.Dx())+`"`)) {
		t.Errorf("SVG wrapper does not carry the grid width %d", want.Dx())
	}
}

func measure(face xfont.Face, s string) int { return xfont.MeasureString(face, s).Ceil() }

func TestSave(t *testing.T) {
	dir := t.TempDir()
	charts := plotCharts(t)
	grid, err := ImageGrid(solids(2, 8, 8, color.Black), nil, GridOptions{})
	if err != nil {
		t.Fatal(err)
	}
	charts["grid"] = grid
	for name, ch := range charts {
		p := filepath.Join(dir, name+".png")
		if err := ch.Save(p); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		decodePNG(t, b)
		s := filepath.Join(dir, name+".SVG") // extension case does not matter
		if err := ch.Save(s); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(s); !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s: saved SVG has no <svg", name)
		}
	}
	// Overwrite an existing file: the new content replaces it whole.
	p := filepath.Join(dir, "grid.png")
	if err := charts["curves"].Save(p); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if got := decodePNG(t, b).Bounds().Dx(); got != 600 {
		t.Errorf("overwritten file is %d px wide, want the curves' 600", got)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	if len(entries) != 2*len(charts) {
		t.Errorf("%d files in dir, want %d", len(entries), 2*len(charts))
	}
	if info, err := os.Stat(p); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("saved file mode = %v, %v; want 0644", info.Mode().Perm(), err)
	}
}

func TestSaveFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "chart.png")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := (&Chart{}).Save(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("saving an empty chart: err = %v, want an error naming %s", err, p)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("failed save changed the file to %q", b)
	}
}

func TestSaveErrorsNamePath(t *testing.T) {
	ch := plotCharts(t)["curves"]
	bad := filepath.Join(t.TempDir(), "no", "such", "dir", "loss.png")
	err := ch.Save(bad)
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("missing directory: err = %v, want it to name %s", err, bad)
	}
	ext := filepath.Join(t.TempDir(), "loss.jpg")
	err = ch.Save(ext)
	if err == nil || !strings.Contains(err.Error(), ext) {
		t.Errorf("unsupported extension: err = %v, want it to name %s", err, ext)
	}
}

func TestCurvesNaN(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	ch, err := Curves("Loss", "epoch", "loss",
		Series{Name: "diverged", Y: []float64{2, 1.5, nan, 1.2, inf, nan, 1.0}},
		Series{Name: "all NaN", Y: []float64{nan, nan}},
		Series{Name: "single point", X: []float64{3}, Y: []float64{1.7}},
		Series{Name: "nan x", X: []float64{1, nan, 3}, Y: []float64{1, 2, 3}},
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.PNG(); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.SVG(); err != nil {
		t.Fatal(err)
	}
	// Nothing finite at all (before the first epoch) still renders.
	empty, err := Curves("Loss", "epoch", "loss", Series{Name: "train"}, Series{Name: "val", Y: []float64{nan}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.PNG(); err != nil {
		t.Fatal(err)
	}
}

func TestCurvesErrors(t *testing.T) {
	if _, err := Curves("t", "x", "y"); err == nil {
		t.Error("no series: want error")
	}
	if _, err := Curves("t", "x", "y", Series{Name: "a", X: []float64{1, 2}, Y: []float64{1}}); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("x/y length mismatch: err = %v, want an error naming the series", err)
	}
}

func TestCurvesLegendPlacement(t *testing.T) {
	up, err := Curves("acc", "epoch", "acc", Series{Name: "a", Y: []float64{0.1, 0.5, 0.8, 0.9}})
	if err != nil {
		t.Fatal(err)
	}
	down, err := Curves("loss", "epoch", "loss", Series{Name: "a", Y: []float64{2, 1, 0.5, 0.4}})
	if err != nil {
		t.Fatal(err)
	}
	if up.Plot().Legend.Top || !down.Plot().Legend.Top {
		t.Error("legend should sit away from where the curves end: bottom for rising, top for falling")
	}
}

func TestClassBarsErrors(t *testing.T) {
	if _, err := ClassBars("t", "acc", []string{"a", "b"}, []float64{0.5}); err == nil {
		t.Error("length mismatch: want error")
	}
	if _, err := ClassBars("t", "acc", nil, nil); err == nil {
		t.Error("no classes: want error")
	}
	if _, err := ClassBars("t", "acc", []string{"a"}, []float64{87}); err == nil {
		t.Error("percentage instead of fraction: want error")
	}
	ch, err := ClassBars("t", "acc", []string{"a", "b"}, []float64{0.5, math.NaN()})
	if err != nil {
		t.Fatalf("NaN (class without samples) should be allowed: %v", err)
	}
	if _, err := ch.PNG(); err != nil {
		t.Fatal(err)
	}
}

func TestConfusionMatrixErrors(t *testing.T) {
	classes := []string{"cat", "dog", "ship"}
	bad := map[string][][]int{
		"too few rows":   {{1, 2, 3}, {4, 5, 6}},
		"short row":      {{1, 2, 3}, {4, 5}, {7, 8, 9}},
		"negative count": {{1, 2, 3}, {4, -5, 6}, {7, 8, 9}},
	}
	for name, counts := range bad {
		if _, err := ConfusionMatrix("t", classes, counts); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
	if _, err := ConfusionMatrix("t", nil, nil); err == nil {
		t.Error("no classes: want error")
	}
	// An empty row (class absent from the test set) is fine.
	ch, err := ConfusionMatrix("t", classes, [][]int{{5, 0, 0}, {0, 0, 0}, {1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.PNG(); err != nil {
		t.Fatal(err)
	}
}

func TestConfusionMatrixRowNormalised(t *testing.T) {
	// The 5-sample class's perfect diagonal must be as dark as the
	// 5000-sample class's: shading is by row share, not raw count.
	m, err := newConfusionPlotter([]string{"rare", "common", "absent"}, [][]int{{5, 0, 0}, {1000, 3000, 0}, {0, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{1, 0, 0}, {0.25, 0.75, 0}, {0, 0, 0}}
	for i := range want {
		for j := range want[i] {
			if m.frac[i][j] != want[i][j] {
				t.Errorf("frac[%d][%d] = %v, want %v", i, j, m.frac[i][j], want[i][j])
			}
		}
	}
	dark, light := blues(1), blues(0)
	if luminance(dark) > 0.3 || luminance(light) < 0.9 {
		t.Errorf("colour map ends: luminance %v (1.0) and %v (0.0)", luminance(dark), luminance(light))
	}
	if luminance(blues(0.25)) <= luminance(blues(0.75)) {
		t.Error("colour map must darken as the share grows")
	}
	if !sameRGB(contrastColor(dark), color.White) || !sameRGB(contrastColor(light), color.Black) {
		t.Error("count text must contrast with the cell: white on dark, black on light")
	}
}

func TestNiceTicks(t *testing.T) {
	labels := func(ts niceTicks, lo, hi float64) string {
		var s []string
		for _, tk := range ts.Ticks(lo, hi) {
			s = append(s, tk.Label)
		}
		return strings.Join(s, ",")
	}
	cases := []struct {
		tk     niceTicks
		lo, hi float64
		want   string
	}{
		{niceTicks{integer: true}, 1, 30, "5,10,15,20,25,30"},
		{niceTicks{integer: true}, 1, 3, "1,2,3"},
		{niceTicks{}, 0, 2.3, "0,0.5,1.0,1.5,2.0"},
		{niceTicks{}, 0.1, 0.95, "0.2,0.4,0.6,0.8"},
		{niceTicks{}, -1, 1, "-1.0,-0.5,0,0.5,1.0"},
	}
	for _, c := range cases {
		if got := labels(c.tk, c.lo, c.hi); got != c.want {
			t.Errorf("ticks(%v, %v) = %s, want %s", c.lo, c.hi, got, c.want)
		}
	}
}
