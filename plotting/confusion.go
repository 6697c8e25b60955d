package plotting

import (
	"errors"
	"fmt"
	"image/color"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ConfusionMatrix draws counts[true][predicted] as a heatmap with the true
// class on the rows (top to bottom, in classes order) and the predicted class
// on the columns.
//
// Each cell is shaded by its share of its row (the recall of that true class
// going to that prediction), not by the raw count, so that rare classes are
// as readable as common ones; the raw count is written in the cell in black
// or white, whichever contrasts with the shade. A row with no samples stays
// blank-white.
func ConfusionMatrix(title string, classes []string, counts [][]int) (*Chart, error) {
	cm, err := newConfusionPlotter(classes, counts)
	if err != nil {
		return nil, err
	}
	n := len(classes)
	p := newPlot(title, "predicted", "true")
	p.Add(cm)
	p.NominalX(classes...)
	// Row 0 at the top, as in a printed matrix.
	yTicks := make([]plot.Tick, n)
	for i, name := range classes {
		yTicks[i] = plot.Tick{Value: float64(n - 1 - i), Label: name}
	}
	p.Y.Tick.Marker = plot.ConstantTicks(yTicks)
	p.Y.Tick.Length, p.Y.Width = 0, 0
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
	p.X.Padding, p.Y.Padding = 0, 0

	ch := newPlotChart(p)
	ch.prepare = func(p *plot.Plot, w, h vg.Length) {
		// Size the y names to the row height first: their width decides how
		// much room is left for the columns.
		rowH := (h - vg.Points(90)) / vg.Length(n)
		p.Y.Tick.Label.Font = font.From(sansFont, max(vg.Points(4), min(vg.Points(10), rowH*0.8)))
		widest := vg.Length(0)
		for _, c := range classes {
			widest = max(widest, p.Y.Tick.Label.Width(c))
		}
		colW := (w - widest - vg.Points(40)) / vg.Length(n)
		fitCategoryTicks(&p.X.Tick.Label, classes, colW)
	}
	return ch, nil
}

// newConfusionPlotter validates counts against classes and computes the row
// shares used for shading.
func newConfusionPlotter(classes []string, counts [][]int) (*confusionPlotter, error) {
	n := len(classes)
	if n == 0 {
		return nil, errors.New("plotting: confusion matrix needs at least one class")
	}
	if len(counts) != n {
		return nil, fmt.Errorf("plotting: confusion matrix has %d rows for %d classes", len(counts), n)
	}
	cm := &confusionPlotter{counts: make([][]int, n), frac: make([][]float64, n)}
	for i, row := range counts {
		if len(row) != n {
			return nil, fmt.Errorf("plotting: confusion matrix row %d (%q) has %d columns for %d classes", i, classes[i], len(row), n)
		}
		sum := 0
		for j, v := range row {
			if v < 0 {
				return nil, fmt.Errorf("plotting: confusion matrix count [%d][%d] is negative (%d)", i, j, v)
			}
			sum += v
		}
		cm.counts[i] = append([]int(nil), row...)
		cm.frac[i] = make([]float64, n)
		for j, v := range row {
			if sum > 0 {
				cm.frac[i][j] = float64(v) / float64(sum)
			}
		}
	}

	return cm, nil
}

// confusionPlotter fills the cells and writes the counts; it needs the cell
// size in canvas units to pick a font that fits, hence a custom plotter.
type confusionPlotter struct {
	counts [][]int
	frac   [][]float64
}

func (m *confusionPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	n := len(m.counts)
	cellW := trX(1) - trX(0)
	cellH := trY(1) - trY(0)
	widest := 1
	for _, row := range m.counts {
		for _, v := range row {
			widest = max(widest, len(strconv.Itoa(v)))
		}
	}
	// Liberation Sans digits are about 0.56 em wide.
	size := min(vg.Points(11), cellW*0.85/(0.56*vg.Length(widest)), cellH*0.6)
	sty := text.Style{
		Font:    font.From(sansFont, size),
		XAlign:  draw.XCenter,
		YAlign:  draw.YCenter,
		Handler: p.TextHandler,
	}
	for i, row := range m.counts {
		y := float64(n - 1 - i)
		for j, v := range row {
			x := float64(j)
			bg := blues(m.frac[i][j])
			xl, xr := trX(x-0.5), trX(x+0.5)
			yb, yt := trY(y-0.5), trY(y+0.5)
			c.FillPolygon(bg, []vg.Point{{X: xl, Y: yb}, {X: xr, Y: yb}, {X: xr, Y: yt}, {X: xl, Y: yt}})
			if size < vg.Points(4) {
				continue // too many classes to write counts legibly
			}
			sty.Color = contrastColor(bg)
			c.FillText(sty, vg.Point{X: (xl + xr) / 2, Y: (yb + yt) / 2}, strconv.Itoa(v))
		}
	}
	// A thin frame keeps the nearly white cells of a good model from
	// dissolving into the background.
	frame := draw.LineStyle{Color: color.Gray{0x99}, Width: vg.Points(0.5)}
	x0, x1 := trX(-0.5), trX(float64(n)-0.5)
	y0, y1 := trY(-0.5), trY(float64(n)-0.5)
	c.StrokeLines(frame, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}, {X: x0, Y: y0}})
}

func (m *confusionPlotter) DataRange() (xmin, xmax, ymin, ymax float64) {
	n := float64(len(m.counts))
	return -0.5, n - 0.5, -0.5, n - 0.5
}
