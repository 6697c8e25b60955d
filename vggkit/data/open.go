package data

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/vggkit/vggkit/vggkit/config"
)

// errNotRegular marks a path that exists but is not a regular file (a folder, a FIFO, a
// device, a socket): readers refuse it before opening it, since opening a FIFO waits for
// a writer forever and a folder reads as a few kilobytes of nothing.
var errNotRegular = errors.New("not a regular file")

// openRegular opens path for reading after checking, before opening, that it is a
// regular file (a symlink to one is followed). A missing file gives an error wrapping
// fs.ErrNotExist, for the caller to explain where the file belongs. It returns the
// file and its size, checked again on the opened file.
func openRegular(path string) (*os.File, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if err := regular(path, st); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	if st, err = f.Stat(); err == nil {
		err = regular(path, st) // replaced between the two looks.
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// regular says what path is when it is not a regular file (a *notRegular).
func regular(path string, st fs.FileInfo) error {
	m := st.Mode()
	if m.IsRegular() {
		return nil
	}
	kind := "a special file (" + m.Type().String() + ")"
	switch {
	case m.IsDir():
		kind = "a directory"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	}
	return &notRegular{path, kind}
}

// notRegular is the error for a path that is not a regular file; it matches errNotRegular.
type notRegular struct{ path, kind string }

func (e *notRegular) Error() string {
	return e.path + " is " + e.kind + ", not a regular file: want the data file itself"
}

func (e *notRegular) Is(target error) bool { return target == errNotRegular }

// maxTextFile bounds the text files of a dataset (class names; STL-10's fold indices,
// about 50 KB): anything larger is not one of them.
const maxTextFile = 4 << 20

// readRegular reads a small whole file (class names, fold indices) after openRegular's
// check; limit bounds what it reads.
func readRegular(path string, limit int64) ([]byte, error) {
	f, size, err := openRegular(path)
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
