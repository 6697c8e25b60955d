// Package plotting draws the pictures of an image-classification run: grids
// of sample images with their labels, loss and accuracy curves, per-class
// accuracy bars and confusion matrices.
//
// Everything is pure Go (gonum.org/v1/plot for charts, the image packages
// for grids) so that the same code works inline in a GoNB notebook (PNG
// bytes or an image.Image) and in a CLI that writes a report folder (PNG or
// SVG files), with no browser, CDN or Python involved.
//
// Every constructor returns a *Chart; nothing is drawn until one of its
// output methods is called, so a chart can be rendered at several sizes or in
// several formats.
package plotting

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	stddraw "image/draw"
	"image/png"
	"path/filepath"
	"strings"

	"github.com/vggkit/vggkit/internal/atomicfile"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Default chart geometry: 6x4 inches at 100 dpi gives a 600x400 PNG, which
// fits a notebook cell without scrolling and stays legible in a report.
const (
	DefaultWidthInch  = 6.0
	DefaultHeightInch = 4.0
	DefaultDPI        = 100
)

// Chart is a picture ready to be rendered. It is either a gonum plot (curves,
// bars, confusion matrix), drawn at render time so it stays vector for SVG,
// or a raster (image grid), which is kept as pixels because its content is
// pixels anyway.
//
// A Chart is not safe for concurrent rendering from several goroutines.
type Chart struct {
	plot *plot.Plot
	// prepare, if set, adjusts the plot to the output size just before it is
	// drawn (font sizes, label rotation), since those depend on the space
	// available per class.
	prepare func(p *plot.Plot, w, h vg.Length)
	width   vg.Length
	height  vg.Length
	dpi     int

	raster *image.RGBA
}

func newPlotChart(p *plot.Plot) *Chart {
	return &Chart{
		plot:   p,
		width:  vg.Length(DefaultWidthInch) * vg.Inch,
		height: vg.Length(DefaultHeightInch) * vg.Inch,
		dpi:    DefaultDPI,
	}
}

// SetSize changes the output size of a plot chart, in inches. It is a no-op
// for an image grid, whose size follows from its images and options. It
// returns c so that it can be chained.
func (c *Chart) SetSize(widthInch, heightInch float64) *Chart {
	if c.plot != nil && widthInch > 0 && heightInch > 0 {
		c.width = vg.Length(widthInch) * vg.Inch
		c.height = vg.Length(heightInch) * vg.Inch
	}
	return c
}

// SetDPI changes the raster resolution of a plot chart (PNG and Image only;
// SVG is resolution independent). It is a no-op for an image grid. It
// returns c so that it can be chained.
func (c *Chart) SetDPI(dpi int) *Chart {
	if c.plot != nil && dpi > 0 {
		c.dpi = dpi
	}
	return c
}

// Plot exposes the underlying gonum plot (nil for an image grid) for callers
// that need a tweak this package does not offer, e.g. a fixed axis range.
func (c *Chart) Plot() *plot.Plot { return c.plot }

func (c *Chart) check() error {
	if c == nil || (c.plot == nil && c.raster == nil) {
		return errors.New("plotting: empty chart")
	}
	return nil
}

func (c *Chart) draw(canvas vg.CanvasSizer) {
	if c.prepare != nil {
		c.prepare(c.plot, c.width, c.height)
	}
	c.plot.Draw(draw.New(canvas))
}

// Image renders the chart to pixels. The result is a fresh image that the
// caller may modify; in GoNB it can be shown with gonbui.DisplayImage.
func (c *Chart) Image() (image.Image, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if c.raster != nil {
		out := image.NewRGBA(c.raster.Bounds())
		stddraw.Draw(out, out.Bounds(), c.raster, c.raster.Bounds().Min, stddraw.Src)
		return out, nil
	}
	canvas := vgimg.NewWith(vgimg.UseWH(c.width, c.height), vgimg.UseDPI(c.dpi))
	c.draw(canvas)
	return canvas.Image(), nil
}

// PNG renders the chart as PNG bytes, the format notebooks display inline.
func (c *Chart) PNG() ([]byte, error) {
	img, err := c.Image()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("plotting: encode PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// SVG renders the chart as an SVG document. Plots stay vector (small, sharp
// at any zoom). An image grid is pixels by nature, so it is embedded as a
// base64 PNG inside an SVG wrapper, scaled without smoothing.
func (c *Chart) SVG() ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if c.raster != nil {
		var pngBuf bytes.Buffer
		if err := png.Encode(&pngBuf, c.raster); err != nil {
			return nil, fmt.Errorf("plotting: encode PNG: %w", err)
		}
		b := c.raster.Bounds()
		fmt.Fprintf(&buf, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="%d" height="%d" viewBox="0 0 %d %d">
<image x="0" y="0" width="%d" height="%d" style="image-rendering:pixelated" xlink:href="data:image/png;base64,%s"/>
</svg>
`, b.Dx(), b.Dy(), b.Dx(), b.Dy(), b.Dx(), b.Dy(), base64.StdEncoding.EncodeToString(pngBuf.Bytes()))
		return buf.Bytes(), nil
	}
	canvas := vgsvg.New(c.width, c.height)
	c.draw(canvas)
	if _, err := canvas.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plotting: encode SVG: %w", err)
	}
	// vgsvg names the font without a fallback, so a viewer lacking Liberation
	// would fall back to its default, often a serif. Arial is metric
	// compatible with Liberation Sans, so the layout still fits.
	return bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")), nil
}

// Save writes the chart to path, as PNG or SVG according to its extension
// (.png or .svg, any case). The bytes go to a temporary file in the same
// directory which is then renamed over path, so a reader (or a crash) never
// sees a half-written file and an existing file is replaced whole or not at
// all. Errors name the path.
func (c *Chart) Save(path string) error {
	var (
		data []byte
		err  error
	)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		data, err = c.PNG()
	case ".svg":
		data, err = c.SVG()
	default:
		return fmt.Errorf("plotting: save %s: unsupported extension %q (want .png or .svg)", path, ext)
	}
	if err != nil {
		return fmt.Errorf("plotting: save %s: %w", path, err)
	}
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("plotting: save %s: %w", path, err)
	}
	return nil
}
