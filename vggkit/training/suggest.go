package training

import (
	"fmt"
	"math"
)

// Suggestion is a learning rate the finder proposes, with the point of the curve it
// comes from (for the picture) and the rule that chose it.
type Suggestion struct {
	Name      string  // "valley", "minimum" or "steep" (fastai's names).
	LR        float64 // the suggested rate.
	PointLR   float64 // where on the curve it was read (minimum: the minimum's rate, ten times LR).
	PointLoss float64
	Why       string
}

// Suggest applies fastai's suggestion rules to a finder's curve (rates and smoothed
// losses, as recorded) of a sweep planned for steps steps. As fastai's lr_find, it first
// drops the first steps/10 points (the smoothing's warm-up) and the last 5 (where the
// loss blows up), and everything from the first NaN on. Valley comes first: fastai's
// default since 2021, the most reliable of its rules.
func Suggest(lrs, losses []float64, steps int) ([]Suggestion, error) {
	lo, hi := steps/10, len(losses)-5
	if hi-lo < 2 {
		return nil, fmt.Errorf("lr finder: %d points recorded, %d after dropping the first %d and the last 5: too few to suggest a rate (run more steps, or a wider range)", len(losses), max(0, hi-lo), lo)
	}
	lrs, losses = lrs[lo:hi], losses[lo:hi]
	for i, l := range losses {
		if math.IsNaN(l) {
			lrs, losses = lrs[:i], losses[:i]
			break
		}
	}
	if len(losses) < 2 {
		return nil, fmt.Errorf("lr finder: the loss is NaN from point %d: too few points to suggest a rate", lo+len(losses))
	}
	v, m, s := Valley(losses), argmin(losses), Steep(lrs, losses)
	return []Suggestion{
		{Name: "valley", LR: lrs[v], PointLR: lrs[v], PointLoss: losses[v],
			Why: "the longest stretch over which the loss keeps falling, about two thirds of the way down it: fast but still safely before the bottom"},
		{Name: "minimum", LR: lrs[m] / 10, PointLR: lrs[m], PointLoss: losses[m],
			Why: "a tenth of the rate at the lowest loss: at the minimum itself the loss is about to blow up"},
		{Name: "steep", LR: lrs[s], PointLR: lrs[s], PointLoss: losses[s],
			Why: "where the loss falls fastest per decade of rate"},
	}, nil
}

// Valley is fastai's valley rule, ported: lds[i] is the length of the longest strictly
// decreasing run of losses (not necessarily contiguous) ending at i; the longest one
// ends at maxEnd, and maxStart = maxEnd - its length (fastai's arithmetic: one point
// before the run's first); the index returned lies int(len/3) + int(len/6) after it.
func Valley(losses []float64) int {
	n := len(losses)
	maxStart, maxEnd := 0, 0
	lds := make([]int, n)
	for i := range lds {
		lds[i] = 1
	}
	for i := 1; i < n; i++ {
		for j := 0; j < i; j++ {
			if losses[i] < losses[j] && lds[i] < lds[j]+1 {
				lds[i] = lds[j] + 1
			}
			if lds[maxEnd] < lds[i] {
				maxEnd = i
				maxStart = maxEnd - lds[maxEnd]
			}
		}
	}
	sections := float64(maxEnd-maxStart) / 3
	idx := maxStart + int(sections) + int(sections/2)
	if idx < 0 {
		idx += n // Python's lrs[-1]: a run of 2 falling points from the first (maxStart -1).
	}
	return idx
}

// Steep is fastai's steep rule: the first point of the segment where the loss falls
// fastest against log(rate).
func Steep(lrs, losses []float64) int {
	best, idx := math.Inf(1), 0
	for i := 0; i+1 < len(losses); i++ {
		g := (losses[i+1] - losses[i]) / (math.Log(lrs[i+1]) - math.Log(lrs[i]))
		if g < best {
			best, idx = g, i
		}
	}
	return idx
}

func argmin(xs []float64) int {
	idx := 0
	for i, x := range xs {
		if x < xs[idx] {
			idx = i
		}
	}
	return idx
}
