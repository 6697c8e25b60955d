package plotting

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
)

// gonum defaults to a serif face; a sans face reads better at the small
// sizes used for tick and cell labels.
var (
	sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	boldFont = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
)

// palette is matplotlib's tab10: saturated, distinguishable colours that
// people already associate with training curves.
var palette = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff},
	color.RGBA{0xff, 0x7f, 0x0e, 0xff},
	color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
	color.RGBA{0xd6, 0x27, 0x28, 0xff},
	color.RGBA{0x94, 0x67, 0xbd, 0xff},
	color.RGBA{0x8c, 0x56, 0x4b, 0xff},
	color.RGBA{0xe3, 0x77, 0xc2, 0xff},
	color.RGBA{0x7f, 0x7f, 0x7f, 0xff},
	color.RGBA{0xbc, 0xbd, 0x22, 0xff},
	color.RGBA{0x17, 0xbe, 0xcf, 0xff},
}

func paletteColor(i int) color.Color { return palette[i%len(palette)] }

// newPlot returns a gonum plot with this package's look: sans fonts, a bold
// title, and the given axis labels.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(boldFont, 14)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.X.Label.TextStyle.Font = font.From(sansFont, 12)
	p.Y.Label.TextStyle.Font = font.From(sansFont, 12)
	p.X.Tick.Label.Font = font.From(sansFont, 10)
	p.Y.Tick.Label.Font = font.From(sansFont, 10)
	p.Legend.TextStyle.Font = font.From(sansFont, 11)
	return p
}

// luminance is the relative luminance (0 dark .. 1 light) of c, used to pick
// black or white text that stays readable on top of it.
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 0xffff
}

// contrastColor returns black on light backgrounds and white on dark ones.
func contrastColor(bg color.Color) color.Color {
	if luminance(bg) > 0.5 {
		return color.Black
	}
	return color.White
}

// blues maps 0..1 to matplotlib's "Blues" colour map (white to dark blue), the
// usual confusion-matrix shading: light means rare, dark means frequent.
func blues(f float64) color.Color {
	stops := [...][3]float64{
		{0xf7, 0xfb, 0xff}, {0xde, 0xeb, 0xf7}, {0xc6, 0xdb, 0xef},
		{0x9e, 0xca, 0xe1}, {0x6b, 0xae, 0xd6}, {0x42, 0x92, 0xc6},
		{0x21, 0x71, 0xb5}, {0x08, 0x51, 0x9c}, {0x08, 0x30, 0x6b},
	}
	if math.IsNaN(f) || f < 0 {
		f = 0
	}
	if f > 1 {
		f = 1
	}
	pos := f * float64(len(stops)-1)
	i := int(pos)
	if i >= len(stops)-1 {
		i = len(stops) - 2
	}
	t := pos - float64(i)
	var out [3]uint8
	for k := range out {
		out[k] = uint8(math.Round(stops[i][k] + t*(stops[i+1][k]-stops[i][k])))
	}
	return color.RGBA{out[0], out[1], out[2], 0xff}
}

// niceTicks places about six ticks at round values (steps of 1, 2, 2.5 or 5
// times a power of ten). gonum's default gives only about three labels, too
// few to read a loss value off the chart. With integer set, steps are at
// least 1, for epoch axes.
type niceTicks struct{ integer bool }

func (t niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	if t.integer && step < 1 {
		step = 1
	}
	prec := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	if s := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9)); math.Abs(s-2.5) < 1e-9 && step < 10 {
		prec++ // 0.25 needs one more digit than 0.2
	}
	first := math.Ceil(lo/step - 1e-9)
	var ticks []plot.Tick
	for i := first; ; i++ {
		v := i * step
		if v > hi+step*1e-9 {
			break
		}
		label := strconv.FormatFloat(v, 'f', prec, 64)
		if label == "-0" || strings.Trim(label, "-0.") == "" {
			label = "0"
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
	}
	return ticks
}
