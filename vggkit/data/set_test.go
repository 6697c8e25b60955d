package data

import (
	"bytes"
	"strings"
	"testing"
)

// OnlyClasses keeps the named classes' images, relabelled in the order given.
func TestOnlyClasses(t *testing.T) {
	s, err := Shapes10("test", 3)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.OnlyClasses([]string{"ring", "circle"})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Len() != 6 || len(sub.Classes) != 2 || sub.Classes[0] != "ring" {
		t.Fatalf("got %d images, classes %v; want 6, [ring circle]", sub.Len(), sub.Classes)
	}
	j := 0
	for i, l := range s.Labels {
		want := map[int32]int32{shRing: 0, shCircle: 1}
		nl, ok := want[l]
		if !ok {
			continue
		}
		if sub.Labels[j] != nl || !bytes.Equal(sub.Image(j), s.Image(i)) {
			t.Fatalf("image %d: label %d, want %d (or other pixels)", j, sub.Labels[j], nl)
		}
		j++
	}
	if _, err := s.OnlyClasses([]string{"hexagon"}); err == nil || !strings.Contains(err.Error(), `"hexagon"`) {
		t.Errorf("unknown class: %v", err)
	}
}
