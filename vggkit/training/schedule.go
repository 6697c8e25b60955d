package training

import (
	"math"

	"github.com/vggkit/vggkit/vggkit/config"
)

// Schedule gives the learning rate for the step about to run (0-based global step).
type Schedule func(step int64) float64

// NewSchedule is the one place a run's learning rate is worked out: t.Schedule over
// total steps. "cosine" is PyTorch's CosineAnnealingLR to 0 over the whole run
// (lr/2 * (1 + cos(pi * step / total))); "constant" keeps t.LearningRate.
func NewSchedule(t config.Train, total int64) Schedule {
	t = t.Resolve()
	lr := t.LearningRate
	if t.Schedule != "cosine" || total <= 0 {
		return func(int64) float64 { return lr }
	}
	return func(step int64) float64 {
		frac := math.Min(1, float64(step)/float64(total))
		return lr / 2 * (1 + math.Cos(math.Pi*frac))
	}
}
