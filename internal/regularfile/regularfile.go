// Package regularfile opens a data file only after checking that it is a regular file:
// opening a FIFO waits for a writer forever, and a folder reads as a few kilobytes of
// nothing. The dataset readers and the downloader share it.
package regularfile

import (
	"errors"
	"io/fs"
	"os"
)

// ErrNotRegular marks a path that exists but is not a regular file (a folder, a FIFO, a
// device, a socket): readers refuse it before opening it, since opening a FIFO waits for
// a writer forever and a folder reads as a few kilobytes of nothing.
var ErrNotRegular = errors.New("not a regular file")

// Open opens path for reading after checking, before opening, that it is a
// regular file (a symlink to one is followed). A missing file gives an error wrapping
// fs.ErrNotExist, for the caller to explain where the file belongs. It returns the
// file and its size, checked again on the opened file.
func Open(path string) (*os.File, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if err := Check(path, st); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	if st, err = f.Stat(); err == nil {
		err = Check(path, st) // replaced between the two looks.
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// Check says what path is when it is not a regular file (a *NotRegularError).
func Check(path string, st fs.FileInfo) error {
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
	return &NotRegularError{path, kind}
}

// NotRegularError is the error for a path that is not a regular file; it matches
// ErrNotRegular. Kind says what it is ("a directory", "a named pipe (FIFO)", ...).
type NotRegularError struct{ Path, Kind string }

func (e *NotRegularError) Error() string {
	return e.Path + " is " + e.Kind + ", not a regular file: want the data file itself"
}

func (e *NotRegularError) Is(target error) bool { return target == ErrNotRegular }
