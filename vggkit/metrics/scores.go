package metrics

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// Softmax is the softmax of one row of logits, computed stably (the largest logit is
// subtracted before exponentiating).
func Softmax(row []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v))
	}
	out := make([]float64, len(row))
	var sum float64
	for i, v := range row {
		out[i] = math.Exp(float64(v) - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// ArgMax returns the predicted class of each row of logits (or probabilities): the
// index of its largest value, the first one on a tie.
func ArgMax(rows [][]float32) []int32 {
	out := make([]int32, len(rows))
	for i, row := range rows {
		out[i] = int32(argMax(row))
	}
	return out
}

// argMax is the index of the largest value of row (the first on a tie; 0 when empty).
func argMax[T cmp.Ordered](row []T) int {
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	return best
}

// TopK returns the indices of the k largest probabilities, largest first (equal ones
// in index order); all of them when k >= len(probs).
func TopK(probs []float64, k int) []int {
	idx := make([]int, len(probs))
	for j := range idx {
		idx[j] = j
	}
	sort.SliceStable(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
	return idx[:max(0, min(k, len(idx)))]
}

// Mistake is a wrongly classified image and how sure the model was.
type Mistake struct {
	Index int     // image index in the set.
	Pred  int32   // predicted class.
	Prob  float64 // softmax probability of the predicted class.
}

// ConfidentMistakes returns the n wrong predictions the model was most sure of (fastai's
// top losses, restricted to errors), most confident first. logits has one row per
// image, labels the true classes.
func ConfidentMistakes(logits [][]float32, labels []int32, n int) []Mistake {
	var out []Mistake
	for i, row := range logits {
		best := argMax(row)
		if int32(best) != labels[i] {
			out = append(out, Mistake{Index: i, Pred: int32(best), Prob: Softmax(row)[best]})
		}
	}
	slices.SortStableFunc(out, func(a, b Mistake) int { return cmp.Compare(b.Prob, a.Prob) })
	return out[:min(n, len(out))]
}
