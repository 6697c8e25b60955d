package pictures

import (
	"fmt"
	"math"
	"strings"

	"github.com/vggkit/vggkit/plotting"
	"github.com/vggkit/vggkit/vggkit/sweep"
)

// SweepCurves draws each trial's test accuracy after every epoch: successive halving
// shows as short curves (the trials it stopped) beside long ones.
func SweepCurves(rs []sweep.Result, paths []string) (*plotting.Chart, error) {
	var series []plotting.Series
	for _, r := range rs {
		var xs, ys []float64
		for _, e := range r.History.Epochs {
			if e.TestAcc >= 0 {
				xs, ys = append(xs, float64(e.Epoch)), append(ys, 100*e.TestAcc)
			}
		}
		name := r.Name + " (" + short(r, paths) + ")"
		if len(ys) < 2 {
			name = "" // a stopped trial is one dot; a dozen such legend entries would hide the curves.
		}
		series = append(series, plotting.Series{Name: name, X: xs, Y: ys})
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("no trials to draw")
	}
	c, err := plotting.Curves("Test accuracy of each trial (dots: trials stopped after one evaluation)", "epoch",
		"test accuracy (%)", series...)
	if err == nil {
		c.SetSize(8, 5)
	}
	return c, err
}

// short is a trial's settings in a few characters: "0.006 sgd on".
func short(r sweep.Result, paths []string) string {
	var parts []string
	for _, p := range paths {
		v := sweep.Format(r.Params[p])
		if _, ok := r.Params[p].(bool); ok {
			v = sweep.Label(p) + " " + v
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, " ")
}

// SweepScatter relates the settings to the final test accuracy: the first numeric
// parameter (the learning rate, on a log scale when its range is) across, one colour and
// marker per combination of the other parameters, each point named by its trial.
func SweepScatter(rs []sweep.Result, space sweep.Space) (*plotting.Chart, error) {
	xp, logX := "", false
	var others []string
	for _, p := range space.Params {
		if xp == "" && len(p.Values) == 0 {
			xp, logX = p.Path, p.Log
		} else {
			others = append(others, p.Path)
		}
	}
	if xp == "" {
		return nil, fmt.Errorf("the space has no numeric range to put across: %v", space.Paths())
	}
	var groups []plotting.Group
	index := map[string]int{}
	for _, r := range rs {
		x, ok := r.Params[xp].(float64)
		if !ok || r.TestAcc < 0 {
			continue
		}
		key := short(r, others)
		i, seen := index[key]
		if !seen {
			i, index[key] = len(groups), len(groups)
			groups = append(groups, plotting.Group{Name: key})
		}
		g := &groups[i]
		g.X, g.Y, g.Labels = append(g.X, x), append(g.Y, 100*r.TestAcc), append(g.Labels, fmt.Sprintf("%s (%d ep)", r.Name, r.Epochs))
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("no trial has a test accuracy yet")
	}
	c, err := plotting.Scatter("Final test accuracy against "+sweep.Label(xp), sweep.Label(xp)+scaleNote(logX), "test accuracy (%)", logX, groups...)
	if err == nil {
		c.SetSize(8, 5)
		c.Plot().Y.Min = math.Max(0, c.Plot().Y.Min)
	}
	return c, err
}

func scaleNote(log bool) string {
	if log {
		return " (log scale)"
	}
	return ""
}
