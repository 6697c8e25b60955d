package plotting

import (
	"fmt"
	"image"
	"math"
)

// checkShape validates an N x H x W x C batch and returns its element count.
// Only 1 (grey) and 3 (RGB) channels are accepted because those are the only
// layouts the datasets produce; anything else is almost surely a CHW/HWC mixup.
func checkShape(length, n, h, w, c int) error {
	if n <= 0 || h <= 0 || w <= 0 {
		return fmt.Errorf("plotting: invalid image batch shape n=%d h=%d w=%d c=%d", n, h, w, c)
	}
	if c != 1 && c != 3 {
		return fmt.Errorf("plotting: %d channels not supported (want 1 or 3, HWC layout)", c)
	}
	per := h * w * c
	if per/h/w != c || per*n/n != per {
		return fmt.Errorf("plotting: image batch shape n=%d h=%d w=%d c=%d overflows", n, h, w, c)
	}
	if length != n*per {
		return fmt.Errorf("plotting: got %d values, want n*h*w*c = %d*%d*%d*%d = %d", length, n, h, w, c, n*per)
	}
	return nil
}

// ImagesFromUint8 turns a batch of row-major HWC uint8 pixels (the dataset
// storage layout) into images ready for ImageGrid. c is 1 (grey) or 3 (RGB).
// The pixels are copied, so the images do not alias the dataset.
func ImagesFromUint8(pixels []uint8, n, h, w, c int) ([]image.Image, error) {
	if err := checkShape(len(pixels), n, h, w, c); err != nil {
		return nil, err
	}
	per := h * w * c
	out := make([]image.Image, n)
	for i := range n {
		src := pixels[i*per : (i+1)*per]
		if c == 1 {
			img := image.NewGray(image.Rect(0, 0, w, h))
			copy(img.Pix, src)
			out[i] = img
			continue
		}
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for p := range h * w {
			img.Pix[4*p+0] = src[3*p+0]
			img.Pix[4*p+1] = src[3*p+1]
			img.Pix[4*p+2] = src[3*p+2]
			img.Pix[4*p+3] = 0xff
		}
		out[i] = img
	}
	return out, nil
}

// ImagesFromFloat turns a batch of normalised row-major HWC float pixels (what
// the model sees) back into viewable images, so one can look at exactly the
// inputs of a batch after augmentation. Like the PyTorch tutorial's imshow it
// undoes the normalisation, v = x*std + mean, then maps 0..1 to 0..255 with
// rounding and clamps.
//
// mean and std have one entry per channel, or one entry used for all
// channels, or are nil for none (mean 0, std 1: x already in 0..1). NaN
// pixels come out black.
func ImagesFromFloat(x []float32, n, h, w, c int, mean, std []float64) ([]image.Image, error) {
	if err := checkShape(len(x), n, h, w, c); err != nil {
		return nil, err
	}
	m, err := perChannel("mean", mean, c, 0)
	if err != nil {
		return nil, err
	}
	s, err := perChannel("std", std, c, 1)
	if err != nil {
		return nil, err
	}
	toByte := func(v float32, ch int) uint8 {
		f := (float64(v)*s[ch] + m[ch]) * 255
		switch {
		case math.IsNaN(f) || f <= 0:
			return 0
		case f >= 255:
			return 255
		}
		return uint8(math.Round(f))
	}
	per := h * w * c
	out := make([]image.Image, n)
	for i := range n {
		src := x[i*per : (i+1)*per]
		if c == 1 {
			img := image.NewGray(image.Rect(0, 0, w, h))
			for p, v := range src {
				img.Pix[p] = toByte(v, 0)
			}
			out[i] = img
			continue
		}
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for p := range h * w {
			img.Pix[4*p+0] = toByte(src[3*p+0], 0)
			img.Pix[4*p+1] = toByte(src[3*p+1], 1)
			img.Pix[4*p+2] = toByte(src[3*p+2], 2)
			img.Pix[4*p+3] = 0xff
		}
		out[i] = img
	}
	return out, nil
}

// perChannel expands a per-channel statistic: nil gives def for every
// channel, one value is broadcast, c values are used as they are.
func perChannel(name string, v []float64, c int, def float64) ([]float64, error) {
	out := make([]float64, c)
	switch len(v) {
	case 0:
		for i := range out {
			out[i] = def
		}
	case 1:
		for i := range out {
			out[i] = v[0]
		}
	case c:
		copy(out, v)
	default:
		return nil, fmt.Errorf("plotting: %s has %d values, want 1 or %d (one per channel)", name, len(v), c)
	}
	return out, nil
}
