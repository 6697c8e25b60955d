package data

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // The formats the decoder accepts (image.Decode dispatches on content).
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"

	_ "golang.org/x/image/bmp" // Already a dependency (plots); torchvision's ImageFolder reads these too.
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// maxImagePixels refuses images whose header announces more pixels than this
// (about 256 MB decoded): a bogus or giant file is skipped rather than
// exhausting memory in every worker at once.
const maxImagePixels = 64 << 20

// ReadImage decodes one image file (JPEG, PNG, GIF, BMP, WebP or TIFF, of any size)
// as the model's data sees it: the shorter side resized to size and the centre
// cropped to size x size (torchvision's Resize(size) + CenterCrop(size)), HWC, with
// channels 3 (RGB) or 1 (grey). It is the decoder LoadImageFolder uses for every
// image, so an image given to a trained model (vggkit predict) gets exactly the
// pixels it would have had in training.
func ReadImage(path string, size, channels int) ([]uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pix, err := Decode(f, size, channels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pix, nil
}

// Decode is ReadImage for an image read from r.
func Decode(r io.Reader, size, channels int) ([]uint8, error) {
	if size < 1 || size > 4096 {
		return nil, fmt.Errorf("image size %d: want 1..4096", size)
	}
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("channels %d: want 1 or 3", channels)
	}
	dst := make([]uint8, size*size*channels)
	if err := decodeInto(r, size, channels, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

// decodeFile decodes the file at path into dst (size x size x channels), as Decode.
func decodeFile(path string, size, channels int, dst []uint8) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return decodeInto(f, size, channels, dst)
}

// decodeInto decodes one image from r and writes it resized into dst. The header is
// read first so that an absurd size is refused before decoding.
func decodeInto(r io.Reader, size, channels int, dst []uint8) (err error) {
	defer func() {
		// A decoder bug on a hostile file must skip the file, not stop the load.
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	var header bytes.Buffer // what DecodeConfig read, to decode from the start again.
	cfg, format, err := image.DecodeConfig(io.TeeReader(r, &header))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return errors.New("not a JPEG, PNG, GIF, BMP, WebP or TIFF image")
		}
		return fmt.Errorf("bad image header: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return fmt.Errorf("%s of %dx%d pixels: want 1 to %d million pixels", format, cfg.Width, cfg.Height, maxImagePixels>>20)
	}
	img, _, err := image.Decode(io.MultiReader(&header, r))
	if err != nil {
		return fmt.Errorf("%s does not decode: %w", format, err)
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return fmt.Errorf("%s decodes to an empty %dx%d image", format, b.Dx(), b.Dy())
	}
	resizeCentreCrop(img, size, channels, dst)
	return nil
}
