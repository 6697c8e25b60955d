package plotting

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"strings"

	xdraw "golang.org/x/image/draw"
	xfont "golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
)

// Grid defaults. 96 px per cell makes a 32x32 CIFAR image (upscaled 3x) large
// enough to recognise, and leaves room for a short caption line.
const (
	DefaultGridCols    = 8
	DefaultGridPadding = 2
	DefaultMinCellSize = 96

	captionFontPx  = 12 // caption text height in pixels
	titleFontPx    = 16
	maxCaptionRows = 4 // longer captions are cut with an ellipsis (4: a prediction and a true class of two rows each)
)

// GridOptions configures ImageGrid. The zero value gives torchvision-like
// defaults (8 per row, 2 px padding) on a white background, which reads
// better next to notebook text than torchvision's black.
type GridOptions struct {
	// Cols is the number of images per row (torchvision's nrow); 0 means 8.
	// Fewer images than Cols give a single row of just those images.
	Cols int
	// Padding is the gap in pixels around and between cells; 0 means 2 and a
	// negative value means no padding at all.
	Padding int
	// PadValue is the background colour; nil means white. Captions and title
	// default to black or white, whichever contrasts with it.
	PadValue color.Color
	// Scale is an integer nearest-neighbour upscaling factor (pixels stay
	// sharp, no invented detail); 0 means the smallest factor that makes the
	// larger image side at least 96 px.
	Scale int
	// Title is drawn centred above the grid when not empty.
	Title string
	// CaptionColors, when not nil, has one colour per caption (nil entries
	// use the default), e.g. green for correct and red for wrong predictions.
	CaptionColors []color.Color
}

// gridLayout is the pixel geometry of a grid, kept separate from drawing so
// that the arithmetic is easy to reason about: width = cols*(cellW+pad)+pad
// and height = titleH + rows*(imgH+captionH+pad)+pad.
type gridLayout struct {
	n, cols, rows    int
	pad, scale       int
	cellW, imgH      int
	captionH, titleH int
	gridW, width     int // width > gridW only when the title is wider
	height           int
}

// ImageGrid tiles images into one picture, like torchvision's make_grid, with
// an optional caption under each image (a class name, or "true: cat / pred:
// dog") and an optional title. Images may differ in size; each is centred in
// a cell sized for the largest.
//
// captions may be nil; otherwise it needs one entry per image, since a
// silently shifted caption would mislabel every image after it.
func ImageGrid(images []image.Image, captions []string, opt GridOptions) (*Chart, error) {
	if len(images) == 0 {
		return nil, errors.New("plotting: image grid needs at least one image")
	}
	if captions != nil && len(captions) != len(images) {
		return nil, fmt.Errorf("plotting: %d captions for %d images", len(captions), len(images))
	}
	if opt.CaptionColors != nil && len(opt.CaptionColors) != len(images) {
		return nil, fmt.Errorf("plotting: %d caption colours for %d images", len(opt.CaptionColors), len(images))
	}
	maxW, maxH := 0, 0
	for i, img := range images {
		if img == nil {
			return nil, fmt.Errorf("plotting: image %d is nil", i)
		}
		b := img.Bounds()
		if b.Empty() {
			return nil, fmt.Errorf("plotting: image %d is empty", i)
		}
		maxW, maxH = max(maxW, b.Dx()), max(maxH, b.Dy())
	}

	bg := opt.PadValue
	if bg == nil {
		bg = color.White
	}
	fg := contrastColor(bg)
	captionFace := pixelFace(sansFont, captionFontPx)
	defer captionFace.Close()
	titleFace := pixelFace(boldFont, titleFontPx)
	defer titleFace.Close()

	l := layoutGrid(len(images), maxW, maxH, opt)
	var lines [][]string
	if captions != nil {
		lines = make([][]string, len(captions))
		rows := 1
		for i, c := range captions {
			lines[i] = wrapText(captionFace, c, l.cellW, maxCaptionRows)
			rows = max(rows, len(lines[i]))
		}
		l.captionH = captionHeight(captionFace, rows)
	}
	if opt.Title != "" {
		l.titleH = titleHeight(titleFace)
		l.width = max(l.width, xfont.MeasureString(titleFace, opt.Title).Ceil()+2*titleMargin)
	}
	l.height = l.titleH + l.rows*(l.imgH+l.captionH+l.pad) + l.pad

	dst := image.NewRGBA(image.Rect(0, 0, l.width, l.height))
	xdraw.Draw(dst, dst.Bounds(), image.NewUniform(bg), image.Point{}, xdraw.Src)
	if opt.Title != "" {
		drawCentered(dst, titleFace, fg, opt.Title, l.width/2, titleMargin+titleFace.Metrics().Ascent.Ceil())
	}
	x0 := (l.width - l.gridW) / 2 // centre the grid under a wide title
	for i, img := range images {
		r, c := i/l.cols, i%l.cols
		cellX := x0 + l.pad + c*(l.cellW+l.pad)
		cellY := l.titleH + l.pad + r*(l.imgH+l.captionH+l.pad)
		b := img.Bounds()
		w, h := b.Dx()*l.scale, b.Dy()*l.scale
		ox, oy := cellX+(l.cellW-w)/2, cellY+(l.imgH-h)/2
		xdraw.NearestNeighbor.Scale(dst, image.Rect(ox, oy, ox+w, oy+h), img, b, xdraw.Over, nil)
		if lines == nil {
			continue
		}
		col := fg
		if opt.CaptionColors != nil && opt.CaptionColors[i] != nil {
			col = opt.CaptionColors[i]
		}
		m := captionFace.Metrics()
		y := cellY + l.imgH + captionGap + m.Ascent.Ceil()
		for _, line := range lines[i] {
			drawCentered(dst, captionFace, col, line, cellX+l.cellW/2, y)
			y += m.Height.Ceil()
		}
	}
	return &Chart{raster: dst}, nil
}

// layoutGrid computes the geometry that does not depend on text.
func layoutGrid(n, maxW, maxH int, opt GridOptions) gridLayout {
	l := gridLayout{n: n, cols: opt.Cols, pad: opt.Padding, scale: opt.Scale}
	if l.cols <= 0 {
		l.cols = DefaultGridCols
	}
	l.cols = min(l.cols, n)
	l.rows = (n + l.cols - 1) / l.cols
	switch {
	case l.pad == 0:
		l.pad = DefaultGridPadding
	case l.pad < 0:
		l.pad = 0
	}
	if l.scale <= 0 {
		side := max(maxW, maxH)
		l.scale = max(1, (DefaultMinCellSize+side-1)/side)
	}
	l.cellW, l.imgH = maxW*l.scale, maxH*l.scale
	l.gridW = l.cols*(l.cellW+l.pad) + l.pad
	l.width = l.gridW
	l.height = l.rows*(l.imgH+l.pad) + l.pad
	return l
}

// captionGap is the space between an image and its caption's first line;
// titleMargin is the space above and below the title.
const (
	captionGap  = 2
	titleMargin = 4
)

func captionHeight(face xfont.Face, rows int) int {
	return captionGap + rows*face.Metrics().Height.Ceil() + captionGap
}

func titleHeight(face xfont.Face) int {
	return titleMargin + face.Metrics().Height.Ceil() + titleMargin
}

// pixelFace returns one of gonum's bundled Liberation faces sized in pixels
// (points at 72 dpi), antialiased, so grids need no system fonts.
func pixelFace(f font.Font, px float64) xfont.Face {
	face := font.DefaultCache.Lookup(f, vg.Length(px))
	return face.FontFace(72)
}

func drawCentered(dst *image.RGBA, face xfont.Face, col color.Color, s string, cx, baseline int) {
	d := xfont.Drawer{Dst: dst, Src: image.NewUniform(col), Face: face}
	w := d.MeasureString(s)
	d.Dot = fixed.Point26_6{X: fixed.I(cx) - w/2, Y: fixed.I(baseline)}
	d.DrawString(s)
}

// wrapText breaks s into at most maxRows lines no wider than width. It
// breaks at newlines, then, for a line too wide, at " / " (so "true: cat /
// pred: dog" becomes "true: cat" over "pred: dog"), then at spaces. A word
// too long for a line, or text beyond the last row, is cut with an ellipsis.
func wrapText(face xfont.Face, s string, width, maxRows int) []string {
	fits := func(t string) bool { return xfont.MeasureString(face, t).Ceil() <= width }
	var pieces []string
	for _, para := range strings.Split(s, "\n") {
		if fits(para) {
			pieces = append(pieces, para)
			continue
		}
		pieces = append(pieces, strings.Split(para, " / ")...)
	}
	var lines []string
	truncated := false
	for k, piece := range pieces {
		words := strings.Fields(piece)
		i := 0
		for i < len(words) && len(lines) < maxRows {
			line := words[i]
			i++
			if !fits(line) {
				lines = append(lines, ellipsize(face, line, width))
				continue
			}
			for i < len(words) && fits(line+" "+words[i]) {
				line += " " + words[i]
				i++
			}
			lines = append(lines, line)
		}
		if i < len(words) || (len(lines) == maxRows && k < len(pieces)-1) {
			truncated = true
			break
		}
	}
	if len(lines) == 0 {
		return []string{""}
	}
	if truncated { // ran out of rows: show that text is missing
		last := len(lines) - 1
		lines[last] = ellipsize(face, strings.TrimSuffix(lines[last], "…")+"…", width)
	}
	return lines
}

// ellipsize shortens s until it, with a trailing ellipsis, fits in width.
func ellipsize(face xfont.Face, s string, width int) string {
	if xfont.MeasureString(face, s).Ceil() <= width {
		return s
	}
	r := []rune(strings.TrimSuffix(s, "…"))
	for len(r) > 0 {
		r = r[:len(r)-1]
		t := string(r) + "…"
		if xfont.MeasureString(face, t).Ceil() <= width {
			return t
		}
	}
	return "…"
}
