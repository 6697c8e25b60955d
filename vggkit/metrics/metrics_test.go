package metrics

import (
	"encoding/json"
	"strings"
	"testing"
)

// A hand-built case: 3 classes; truth and predictions chosen so every count is known.
func TestComputeKnownCase(t *testing.T) {
	classes := []string{"cat", "dog", "ship"}
	truth := []int32{0, 0, 0, 0, 1, 1, 1, 2, 2, 2}
	pred := []int32{0, 0, 1, 2, 1, 1, 0, 2, 2, 2}
	r, err := Compute("toy", classes, truth, pred)
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 10 || r.Correct != 7 || r.Accuracy != 0.7 {
		t.Errorf("total/correct/acc = %d/%d/%g, want 10/7/0.7", r.Total, r.Correct, r.Accuracy)
	}
	wantConf := [][]int{{2, 1, 1}, {1, 2, 0}, {0, 0, 3}}
	for i := range wantConf {
		for j := range wantConf[i] {
			if r.Confusion[i][j] != wantConf[i][j] {
				t.Errorf("confusion[%d][%d] = %d, want %d", i, j, r.Confusion[i][j], wantConf[i][j])
			}
		}
	}
	wantAcc := []float64{0.5, 2.0 / 3.0, 1}
	for i, c := range r.PerClass {
		if c.Accuracy != wantAcc[i] || c.Class != classes[i] {
			t.Errorf("class %d: %+v, want accuracy %g", i, c, wantAcc[i])
		}
	}
	if !strings.Contains(r.Table(), "70.00 %") || !strings.Contains(r.Table(), "10 test images") {
		t.Errorf("table:\n%s", r.Table())
	}
	mc := r.MostConfused(1)
	if len(mc) != 3 || mc[0][2] != 1 {
		t.Errorf("most confused: %v", mc)
	}
	js, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js, &back); err != nil || back.Correct != 7 || back.Confusion[2][2] != 3 {
		t.Errorf("JSON round trip: %v %+v", err, back)
	}
}

// The tutorial's bug: counting only the first 4 images of each batch. Compute counts all.
func TestEveryImageCounts(t *testing.T) {
	n := 1003
	truth := make([]int32, n)
	pred := make([]int32, n)
	for i := range truth {
		truth[i] = int32(i % 10)
		pred[i] = int32(i % 10)
		if i >= 1000 {
			pred[i] = int32((i + 1) % 10)
		}
	}
	classes := make([]string, 10)
	for i := range classes {
		classes[i] = string(rune('a' + i))
	}
	r, err := Compute("x", classes, truth, pred)
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 1003 || r.Correct != 1000 {
		t.Errorf("total %d correct %d", r.Total, r.Correct)
	}
}

func TestComputeErrors(t *testing.T) {
	if _, err := Compute("x", []string{"a", "b"}, []int32{0, 1}, []int32{0}); err == nil {
		t.Error("length mismatch accepted")
	}
	if _, err := Compute("x", []string{"a", "b"}, []int32{0, 2}, []int32{0, 1}); err == nil || !strings.Contains(err.Error(), "index 1") {
		t.Errorf("out-of-range label: %v", err)
	}
}

func TestArgMax(t *testing.T) {
	got := ArgMax([][]float32{{0.1, 0.7, 0.2}, {3, -1, 2}, {-5, -4, -3}})
	want := []int32{1, 0, 2}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %d, want %d", i, got[i], want[i])
		}
	}
}
