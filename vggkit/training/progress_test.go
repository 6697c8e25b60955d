package training

import (
	"strings"
	"testing"
	"time"
)

// The first step of a process compiles the graph: a scripted clock where it takes 90 s
// and every later step 0.5 s must give an ETA from the 0.5 s alone, and no ETA at all
// while only the first step has run.
func TestETAExcludesCompilingStep(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var r stepRate
	s := &State{Epoch: 1, Epochs: 1, TotalSteps: 101, Step: 1, StepTime: 90 * time.Second}
	per, ok := r.observe(1, t0.Add(90*time.Second))
	if ok {
		t.Fatalf("a rate (%s) after the compiling step alone", per)
	}
	line := progressLine(s, per, ok)
	if strings.Contains(line, "ETA 0s") || !strings.Contains(line, "compiling") || !strings.Contains(line, "1m30s") {
		t.Errorf("first line %q: want the compile time and no ETA", line)
	}
	end := t0.Add(90 * time.Second)
	for step := int64(2); step <= 21; step++ {
		end = end.Add(500 * time.Millisecond)
		per, ok = r.observe(step, end)
	}
	if !ok || per != 500*time.Millisecond {
		t.Fatalf("rate after 20 steps of 0.5 s: %s (ok %v), want 500ms", per, ok)
	}
	s.Step, s.StepTime = 21, 500*time.Millisecond
	if line = progressLine(s, per, ok); !strings.Contains(line, "ETA 40s") { // 80 steps left
		t.Errorf("line %q: want ETA 40s", line)
	}
}

// A resumed run starts counting at its own first step, not at step 0.
func TestETAFromResumedStep(t *testing.T) {
	t0 := time.Unix(0, 0)
	var r stepRate
	r.observe(500, t0)
	if per, ok := r.observe(504, t0.Add(2*time.Second)); !ok || per != 500*time.Millisecond {
		t.Errorf("per %s ok %v, want 500ms", per, ok)
	}
	if _, ok := r.observe(500, t0.Add(3*time.Second)); ok {
		t.Error("a step before the first one gave a rate")
	}
}
