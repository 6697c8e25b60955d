package data

import (
	"fmt"
	"io"

	"github.com/vggkit/vggkit/internal/regularfile"
	"github.com/vggkit/vggkit/vggkit/config"
)

// maxTextFile bounds the text files of a dataset (class names; STL-10's fold indices,
// about 50 KB): anything larger is not one of them.
const maxTextFile = 4 << 20

// readRegular reads a small whole file (class names, fold indices) after openRegular's
// check; limit bounds what it reads.
func readRegular(path string, limit int64) ([]byte, error) {
	f, size, err := regularfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > limit {
		return nil, fmt.Errorf("%s is %d bytes: a text file of this dataset is at most %d", path, size, limit)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return b, nil
}

// pixelLimit is the most pixels one image may have (config's VGGKIT_MAX_IMAGE_PIXELS).
func pixelLimit() (int64, error) { return config.Env().MaxImagePixels() }

// checkPixels refuses an image of w x h pixels over the limit, before it is allocated.
// what says what declares the size ("PNG header", "IDX header").
func checkPixels(what string, w, h int64) error {
	limit, err := pixelLimit()
	if err != nil {
		return err
	}
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%s declares %dx%d pixels: an image needs at least one", what, w, h)
	}
	if w > limit || h > limit || w*h > limit {
		return fmt.Errorf("%s declares %dx%d pixels (%.3g megapixels), over the limit of %.3g megapixels: refused before allocating it; set %s=%d to read it",
			what, w, h, float64(w)*float64(h)/1e6, float64(limit)/1e6, config.EnvMaxPixels, w*h)
	}
	return nil
}
