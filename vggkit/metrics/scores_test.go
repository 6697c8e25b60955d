package metrics

import (
	"math"
	"slices"
	"testing"
)

func TestSoftmax(t *testing.T) {
	p := Softmax([]float32{1, 2, 3})
	e1, e2, e3 := math.Exp(1), math.Exp(2), math.Exp(3)
	want := []float64{e1 / (e1 + e2 + e3), e2 / (e1 + e2 + e3), e3 / (e1 + e2 + e3)}
	for i := range want {
		if math.Abs(p[i]-want[i]) > 1e-12 {
			t.Errorf("p[%d] = %g, want %g", i, p[i], want[i])
		}
	}
	// Stable: logits far beyond exp's range still give probabilities.
	p = Softmax([]float32{1000, 1000, -1000})
	if p[0] != 0.5 || p[1] != 0.5 || p[2] != 0 {
		t.Errorf("large logits: %v, want [0.5 0.5 0]", p)
	}
}

func TestTopK(t *testing.T) {
	probs := []float64{0.1, 0.4, 0.1, 0.3, 0.1}
	if got := TopK(probs, 3); !slices.Equal(got, []int{1, 3, 0}) {
		t.Errorf("top 3: %v, want [1 3 0] (ties in index order)", got)
	}
	if got := TopK(probs, 9); len(got) != 5 || got[0] != 1 {
		t.Errorf("top 9 of 5: %v", got)
	}
	if got := TopK(probs, 0); len(got) != 0 {
		t.Errorf("top 0: %v", got)
	}
	// The first of TopK is ArgMax's choice.
	row := []float32{-2, 5, 5, 1}
	if TopK(Softmax(row), 1)[0] != int(ArgMax([][]float32{row})[0]) {
		t.Error("TopK(1) and ArgMax disagree")
	}
}

func TestConfidentMistakes(t *testing.T) {
	logits := [][]float32{
		{5, 0, 0},   // right (label 0).
		{0, 3, 0},   // wrong: pred 1, fairly sure.
		{0, 0, 9},   // wrong: pred 2, very sure.
		{1, 1.5, 0}, // wrong: pred 1, unsure.
	}
	labels := []int32{0, 0, 1, 0}
	ms := ConfidentMistakes(logits, labels, 2)
	if len(ms) != 2 || ms[0].Index != 2 || ms[0].Pred != 2 || ms[1].Index != 1 || ms[1].Pred != 1 {
		t.Fatalf("mistakes %+v, want images 2 then 1", ms)
	}
	if want := Softmax(logits[2])[2]; ms[0].Prob != want || ms[0].Prob <= ms[1].Prob {
		t.Errorf("probabilities %g, %g; want %g first, decreasing", ms[0].Prob, ms[1].Prob, want)
	}
	if all := ConfidentMistakes(logits, labels, 10); len(all) != 3 {
		t.Errorf("%d mistakes, want 3", len(all))
	}
}
