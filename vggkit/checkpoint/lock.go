package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
)

// ErrLocked is wrapped in Lock's error when another process holds the lock.
var ErrLocked = errors.New("checkpoint directory locked")

// lockFile is the lock file inside a checkpoint directory.
const lockFile = ".lock"

// removeStaleTemps removes the temporary files that killed saves left in dir.
func removeStaleTemps(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if ok, _ := filepath.Match(tmpPattern, e.Name()); ok && e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}
