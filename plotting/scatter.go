package plotting

import (
	"errors"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Group is one legend entry of a Scatter chart: points of one colour and marker, each
// optionally labelled (a trial's name, so the picture can be read against a table).
type Group struct {
	Name   string
	X, Y   []float64
	Labels []string // nil, or one per point.
}

// glyphs tell groups apart without colour (printouts, colour blindness).
var glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.PyramidGlyph{},
	draw.RingGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}, draw.BoxGlyph{}}

// Scatter draws groups of points, each group its own colour and marker; logX puts the x
// axis on a log scale (learning rates), which needs every x > 0.
func Scatter(title, xLabel, yLabel string, logX bool, groups ...Group) (*Chart, error) {
	if len(groups) == 0 {
		return nil, errors.New("plotting: a scatter needs at least one group")
	}
	p := newPlot(title, xLabel, yLabel)
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = color.Gray{0xdd}, color.Gray{0xdd}
	p.Add(grid)
	for i, g := range groups {
		if err := addGroup(p, i, g, logX); err != nil {
			return nil, err
		}
	}
	p.Y.Tick.Marker = niceTicks{}
	p.X.Tick.Marker = niceTicks{}
	if logX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	}
	p.Legend.Top = true
	return newPlotChart(p), nil
}

func addGroup(p *plot.Plot, i int, g Group, logX bool) error {
	if len(g.X) != len(g.Y) || (g.Labels != nil && len(g.Labels) != len(g.X)) {
		return fmt.Errorf("plotting: group %q has %d x values, %d y values and %d labels", g.Name, len(g.X), len(g.Y), len(g.Labels))
	}
	pts := make(plotter.XYs, 0, len(g.X))
	var labels []string
	for j := range g.X {
		pt := plotter.XY{X: g.X[j], Y: g.Y[j]}
		if !finite(pt) || (logX && pt.X <= 0) {
			continue // a diverged trial has no accuracy to place.
		}
		pts = append(pts, pt)
		if g.Labels != nil {
			labels = append(labels, g.Labels[j])
		}
	}
	style := draw.GlyphStyle{Color: paletteColor(i), Radius: vg.Points(5), Shape: glyphs[i%len(glyphs)]}
	s := &plotter.Scatter{XYs: pts, GlyphStyle: style}
	p.Add(s)
	if g.Name != "" {
		p.Legend.Add(g.Name, s)
	}
	if len(labels) > 0 {
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
		if err != nil {
			return err
		}
		for k := range l.TextStyle {
			l.TextStyle[k].Font = font.From(sansFont, 8)
			l.TextStyle[k].Color = color.Gray{0x55}
			l.Offset = vg.Point{X: vg.Points(6), Y: vg.Points(2)}
		}
		p.Add(l)
	}
	return nil
}
