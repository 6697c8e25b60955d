package training

import (
	"math"

	"github.com/vggkit/vggkit/vggkit/config"
)

// Schedule gives the learning rate for the step about to run (0-based global step).
type Schedule func(step int64) float64

// NewSchedule is the one place a run's learning rate is worked out: t.Schedule over
// total steps. "cosine" is PyTorch's CosineAnnealingLR to 0 over the whole run
// (lr/2 * (1 + cos(pi * step / total))); "onecycle" is OneCycle (see OneCycle) peaking
// at t.LearningRate; "constant" keeps t.LearningRate.
func NewSchedule(t config.Train, total int64) Schedule {
	t = t.Resolve()
	lr := t.LearningRate
	switch {
	case total <= 0 || t.Schedule == "constant":
		return func(int64) float64 { return lr }
	case t.Schedule == "onecycle":
		return OneCycle(lr, total)
	}
	return func(step int64) float64 {
		frac := math.Min(1, float64(step)/float64(total))
		return lr / 2 * (1 + math.Cos(math.Pi*frac))
	}
}

// The one-cycle policy's shape (Smith's super-convergence, as fastai and PyTorch run it).
const (
	// OneCyclePctStart is the share of the steps spent warming up: fastai's fit_one_cycle
	// default (PyTorch's OneCycleLR uses 0.3). A quarter keeps more of a short run annealing.
	OneCyclePctStart = 0.25
	// OneCycleDiv: the warm-up starts at max/25 (both libraries).
	OneCycleDiv = 25.0
	// OneCycleFinalDiv: it ends at max/25/1e4 (PyTorch's; fastai's 1e5 differs by a 4e-8
	// fraction of the peak, which no run can tell apart).
	OneCycleFinalDiv = 1e4
)

// OneCycle is PyTorch's OneCycleLR with anneal_strategy "cos" over total steps, with
// OneCyclePctStart, OneCycleDiv and OneCycleFinalDiv: cosine up from max/div to max over
// the first pct*total-1 steps, then cosine down to max/div/finalDiv at step total-1.
// Unlike both libraries it cycles no momentum (Adam's beta1 stays 0.9, SGD's momentum
// stays put): the rate is the one value vggkit sets from the host each step.
func OneCycle(max float64, total int64) Schedule {
	start := max / OneCycleDiv
	end := start / OneCycleFinalDiv
	peak := OneCyclePctStart*float64(total) - 1 // PyTorch's phase boundary, a float.
	last := float64(total - 1)
	return func(step int64) float64 {
		s := math.Min(float64(step), last)
		if s <= peak && peak > 0 { // under 4/pct steps there is no warm-up: start at the peak.
			return annealCos(start, max, s/peak)
		}
		return annealCos(max, end, (s-peak)/(last-peak))
	}
}

// annealCos goes from a to b as pct goes from 0 to 1, along half a cosine.
func annealCos(a, b, pct float64) float64 {
	return b + (a-b)/2*(math.Cos(math.Pi*pct)+1)
}
