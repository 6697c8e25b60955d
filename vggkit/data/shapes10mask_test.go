package data

import (
	"math"
	"testing"
)

// A mask is where its image's object is: for the solid shapes the mean colour inside it
// is far from the mean outside (foreground and background are at least 110 apart), and
// the same mask moved off the object by 12 px separates the colours much less.
func TestShapes10MasksMatchTheImages(t *testing.T) {
	set, err := Shapes10("test", 3)
	if err != nil {
		t.Fatal(err)
	}
	masks, err := Shapes10Masks("test", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(masks) != set.Len() {
		t.Fatalf("%d masks for %d images", len(masks), set.Len())
	}
	for i, m := range masks {
		area := 0
		for _, in := range m {
			if in {
				area++
			}
		}
		if f := float64(area) / float64(len(m)); f < 0.03 || f > 0.6 {
			t.Errorf("image %d (%s): mask covers %.2f of the image", i, set.Classes[set.Labels[i]], f)
		}
		if set.Labels[i] > shCross {
			continue // ring and textures: their region holds background colour too.
		}
		on, off := contrast(set.Image(i), m, 0), contrast(set.Image(i), m, 12)
		if on < 70 || off > on*0.75 {
			t.Errorf("image %d (%s): colour contrast across the mask %.0f, across it moved 12 px %.0f", i,
				set.Classes[set.Labels[i]], on, off)
		}
	}
}

// contrast is the distance between the mean colours inside and outside the mask moved
// right by dx pixels (wrapping around).
func contrast(img []uint8, mask []bool, dx int) float64 {
	var sum [2][3]float64
	var n [2]float64
	for p := range mask {
		y, x := p/shapesSide, p%shapesSide
		k := 0
		if mask[y*shapesSide+(x+shapesSide-dx)%shapesSide] {
			k = 1
		}
		n[k]++
		for c := range 3 {
			sum[k][c] += float64(img[3*p+c])
		}
	}
	d2 := 0.0
	for c := range 3 {
		d := sum[1][c]/n[1] - sum[0][c]/n[0]
		d2 += d * d
	}
	return math.Sqrt(d2)
}
