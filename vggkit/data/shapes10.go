package data

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
)

const (
	shapesSide      = 96
	shapesTrainSeed = 0x5ea9e510_7a11
	shapesTestSeed  = 0x7e57_5ea9e510
	shapesTrainPer  = 500
	shapesTestPer   = 100
)

var shapes10Classes = []string{
	"circle", "square", "triangle", "diamond", "star",
	"cross", "ring", "horizontal stripes", "vertical stripes", "checkerboard",
}

// Class indices, in the order of shapes10Classes.
const (
	shCircle = iota
	shSquare
	shTriangle
	shDiamond
	shStar
	shCross
	shRing
	shHStripes
	shVStripes
	shChecker
	shPatch // not a class: the square patch a texture fills (Shapes10Masks).
)

// Shapes10Classes returns the class names of Shapes10 (index = label).
func Shapes10Classes() []string { return append([]string(nil), shapes10Classes...) }

// Shapes10 is the dataset that needs no download: 10 classes of 96x96 RGB
// images (the size of STL-10, so the same model and pipeline run on both),
// drawn in Go from a fixed seed, so that the tutorial, the tests and an offline
// machine always have something real to train on.
//
// The class is only in the shape (or texture) of the object, never in where it
// is, how big it is or what colour it has: foreground and background colours
// come from one symmetric distribution, so every pixel has the same expected
// value in every class, and templates on raw pixels (a linear model) stay near
// chance, while a small CNN, which sees edges and corners, learns it. Lighting
// gradients, a slow wave and per-pixel noise keep the background from being flat.
//
// split is "train" (default 500 images per class) or "test" (default 100 per
// class, from another seed, so no test image is a train image); perClass <= 0
// means the default. Image i has label i%10. The images are the same on every
// machine and for any number of CPUs: image i depends only on the split's seed
// and i, so a larger perClass only adds images at the end.
func Shapes10(split string, perClass int) (*Set, error) {
	var seed uint64
	switch split {
	case "train":
		seed = shapesTrainSeed
		if perClass <= 0 {
			perClass = shapesTrainPer
		}
	case "test":
		seed = shapesTestSeed
		if perClass <= 0 {
			perClass = shapesTestPer
		}
	default:
		return nil, fmt.Errorf("Shapes10: unknown split %q: want train or test", split)
	}
	n := perClass * len(shapes10Classes)
	s := &Set{
		Name:    "Shapes10 (embedded) " + split,
		Classes: Shapes10Classes(),
		H:       shapesSide, W: shapesSide, C: 3,
		Pixels: make([]uint8, n*shapesSide*shapesSide*3),
		Labels: make([]int32, n),
	}
	nc := len(shapes10Classes)
	parallelFor(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s.Labels[i] = int32(i % nc)
			pcg := rand.NewPCG(splitmix64(seed), splitmix64(seed^splitmix64(uint64(i)+1)))
			drawShape(s.Image(i), i%nc, pcg)
		}
	})
	return s, nil
}

// splitmix64 scrambles a counter into a well-mixed seed, so that neighbouring
// images get unrelated random streams.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// shapeGeom is one object: its class, centre, radius in pixels, rotation and,
// for textures, the period (in units of the radius) and phases.
type shapeGeom struct {
	cls            int
	cx, cy, r      float32
	cos, sin       float32
	period         float32
	phaseU, phaseV float32
}

// uniform returns a float32 in [lo, hi).
func uniform(rng *rand.Rand, lo, hi float32) float32 { return lo + (hi-lo)*rng.Float32() }

// scene is what an image's random draws decide before the noise: the colours, the
// lighting and the object's geometry.
type scene struct {
	fg, bg         [3]float32
	lightX, lightY [shapesSide]float32
	g              shapeGeom
}

// drawShape draws one image of class cls into img (96x96x3 HWC).
func drawShape(img []uint8, cls int, pcg *rand.PCG) {
	sc := drawScene(rand.New(pcg), cls)
	var cover [shapesSide * shapesSide]uint8
	sc.g.coverage(&cover)
	sc.paint(img, &cover, pcg)
}

// drawScene makes the scene's random draws, in the order the images were always drawn
// (changing it would change every image).
func drawScene(rng *rand.Rand, cls int) (sc scene) {
	// Two colours far enough apart to see the shape; which is foreground is part
	// of the symmetric draw, so colour says nothing about the class.
	fg, bg := &sc.fg, &sc.bg
	for {
		var d2 float32
		for c := range 3 {
			fg[c] = uniform(rng, 0, 256)
			bg[c] = uniform(rng, 0, 256)
			d2 += (fg[c] - bg[c]) * (fg[c] - bg[c])
		}
		if d2 >= 110*110 {
			break
		}
	}

	// Lighting over the whole image: a linear gradient plus a slow wave along x
	// and one along y. Kept separable (a table per axis) so it costs nothing.
	lightX, lightY := &sc.lightX, &sc.lightY
	amp := uniform(rng, 0, 35)
	ang := uniform(rng, 0, 2*math.Pi)
	gx, gy := amp*float32(math.Cos(float64(ang))), amp*float32(math.Sin(float64(ang)))
	wax, way := uniform(rng, 0, 14), uniform(rng, 0, 14)
	wlx, wly := uniform(rng, 40, 160), uniform(rng, 40, 160)
	wpx, wpy := uniform(rng, 0, 2*math.Pi), uniform(rng, 0, 2*math.Pi)
	for i := range shapesSide {
		t := (float32(i) - 47.5) / 48
		lightX[i] = gx*t + wax*float32(math.Sin(2*math.Pi*float64(i)/float64(wlx)+float64(wpx)))
		lightY[i] = gy*t + way*float32(math.Sin(2*math.Pi*float64(i)/float64(wly)+float64(wpy)))
	}

	// Geometry: the same size and position distribution for every class.
	g := shapeGeom{cls: cls, r: uniform(rng, 16, 34)}
	margin := 1.05 * g.r
	g.cx = uniform(rng, margin, shapesSide-margin)
	g.cy = uniform(rng, margin, shapesSide-margin)
	var rot float32
	const deg = math.Pi / 180
	switch cls {
	case shSquare, shDiamond:
		// Limited rotation keeps square (corners at 45 deg) and diamond (corners on
		// the axes) apart.
		rot = uniform(rng, -15*deg, 15*deg)
	case shHStripes, shVStripes, shChecker:
		rot = uniform(rng, -12*deg, 12*deg)
	default:
		rot = uniform(rng, 0, 2*math.Pi)
	}
	g.cos, g.sin = float32(math.Cos(float64(rot))), float32(math.Sin(float64(rot)))
	g.period = uniform(rng, 4, 8) / g.r // one stripe (or check) is 4..8 px wide.
	g.phaseU, g.phaseV = rng.Float32(), rng.Float32()
	sc.g = g
	return sc
}

// coverage adds, for each pixel of a zeroed cover, how many of its 2x2 sub-samples fall
// inside the object (soft edges, like a photographed object). Only the bounding box
// (radius 1.05 r covers every class) is visited; u, v advance incrementally along a row.
func (g shapeGeom) coverage(cover *[shapesSide * shapesSide]uint8) {
	margin := 1.05 * g.r
	x0 := max(0, int(g.cx-margin)-1)
	x1 := min(shapesSide, int(g.cx+margin)+2)
	y0 := max(0, int(g.cy-margin)-1)
	y1 := min(shapesSide, int(g.cy+margin)+2)
	inv := 1 / g.r
	du, dv := inv*g.cos, -inv*g.sin
	for y := y0; y < y1; y++ {
		cov := cover[y*shapesSide+x0 : y*shapesSide+x1]
		for _, sy := range [2]float32{0.25, 0.75} {
			dy := (float32(y) + sy - g.cy) * inv
			for _, sx := range [2]float32{0.25, 0.75} {
				dx := (float32(x0) + sx - g.cx) * inv
				u, v := dx*g.cos+dy*g.sin, -dx*g.sin+dy*g.cos
				g.coverRow(cov, u, v, du, dv)
			}
		}
	}
}

// paint colours the image from the coverage, with the scene's lighting and noise from pcg.
func (sc *scene) paint(img []uint8, cover *[shapesSide * shapesSide]uint8, pcg *rand.PCG) {
	fg, bg := sc.fg, sc.bg
	// Colour for each coverage 0..4, lighting per row and column, and a noise
	// table, all integer so the per-pixel work is a few adds and a clamp.
	var base [5][3]int32
	for h := range 5 {
		for c := range 3 {
			base[h][c] = int32(math.Round(float64(bg[c] + float32(h)/4*(fg[c]-bg[c]))))
		}
	}
	var lx, ly [shapesSide]int32
	for i := range shapesSide {
		lx[i] = int32(math.Round(float64(sc.lightX[i])))
		ly[i] = int32(math.Round(float64(sc.lightY[i])))
	}
	var noise [shapesSide * 3]uint8
	for y := range shapesSide {
		// Noise bytes for the row, 8 per random draw.
		for k := 0; k < len(noise); k += 8 {
			binary.LittleEndian.PutUint64(noise[k:k+8], pcg.Uint64())
		}
		row := img[y*shapesSide*3 : (y+1)*shapesSide*3]
		cov := cover[y*shapesSide : (y+1)*shapesSide]
		lyy := ly[y]
		for x, h := range cov {
			b := &base[h%5]
			l := lx[x] + lyy
			j := 3 * x
			px := row[j : j+3 : j+3]
			nz := noise[j : j+3 : j+3]
			px[0] = uint8(min(max(b[0]+l+noiseTable[nz[0]], 0), 255))
			px[1] = uint8(min(max(b[1]+l+noiseTable[nz[1]], 0), 255))
			px[2] = uint8(min(max(b[2]+l+noiseTable[nz[2]], 0), 255))
		}
	}
}

// noiseTable maps a random byte to pixel noise in [-18, 18].
var noiseTable = func() (t [256]int32) {
	for i := range t {
		t[i] = int32(math.Round((float64(i)/255*2 - 1) * 18))
	}
	return t
}()

// Star and triangle are intersections of half-planes p.n <= d, with the unit
// normals n pointing at the corners (triangle: away from them): a triangle is
// inside all 3, a five-pointed star (pentagram) inside at least 4 of its 5
// lines. Dot products only, no trigonometry per sample.
var (
	starNormals     = unitNormals(5, -90)
	triangleNormals = unitNormals(3, 90)
)

const (
	starD     = 0.30901699 // cos 72 deg: the pentagram's lines, tips at radius 1.
	triangleD = 0.5        // sides of the triangle inscribed in the unit circle.
)

func unitNormals(n int, startDeg float64) [][2]float32 {
	out := make([][2]float32, n)
	for k := range out {
		a := (startDeg + float64(k)*360/float64(n)) * math.Pi / 180
		out[k] = [2]float32{float32(math.Cos(a)), float32(math.Sin(a))}
	}
	return out
}

// halfPlanes counts the half-planes p.n <= d that hold (u, v).
func halfPlanes(u, v float32, normals [][2]float32, d float32) int {
	k := 0
	for _, n := range normals {
		if u*n[0]+v*n[1] <= d {
			k++
		}
	}
	return k
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// floorEven reports whether floor(x) is even, for |x| < 1000 (stripe counts
// are small): shifting by an even 1024 makes truncation a floor.
func floorEven(x float32) bool {
	return int(x+1024)&1 == 0
}

// coverRow adds, for each pixel of cov, 1 if the sub-sample at local (u, v) is
// inside the object, stepping (u, v) by (du, dv) per pixel. One loop per class
// keeps the per-sample test inlined: this loop is most of the generation time.
func (g *shapeGeom) coverRow(cov []uint8, u, v, du, dv float32) {
	const patch = 0.85 // half-side of the texture patches.
	switch g.cls {
	case shCircle:
		for i := range cov {
			if u*u+v*v <= 1 {
				cov[i]++
			}
			u, v = u+du, v+dv
		}
	case shRing:
		for i := range cov {
			if d := u*u + v*v; d <= 1 && d >= 0.55*0.55 {
				cov[i]++
			}
			u, v = u+du, v+dv
		}
	case shSquare:
		for i := range cov {
			if abs32(u) <= 0.78 && abs32(v) <= 0.78 {
				cov[i]++
			}
			u, v = u+du, v+dv
		}
	case shDiamond:
		for i := range cov {
			if abs32(u)+abs32(v) <= 1 {
				cov[i]++
			}
			u, v = u+du, v+dv
		}
	case shCross:
		for i := range cov {
			au, av := abs32(u), abs32(v)
			if (au <= 0.28 && av <= 1) || (av <= 0.28 && au <= 1) {
				cov[i]++
			}
			u, v = u+du, v+dv
		}
	case shTriangle:
		for i := range cov {
			if halfPlanes(u, v, triangleNormals, triangleD) == 3 {
				cov[i]++
			}
			u, v = u+du, v+dv
		}
	case shStar:
		for i := range cov {
			if u*u+v*v <= 1 && halfPlanes(u, v, starNormals, starD) >= 4 {
				cov[i]++
			}
			u, v = u+du, v+dv
		}
	case shPatch:
		for i := range cov {
			if abs32(u) <= patch && abs32(v) <= patch {
				cov[i]++
			}
			u, v = u+du, v+dv
		}
	case shHStripes, shVStripes, shChecker:
		p := 1 / g.period
		for i := range cov {
			if abs32(u) <= patch && abs32(v) <= patch {
				eu, ev := floorEven(u*p+g.phaseU), floorEven(v*p+g.phaseV)
				if (g.cls == shHStripes && ev) || (g.cls == shVStripes && eu) || (g.cls == shChecker && eu == ev) {
					cov[i]++
				}
			}
			u, v = u+du, v+dv
		}
	}
}
