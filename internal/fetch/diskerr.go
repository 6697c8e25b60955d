package fetch

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// testHookOpen, set by tests only, stands in for the files fetch writes (the download's
// part file, extracted files): given the path and the file just opened, it returns what
// to write to instead, or an error that the open then returns. It lets the tests give a
// full disk, a quota or a read-only file system without root.
var testHookOpen func(path string, f *os.File) (io.WriteCloser, error)

// openForWrite opens path for writing (os.OpenFile, or root.OpenFile when root is not
// nil, path then being relative to it) through testHookOpen.
func openForWrite(root *os.Root, path string, flag int) (io.WriteCloser, error) {
	var f *os.File
	var err error
	if root != nil {
		f, err = root.OpenFile(path, flag, 0o644)
	} else {
		f, err = os.OpenFile(path, flag, 0o644)
	}
	if err != nil || testHookOpen == nil {
		return f, err
	}
	w, err := testHookOpen(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// errWriter remembers the first error of the writer it wraps, so that a failed copy
// tells a write error (the disk) from a read error (the network, the archive).
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	n, err := e.w.Write(b)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// diskProblem says what a write error means and what to do about it, or ok false when
// the error is none of the usual disk problems. resumes says that running again
// continues where it stopped.
func diskProblem(err error, resumes bool) (problem, advice string, ok bool) {
	room := "free space there and run again, or choose another folder"
	if resumes {
		room = "free space there and run again (the download resumes where it stopped), or choose another folder"
	}
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "the disk is full", room, true
	case errors.Is(err, syscall.EDQUOT):
		return "the disk quota is used up", room, true
	case errors.Is(err, syscall.EROFS):
		return "the file system is read-only", "choose a folder on a writable disk", true
	case errors.Is(err, fs.ErrPermission):
		return "no permission to write there", "choose a folder you can write to, or fix its permissions", true
	}
	return "", "", false
}

// writeError is the error for a failed write of path (what names it; it may add where
// the write stopped): it names the file and the disk problem (with how many more bytes
// are needed when the disk is full and need > 0), so that it does not read as a network
// problem. resumes: running again continues where it stopped. It wraps err.
func writeError(what string, err error, need int64, resumes bool) error {
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err // The path is said once, below.
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		cause = le.Err
	}
	problem, advice, ok := diskProblem(err, resumes)
	if !ok {
		return &wrapped{fmt.Sprintf("cannot write %s: %v", what, cause), err}
	}
	if need > 0 && (errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)) {
		problem += fmt.Sprintf(" (%.1f MB more are needed)", float64(need)/1e6)
	}
	return &wrapped{fmt.Sprintf("cannot write %s: %v: %s; %s", what, cause, problem, advice), err}
}

// wrapped is an error with its own message that still unwraps to its cause.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }
