package plotting

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ClassBars draws per-class accuracy as bars: values are fractions in 0..1,
// shown as percentages on a fixed 0..100 % axis (so charts from different
// runs compare at a glance), with the value written above each bar and the
// class names under them. NaN means "no samples of that class" and is shown
// as "n/a" with no bar. Values outside 0..1 are an error, because they almost
// always mean percentages were passed twice.
func ClassBars(title, yLabel string, classes []string, values []float64) (*Chart, error) {
	if err := checkBars(classes, values); err != nil {
		return nil, err
	}
	pct := make([]float64, len(values))
	labels := make([]string, len(values))
	for i, v := range values {
		if math.IsNaN(v) {
			pct[i], labels[i] = math.NaN(), "n/a"
			continue
		}
		if v < 0 || v > 1 {
			return nil, fmt.Errorf("plotting: class %q value %g outside 0..1 (pass fractions, not percentages)", classes[i], v)
		}
		pct[i] = 100 * v
		labels[i] = strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
	}
	p := newPlot(title, "", yLabel)
	p.Y.Min, p.Y.Max = 0, 110 // headroom for the value labels above 100 %
	p.Y.Tick.Marker = percentTicks{}
	return barChart(p, classes, pct, labels), nil
}

// Bars draws one bar per named value with the value written above it; use it
// for anything per-class that is not a 0..1 fraction (sample counts, losses).
func Bars(title, yLabel string, names []string, values []float64) (*Chart, error) {
	if err := checkBars(names, values); err != nil {
		return nil, err
	}
	labels := make([]string, len(values))
	lo, hi := 0.0, 0.0
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			labels[i] = "n/a"
			continue
		}
		labels[i] = strconv.FormatFloat(v, 'g', 4, 64)
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if lo == hi {
		hi = 1
	}
	p := newPlot(title, "", yLabel)
	span := hi - lo
	p.Y.Min, p.Y.Max = lo, hi
	if lo < 0 {
		p.Y.Min = lo - 0.1*span
	}
	if hi > 0 {
		p.Y.Max = hi + 0.1*span
	}
	p.Y.Tick.Marker = niceTicks{}
	return barChart(p, names, values, labels), nil
}

func checkBars(names []string, values []float64) error {
	if len(names) == 0 {
		return errors.New("plotting: bars need at least one class")
	}
	if len(names) != len(values) {
		return fmt.Errorf("plotting: %d class names for %d values", len(names), len(values))
	}
	return nil
}

func barChart(p *plot.Plot, names []string, values []float64, labels []string) *Chart {
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil // vertical lines would cut through the bars
	grid.Horizontal.Color = color.Gray{0xdd}
	p.Add(grid)
	bars := &barPlotter{values: values, labels: labels, color: paletteColor(0)}
	p.Add(bars)
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	p.X.Padding, p.Y.Padding = 0, 0
	ch := newPlotChart(p)
	ch.prepare = func(p *plot.Plot, w, h vg.Length) {
		slot := approxPlotWidth(w) / vg.Length(len(names))
		fitCategoryTicks(&p.X.Tick.Label, names, slot)
		bars.fontSize = min(vg.Points(9), slot/vg.Length(maxLen(labels))/0.55)
	}
	return ch
}

// approxPlotWidth estimates the data area's width from the chart width (the
// y axis and margins take the rest); per-class layout only needs a rough
// figure.
func approxPlotWidth(w vg.Length) vg.Length { return w - vg.Points(70) }

// fitCategoryTicks sizes and, when the names would overlap side by side,
// rotates category tick labels by 45° (matplotlib's usual fix), so that ten
// CIFAR class names fit a 6-inch chart.
func fitCategoryTicks(sty *text.Style, names []string, slot vg.Length) {
	sty.Font = font.From(sansFont, 10)
	sty.Rotation, sty.XAlign, sty.YAlign = 0, draw.XCenter, draw.YTop
	widest := vg.Length(0)
	for _, n := range names {
		widest = max(widest, sty.Width(n))
	}
	if widest <= 0.9*slot {
		return
	}
	sty.Rotation, sty.XAlign, sty.YAlign = math.Pi/4, draw.XRight, draw.YTop
	// Rotated labels are stacked slot*sin(45°) apart; keep the text within.
	size := min(vg.Points(10), slot*0.7*0.8)
	sty.Font = font.From(sansFont, max(size, vg.Points(4)))
}

func maxLen(ss []string) int {
	n := 1
	for _, s := range ss {
		n = max(n, len([]rune(s)))
	}
	return n
}

// barPlotter draws bars centred on the integers 0..n-1 with a text label at
// the end of each bar. It is custom, rather than gonum's BarChart, because
// the bar width must follow the data area (known only when drawing) and the
// labels must sit exactly on the bars.
type barPlotter struct {
	values   []float64
	labels   []string
	color    color.Color
	fontSize vg.Length
}

func (b *barPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	size := b.fontSize
	if size == 0 {
		size = vg.Points(9)
	}
	sty := text.Style{
		Color:   color.Black,
		Font:    font.From(sansFont, size),
		XAlign:  draw.XCenter,
		YAlign:  draw.YBottom,
		Handler: p.TextHandler,
	}
	base := trY(math.Max(p.Y.Min, math.Min(0, p.Y.Max)))
	for i, v := range b.values {
		xl, xr := trX(float64(i)-0.4), trX(float64(i)+0.4)
		top := base
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			top = trY(v)
			pts := []vg.Point{{X: xl, Y: base}, {X: xr, Y: base}, {X: xr, Y: top}, {X: xl, Y: top}}
			c.FillPolygon(b.color, c.ClipPolygonY(pts))
		}
		if size < vg.Points(4) {
			continue // too crowded to be legible; the bars still show
		}
		at := vg.Point{X: (xl + xr) / 2, Y: top + vg.Points(2)}
		ls := sty
		if !math.IsNaN(v) && v < 0 {
			at.Y = top - vg.Points(2)
			ls.YAlign = draw.YTop
		}
		c.FillText(ls, at, b.labels[i])
	}
}

func (b *barPlotter) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = -0.5, float64(len(b.values))-0.5
	for _, v := range b.values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
		}
	}
	return xmin, xmax, ymin, ymax
}

// percentTicks labels a 0..100 % axis every 20 % and hides the headroom above
// 100 % kept for the value labels.
type percentTicks struct{}

func (percentTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for v := 0.0; v <= 100; v += 10 {
		label := ""
		if int(v)%20 == 0 {
			label = strconv.Itoa(int(v)) + "%"
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
	}
	return ticks
}
