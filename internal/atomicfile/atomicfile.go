// Package atomicfile writes a file whole or not at all: the bytes go to a temporary
// sibling that is synced and renamed over the target (rename within a directory is atomic
// on POSIX file systems), so a reader or a crash never sees a half-written file.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write writes data to path atomically, with mode 0644 (CreateTemp makes 0600; reports
// and caches are meant to be shared). A failure leaves any existing file untouched.
func Write(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
