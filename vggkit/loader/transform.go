package loader

// Host-side resize + crop + flip in one pass over uint8 HWC images.
//
// The resize is bilinear with half-pixel centres, as the graph's
// Interpolate(...).Bilinear().HalfPixelCenters(true) in vgg.Preprocess: output
// pixel o samples the input at c = (o+0.5)*in/out - 0.5 with the weights
// max(0, 1-|i-c|) of the (at most two) input pixels i around c, renormalised where
// c falls outside [0, in-1] (which amounts to clamping to the edge pixel). For
// upsampling this is also what PIL's (torchvision's) bilinear resize does.
//
// It is separable and in integers: a horizontal pass turns each input row into a
// row of the output width (weights in 1/256, exact in uint16), then each output row
// is a weighted sum of two of those rows (weights in 1/16384, uint32 sums), rounded.
// Crop offsets and the flip only re-index the precomputed taps: a padded crop is
// out(y, x) = R(y+dy, x+dx), zero outside R; a flip reads column W-1-x instead.

const (
	hBits = 8  // horizontal weights: 1/256.
	vBits = 14 // vertical weights: 1/16384.
)

// taps are, for each output position o along one axis, the two input positions and
// their weights (i0[o]*w0[o] + i1[o]*w1[o], weights summing to 1<<bits).
type taps struct {
	i0, i1 []int
	f      []float64 // weight of i1, in [0, 1].
}

func bilinearTaps(in, out int) taps {
	t := taps{i0: make([]int, out), i1: make([]int, out), f: make([]float64, out)}
	scale := float64(in) / float64(out)
	for o := range out {
		c := (float64(o)+0.5)*scale - 0.5
		i0 := int(c)
		if c < 0 {
			i0 = -1 // int() truncates towards zero.
		}
		f := c - float64(i0)
		switch {
		case in == 1 || i0+1 <= 0: // left of the first centre: the edge pixel.
			t.i0[o], t.i1[o], t.f[o] = 0, 0, 0
		case i0 >= in-1: // right of the last centre.
			t.i0[o], t.i1[o], t.f[o] = in-1, in-1, 0
		default:
			t.i0[o], t.i1[o], t.f[o] = i0, i0+1, f
		}
	}
	return t
}

// scratch is one worker's reusable memory.
type scratch struct {
	tmp      []uint16 // the horizontally resized input rows: inH x outW x C.
	c0, c1   []int    // per output column: byte offsets of the two input pixels.
	cw0, cw1 []uint16 // and their weights (both 0 for a padding column).
}

// resizeCropFlip writes into dst (outH x outW x c, outH = len(rows.i0)) the input
// image src (h x w x c) resized, shifted by (dy, dx) with zero fill, and flipped.
func resizeCropFlip(dst, src []uint8, h, w, c int, rows, cols taps, dy, dx int, flip bool, s *scratch) {
	outH, outW := len(rows.i0), len(cols.i0)
	rowBytes := outW * c
	// Column taps for this image (offset and flip folded in).
	s.c0, s.c1 = resize(s.c0, outW), resize(s.c1, outW)
	s.cw0, s.cw1 = resize(s.cw0, outW), resize(s.cw1, outW)
	for x := range outW {
		X := x
		if flip {
			X = outW - 1 - x
		}
		X += dx
		if X < 0 || X >= outW {
			s.c0[x], s.c1[x], s.cw0[x], s.cw1[x] = 0, 0, 0, 0
			continue
		}
		w1 := uint16(cols.f[X]*(1<<hBits) + 0.5)
		s.c0[x], s.c1[x] = cols.i0[X]*c, cols.i1[X]*c
		s.cw0[x], s.cw1[x] = 1<<hBits-w1, w1
	}
	// Horizontal pass over the input rows some output row uses.
	yLo, yHi := max(0, dy), min(outH, outH+dy) // resized rows R(Y) needed: Y in [yLo, yHi).
	rLo, rHi := h, -1
	if yLo < yHi {
		rLo, rHi = rows.i0[yLo], rows.i1[yHi-1]
	}
	s.tmp = resize(s.tmp, h*rowBytes)
	for r := rLo; r <= rHi; r++ {
		in := src[r*w*c : (r+1)*w*c]
		out := s.tmp[r*rowBytes : (r+1)*rowBytes]
		if c == 3 {
			hpass3(out, in, s.c0, s.c1, s.cw0, s.cw1)
			continue
		}
		for x := range outW {
			a, b := in[s.c0[x]:s.c0[x]+c], in[s.c1[x]:s.c1[x]+c]
			w0, w1 := uint32(s.cw0[x]), uint32(s.cw1[x])
			for k := range c {
				out[x*c+k] = uint16(w0*uint32(a[k]) + w1*uint32(b[k]))
			}
		}
	}
	// Vertical pass: each output row mixes two horizontally resized rows.
	for y := range outH {
		out := dst[y*rowBytes : (y+1)*rowBytes]
		Y := y + dy
		if Y < 0 || Y >= outH {
			clear(out)
			continue
		}
		w1 := uint32(rows.f[Y]*(1<<vBits) + 0.5)
		a := s.tmp[rows.i0[Y]*rowBytes : (rows.i0[Y]+1)*rowBytes]
		if w1 == 0 {
			for j := range out {
				out[j] = uint8((uint32(a[j]) + 1<<(hBits-1)) >> hBits)
			}
			continue
		}
		b := s.tmp[rows.i1[Y]*rowBytes : (rows.i1[Y]+1)*rowBytes]
		vpass(out, a, b, 1<<vBits-w1, w1)
	}
}

// hpass3 is the horizontal pass for 3 channels.
func hpass3(out []uint16, in []uint8, c0, c1 []int, cw0, cw1 []uint16) {
	out = out[:len(c0)*3]
	for x := range c0 {
		i, j := c0[x], c1[x]
		w0, w1 := uint32(cw0[x]), uint32(cw1[x])
		a, b := in[i:i+3:i+3], in[j:j+3:j+3]
		o := out[x*3 : x*3+3 : x*3+3]
		o[0] = uint16(w0*uint32(a[0]) + w1*uint32(b[0]))
		o[1] = uint16(w0*uint32(a[1]) + w1*uint32(b[1]))
		o[2] = uint16(w0*uint32(a[2]) + w1*uint32(b[2]))
	}
}

// vpass: out = round((w0*a + w1*b) / 2^(hBits+vBits)).
func vpass(out []uint8, a, b []uint16, w0, w1 uint32) {
	const shift = hBits + vBits
	a, b = a[:len(out)], b[:len(out)]
	for j := range out {
		out[j] = uint8((w0*uint32(a[j]) + w1*uint32(b[j]) + 1<<(shift-1)) >> shift)
	}
}
