package data

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // The formats the decoder accepts (image.Decode dispatches on content).
	_ "image/jpeg"
	_ "image/png"
	"io"
	"io/fs"
	"strings"

	"github.com/vggkit/vggkit/internal/regularfile"
	_ "golang.org/x/image/bmp" // Already a dependency (plots); torchvision's ImageFolder reads these too.
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// ReadImage decodes one image file (JPEG, PNG, GIF, BMP, WebP or TIFF, of any size)
// as the model's data sees it: the shorter side resized to size and the centre
// cropped to size x size (torchvision's Resize(size) + CenterCrop(size)), HWC, with
// channels 3 (RGB) or 1 (grey). It is the decoder LoadImageFolder uses for every
// image, so an image given to a trained model (vggkit predict) gets exactly the
// pixels it would have had in training.
//
// Only a regular file is opened (a folder or a FIFO is refused, never waited on), and
// the image's header is read first: an image declaring more pixels than the limit
// (config.DefaultMaxImagePixels, 50 million; VGGKIT_MAX_IMAGE_PIXELS raises it) is
// refused before its pixels are allocated. Errors name the file.
func ReadImage(path string, size, channels int) ([]uint8, error) {
	return ReadImageCrop(path, size, channels, 1)
}

// ImageNetCrop is the share of the shorter side that torchvision's ImageNet evaluation
// keeps: Resize(256), then CenterCrop(224) (the weights' transforms()).
const ImageNetCrop = 224.0 / 256

// ReadImageCrop is ReadImage keeping the centre crop (0 < crop <= 1) of the shorter side:
// torchvision's Resize(size/crop) + CenterCrop(size), as ImageNet models are evaluated
// (crop ImageNetCrop).
func ReadImageCrop(path string, size, channels int, crop float64) ([]uint8, error) {
	if err := checkDecodeArgs(size, channels); err != nil {
		return nil, err
	}
	if !(crop > 0 && crop <= 1) {
		return nil, fmt.Errorf("centre crop %g of the shorter side: want 0 < crop <= 1", crop)
	}
	dst := make([]uint8, size*size*channels)
	if err := decodeFile(path, size, channels, crop, dst); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return dst, nil
}

// Decode is ReadImage for an image read from r (read whole into memory first).
func Decode(r io.Reader, size, channels int) ([]uint8, error) {
	if err := checkDecodeArgs(size, channels); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dst := make([]uint8, size*size*channels)
	if err := decodeInto(bytes.NewReader(b), int64(len(b)), size, channels, 1, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

func checkDecodeArgs(size, channels int) error {
	if size < 1 || size > 4096 {
		return fmt.Errorf("image size %d: want 1..4096", size)
	}
	if channels != 1 && channels != 3 {
		return fmt.Errorf("channels %d: want 1 or 3", channels)
	}
	return nil
}

// decodeFile decodes the file at path into dst (size x size x channels), as Decode.
func decodeFile(path string, size, channels int, crop float64, dst []uint8) error {
	f, n, err := regularfile.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return errors.New("no such file")
	}
	if err != nil {
		var nr *regularfile.NotRegularError
		var pe *fs.PathError
		switch {
		case errors.As(err, &nr):
			return fmt.Errorf("is %s, not an image file", nr.Kind) // the caller names the file.
		case errors.As(err, &pe):
			return pe.Err
		}
		return err
	}
	defer f.Close()
	return decodeInto(f, n, size, channels, crop, dst)
}

// decodeInto decodes the image in the first n bytes of r and writes it resized into
// dst. The header is read first, so that an image over the pixel limit is refused
// before its pixels are allocated. The decoders are given an io.ReaderAt (peeker): the
// TIFF decoder otherwise buffers up to whatever offset a directory entry names before
// reading it (a 396-byte file made it allocate 4 GB), and with one it reads what is
// there, in bounded chunks.
func decodeInto(r io.ReaderAt, n int64, size, channels int, crop float64, dst []uint8) (err error) {
	defer func() {
		// A decoder bug on a hostile file must skip the file, not stop the load.
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	cfg, format, err := image.DecodeConfig(newPeeker(r, n))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return errors.New("not a JPEG, PNG, GIF, BMP, WebP or TIFF image")
		}
		return fmt.Errorf("bad image header: %w", err)
	}
	if err := checkPixels(strings.ToUpper(format)+" header", int64(cfg.Width), int64(cfg.Height)); err != nil {
		return err
	}
	img, _, err := image.Decode(newPeeker(r, n))
	if err != nil {
		return fmt.Errorf("%s does not decode: %w", format, err)
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return fmt.Errorf("%s decodes to an empty %dx%d image", format, b.Dx(), b.Dy())
	}
	resizeCentreCrop(img, size, channels, crop, dst)
	return nil
}

// peeker reads an io.ReaderAt of n bytes from the start, buffered, and is an
// io.ReaderAt itself: it has the Peek method image.Decode looks for, so image.Decode
// passes it to the format's decoder as it is (not behind another bufio.Reader), and a
// decoder that wants an io.ReaderAt (TIFF) gets one.
type peeker struct {
	*bufio.Reader
	io.ReaderAt
}

func newPeeker(r io.ReaderAt, n int64) *peeker {
	return &peeker{bufio.NewReader(io.NewSectionReader(r, 0, n)), io.NewSectionReader(r, 0, n)}
}
