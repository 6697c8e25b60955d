//go:build !unix

package checkpoint

import (
	"fmt"
	"runtime"
)

// Lock is not available on this system (it needs flock).
func Lock(dir string) (release func() error, err error) {
	return nil, fmt.Errorf("checkpoint: cannot lock %s: no flock on %s", dir, runtime.GOOS)
}
