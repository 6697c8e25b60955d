// Package metrics computes classification results on the host from the model's
// outputs: overall and per-class accuracy over every test image and the confusion
// matrix (as text and JSON), and per image the softmax, the predicted class (ArgMax),
// the top-k classes and the mistakes the model was surest of.
package metrics

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
)

// Report is the result of evaluating a classifier on a labelled split.
type Report struct {
	Dataset  string     `json:"dataset"`
	Classes  []string   `json:"classes"`
	Total    int        `json:"total"`   // images counted: all of the split.
	Correct  int        `json:"correct"` // images classified right.
	Accuracy float64    `json:"accuracy"`
	PerClass []ClassAcc `json:"per_class"`
	// Confusion[t][p] counts images of true class t predicted as p.
	Confusion [][]int `json:"confusion"`
}

// ClassAcc is one class's accuracy (recall: the fraction of its images classified right).
type ClassAcc struct {
	Class    string  `json:"class"`
	Total    int     `json:"total"`
	Correct  int     `json:"correct"`
	Accuracy float64 `json:"accuracy"`
}

// Compute builds a report from true and predicted labels (same length, values in [0, len(classes))).
func Compute(dataset string, classes []string, truth, pred []int32) (*Report, error) {
	if len(truth) != len(pred) {
		return nil, fmt.Errorf("metrics: %d true labels but %d predictions", len(truth), len(pred))
	}
	n := len(classes)
	r := &Report{Dataset: dataset, Classes: classes, Total: len(truth), Confusion: make([][]int, n)}
	for i := range r.Confusion {
		r.Confusion[i] = make([]int, n)
	}
	for i := range truth {
		t, p := truth[i], pred[i]
		if t < 0 || int(t) >= n {
			return nil, fmt.Errorf("metrics: true label %d at index %d out of range [0, %d)", t, i, n)
		}
		if p < 0 || int(p) >= n {
			return nil, fmt.Errorf("metrics: predicted label %d at index %d out of range [0, %d)", p, i, n)
		}
		r.Confusion[t][p]++
		if t == p {
			r.Correct++
		}
	}
	if r.Total > 0 {
		r.Accuracy = float64(r.Correct) / float64(r.Total)
	}
	for c := range n {
		ca := ClassAcc{Class: classes[c], Correct: r.Confusion[c][c]}
		for _, v := range r.Confusion[c] {
			ca.Total += v
		}
		if ca.Total > 0 {
			ca.Accuracy = float64(ca.Correct) / float64(ca.Total)
		}
		r.PerClass = append(r.PerClass, ca)
	}
	return r, nil
}

// Table renders the overall and per-class accuracy as text, as the tutorial printed it
// (but over the whole split).
func (r *Report) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Accuracy of the network on the %d test images (%s): %.2f %%\n", r.Total, r.Dataset, 100*r.Accuracy)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "class\tcorrect\ttotal\taccuracy")
	for _, c := range r.PerClass {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%6.2f %%\n", c.Class, c.Correct, c.Total, 100*c.Accuracy)
	}
	tw.Flush()
	return b.String()
}

// ConfusionTable renders the confusion matrix (rows: true class, columns: predicted).
func (r *Report) ConfusionTable() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "true \\ pred\t")
	for _, c := range r.Classes {
		fmt.Fprintf(tw, "%s\t", abbrev(c))
	}
	fmt.Fprintln(tw)
	for t, row := range r.Confusion {
		fmt.Fprintf(tw, "%s\t", r.Classes[t])
		for _, v := range row {
			fmt.Fprintf(tw, "%d\t", v)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	return b.String()
}

func abbrev(s string) string {
	if len(s) > 6 {
		return s[:6]
	}
	return s
}

// JSON is the report as indented JSON.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// MostConfused lists the off-diagonal pairs (true, predicted, count), largest first (fastai's most_confused).
func (r *Report) MostConfused(minCount int) [][3]int {
	var out [][3]int
	for t, row := range r.Confusion {
		for p, v := range row {
			if t != p && v >= minCount && v > 0 {
				out = append(out, [3]int{t, p, v})
			}
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j][2] > out[j-1][2]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
