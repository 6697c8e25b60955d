package pictures

import (
	"fmt"

	"gonum.org/v1/plot"

	"github.com/vggkit/vggkit/plotting"
	"github.com/vggkit/vggkit/vggkit/training"
)

// LRFind draws the learning-rate finder's smoothed loss against the rate on a log axis,
// each suggestion a marked point, as fastai's plot_lr_find: like it, the last 5 points
// (where the loss blows up) are left out so the curve keeps its scale. In a notebook:
// nb.Show(pictures.LRFind(res)).
func LRFind(r *training.LRFindResult) (*plotting.Chart, error) {
	n := max(0, len(r.LRs)-5)
	if n < 2 {
		n = len(r.LRs)
	}
	series := []plotting.Series{{Name: "smoothed loss", X: r.LRs[:n], Y: r.Losses[:n]}}
	for _, s := range r.Suggestions {
		series = append(series, plotting.Series{Name: fmt.Sprintf("%s: %.2g", s.Name, s.LR),
			X: []float64{s.PointLR}, Y: []float64{s.PointLoss}})
	}
	c, err := plotting.Curves("Learning-rate finder", "learning rate (log scale)", "training loss", series...)
	if err != nil {
		return nil, err
	}
	if n > 0 && r.LRs[0] > 0 {
		p := c.Plot()
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		p.X.Min, p.X.Max = r.LRs[0], r.LRs[n-1]
	}
	return c, nil
}
