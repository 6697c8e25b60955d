package data

import (
	"image"
	"image/color"
	"math"
)

// The folder reader's resampling: shorter side to size, then a centre crop (as
// torchvision's Resize(size) + CenterCrop(size)), computed directly as one
// resampling of the centred square, each axis separately. Shrinking averages
// the source pixels each output pixel covers (area filter: no aliasing at any
// ratio); enlarging interpolates linearly between pixel centres.

// axisWeights says, for each output pixel along one axis, which source pixels
// (first, first+1, ...) contribute and with what weights (summing to 1).
type axisWeights struct {
	first []int
	w     [][]float32
}

// resampleAxis maps the source interval [off, off+span) onto out pixels.
// Source indices are clamped to [0, n).
func resampleAxis(n int, off, span float64, out int) axisWeights {
	aw := axisWeights{first: make([]int, out), w: make([][]float32, out)}
	scale := span / float64(out) // source pixels per output pixel.
	for i := range out {
		if scale >= 1 { // area: coverage of each source pixel by [a, b).
			a, b := off+float64(i)*scale, off+float64(i+1)*scale
			lo, hi := int(math.Floor(a)), int(math.Ceil(b))
			ws := make([]float32, 0, hi-lo)
			for p := lo; p < hi; p++ {
				ws = append(ws, float32((min(b, float64(p+1))-max(a, float64(p)))/scale))
			}
			aw.first[i], aw.w[i] = lo, ws
			continue
		}
		c := off + (float64(i)+0.5)*scale - 0.5 // bilinear between the two nearest centres.
		c = min(max(c, 0), float64(n-1))
		lo := int(math.Floor(c))
		f := float32(c - float64(lo))
		aw.first[i], aw.w[i] = lo, []float32{1 - f, f}
	}
	// Clamp: indices outside the image (rounding at the edges) repeat the edge pixel.
	for i := range aw.first {
		if aw.first[i] < 0 {
			aw.first[i] = 0 // only from rounding: the weight is ~0 or lands on pixel 0 anyway.
		}
		for aw.first[i]+len(aw.w[i]) > n {
			last := len(aw.w[i]) - 1
			if last == 0 {
				aw.first[i] = n - 1
				break
			}
			aw.w[i][last-1] += aw.w[i][last]
			aw.w[i] = aw.w[i][:last]
		}
	}
	return aw
}

// toRGB converts the box [x0, x1) x [y0, y1) of img into packed RGB bytes.
// Alpha is dropped without compositing, as PIL's convert("RGB") does.
func toRGB(img image.Image, x0, y0, x1, y1 int) []uint8 {
	w, h := x1-x0, y1-y0
	out := make([]uint8, 3*w*h)
	b := img.Bounds()
	switch m := img.(type) {
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				px, py := b.Min.X+x0+x, b.Min.Y+y0+y
				yi, ci := m.YOffset(px, py), m.COffset(px, py)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				o := 3 * (y*w + x)
				out[o], out[o+1], out[o+2] = r, g, bl
			}
		}
	case *image.Gray:
		for y := range h {
			row := m.Pix[m.PixOffset(b.Min.X+x0, b.Min.Y+y0+y):]
			for x := range w {
				v := row[x]
				o := 3 * (y*w + x)
				out[o], out[o+1], out[o+2] = v, v, v
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[m.PixOffset(b.Min.X+x0, b.Min.Y+y0+y):]
			for x := range w {
				o := 3 * (y*w + x)
				out[o], out[o+1], out[o+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.RGBA:
		for y := range h {
			row := m.Pix[m.PixOffset(b.Min.X+x0, b.Min.Y+y0+y):]
			for x := range w {
				o := 3 * (y*w + x)
				out[o], out[o+1], out[o+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	default:
		for y := range h {
			for x := range w {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x0+x, b.Min.Y+y0+y)).(color.NRGBA)
				o := 3 * (y*w + x)
				out[o], out[o+1], out[o+2] = c.R, c.G, c.B
			}
		}
	}
	return out
}

// resizeCentreCrop writes img, shorter side scaled to size/crop and centre-cropped to size
// x size (crop 1: the whole shorter side), into dst as HWC with c channels (3: RGB; 1:
// grey, weighted as PIL's convert("L")).
func resizeCentreCrop(img image.Image, size, c int, crop float64, dst []uint8) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	side := float64(min(w, h)) * crop
	offX, offY := (float64(w)-side)/2, (float64(h)-side)/2
	ax := resampleAxis(w, offX, side, size)
	ay := resampleAxis(h, offY, side, size)
	// Convert only the source box the weights touch.
	x0, x1 := ax.first[0], ax.first[size-1]+len(ax.w[size-1])
	y0, y1 := ay.first[0], ay.first[size-1]+len(ay.w[size-1])
	src := toRGB(img, x0, y0, x1, y1)
	sw := x1 - x0
	// Horizontal pass over every needed source row, then vertical.
	rows := make([]float32, (y1-y0)*size*3)
	for y := range y1 - y0 {
		srow := src[y*sw*3:]
		drow := rows[y*size*3:]
		for i := range size {
			var r, g, bl float32
			for k, wt := range ax.w[i] {
				p := 3 * (ax.first[i] - x0 + k)
				r += wt * float32(srow[p])
				g += wt * float32(srow[p+1])
				bl += wt * float32(srow[p+2])
			}
			drow[3*i], drow[3*i+1], drow[3*i+2] = r, g, bl
		}
	}
	for j := range size {
		for i := range size {
			var r, g, bl float32
			for k, wt := range ay.w[j] {
				p := ((ay.first[j]-y0+k)*size + i) * 3
				r += wt * rows[p]
				g += wt * rows[p+1]
				bl += wt * rows[p+2]
			}
			if c == 1 {
				dst[j*size+i] = clampByte(0.299*r + 0.587*g + 0.114*bl)
				continue
			}
			o := 3 * (j*size + i)
			dst[o], dst[o+1], dst[o+2] = clampByte(r), clampByte(g), clampByte(bl)
		}
	}
}

func clampByte(v float32) uint8 {
	return uint8(min(max(v+0.5, 0), 255))
}
