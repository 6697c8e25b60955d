package data

import "math/rand/v2"

// Shapes10Masks returns, for each image of Shapes10(split, perClass), where its object
// lies: 96*96 values, row-major, true where at least half of the pixel is inside. The
// object is its whole region, not only the pixels drawn in the foreground colour: a ring
// with its hole, a stripe or checkerboard texture with its background stripes (the patch
// it fills). Masks come from the images' own random draws, so they match the images
// exactly; a CAM test measures how much of a map falls inside them.
func Shapes10Masks(split string, perClass int) ([][]bool, error) {
	set, err := Shapes10(split, perClass)
	if err != nil {
		return nil, err
	}
	// Shapes10 resolved the split's seed and size; the draws are repeated per image.
	var seed uint64 = shapesTrainSeed
	if split == "test" {
		seed = shapesTestSeed
	}
	nc := len(shapes10Classes)
	masks := make([][]bool, set.Len())
	parallelFor(len(masks), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			pcg := rand.NewPCG(splitmix64(seed), splitmix64(seed^splitmix64(uint64(i)+1)))
			masks[i] = objectMask(drawScene(rand.New(pcg), i%nc).g)
		}
	})
	return masks, nil
}

// objectMask is the pixels at least half inside the object's region (g.cls's outline:
// a ring is filled, a texture is its patch).
func objectMask(g shapeGeom) []bool {
	switch g.cls {
	case shRing:
		g.cls = shCircle
	case shHStripes, shVStripes, shChecker:
		g.cls = shPatch
	}
	var cover [shapesSide * shapesSide]uint8
	g.coverage(&cover)
	mask := make([]bool, len(cover))
	for i, c := range cover {
		mask[i] = c >= 2
	}
	return mask
}
