package plotting

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one named line of a Curves chart, e.g. "train loss" per epoch.
// X may be nil, in which case the points are numbered 1, 2, 3... (epochs).
type Series struct {
	Name string
	X, Y []float64
}

// markerLimit is the number of points up to which each point also gets a
// marker: with few epochs the markers show where the measurements are, with
// many they would only clutter the line.
const markerLimit = 60

// Curves draws loss or accuracy curves, one line per series, with a legend.
//
// Non-finite points (NaN, ±Inf: a diverged run, a metric not computed at
// some epoch) are skipped and leave a gap in the line instead of failing,
// because a training report must still be produced when training went wrong.
// A series with no finite point, or no series data at all, gives an empty
// chart rather than an error, so a notebook can plot before the first epoch.
func Curves(title, xLabel, yLabel string, series ...Series) (*Chart, error) {
	if len(series) == 0 {
		return nil, errors.New("plotting: curves need at least one series")
	}
	p := newPlot(title, xLabel, yLabel)
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{0xdd}
	grid.Horizontal.Color = color.Gray{0xdd}
	p.Add(grid)

	total := 0
	for i, s := range series {
		if s.X != nil && len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("plotting: series %d (%q) has %d x values and %d y values", i, s.Name, len(s.X), len(s.Y))
		}
		for j := range s.Y {
			if finite(pointOf(s, j)) {
				total++
			}
		}
	}
	var all plotter.XYs
	for i, s := range series {
		col := paletteColor(i)
		lineStyle := draw.LineStyle{Color: col, Width: vg.Points(2)}
		glyphStyle := draw.GlyphStyle{Color: col, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		var seg plotter.XYs
		flush := func() {
			if len(seg) >= 2 {
				p.Add(&plotter.Line{XYs: seg, LineStyle: lineStyle})
			}
			if len(seg) == 1 || (len(seg) > 0 && total <= markerLimit) {
				p.Add(&plotter.Scatter{XYs: seg, GlyphStyle: glyphStyle})
			}
			seg = nil
		}
		for j := range s.Y {
			pt := pointOf(s, j)
			if !finite(pt) {
				flush()
				continue
			}
			seg = append(seg, pt)
			all = append(all, pt)
		}
		flush()
		if s.Name != "" {
			thumbs := []plot.Thumbnailer{&plotter.Line{LineStyle: lineStyle}}
			if total <= markerLimit {
				thumbs = append(thumbs, &plotter.Scatter{GlyphStyle: glyphStyle})
			}
			p.Legend.Add(s.Name, thumbs...)
		}
	}
	p.Legend.Top = !dataInTopRight(all)
	integerX := true
	for _, pt := range all {
		integerX = integerX && pt.X == math.Trunc(pt.X)
	}
	p.X.Tick.Marker = niceTicks{integer: integerX}
	p.Y.Tick.Marker = niceTicks{}
	if len(all) > 0 {
		// 5 % headroom so that the curves do not run along the plot's edge.
		_, _, ymin, ymax := plotter.XYRange(all)
		m := 0.05 * (ymax - ymin)
		p.Y.Min, p.Y.Max = ymin-m, ymax+m
	}
	p.Legend.ThumbnailWidth = vg.Points(24)
	return newPlotChart(p), nil
}

func pointOf(s Series, j int) plotter.XY {
	x := float64(j + 1)
	if s.X != nil {
		x = s.X[j]
	}
	return plotter.XY{X: x, Y: s.Y[j]}
}

func finite(pt plotter.XY) bool {
	return !math.IsNaN(pt.X) && !math.IsInf(pt.X, 0) && !math.IsNaN(pt.Y) && !math.IsInf(pt.Y, 0)
}

// dataInTopRight reports whether the right end of the curves sits in the
// upper half of the plot, where the legend would otherwise go: accuracy
// curves end high, loss curves end low, and the legend should not hide
// either.
func dataInTopRight(pts plotter.XYs) bool {
	if len(pts) == 0 {
		return false
	}
	xmin, xmax, ymin, ymax := plotter.XYRange(pts)
	xcut := xmax - 0.3*(xmax-xmin)
	ymid := (ymin + ymax) / 2
	up, down := 0, 0
	for _, pt := range pts {
		if pt.X < xcut {
			continue
		}
		if pt.Y > ymid {
			up++
		} else {
			down++
		}
	}
	return up > down
}
