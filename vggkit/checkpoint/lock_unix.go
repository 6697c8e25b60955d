//go:build unix

package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// Lock takes an exclusive lock on dir (creating dir), so that one process at a time trains and
// saves there: flock(LOCK_EX|LOCK_NB) on dir/.lock, which then holds the holder's PID and
// command line. When another process holds it, the error wraps ErrLocked and names dir and that
// process. Once held, it removes the temporary files that killed saves left in dir. release
// unlocks (the kernel also does when the process dies); the lock file stays.
func Lock(dir string) (release func() error, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("checkpoint: lock: %w", err)
	}
	name := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is in use by %s", ErrLocked, dir, holder)
		}
		return nil, fmt.Errorf("checkpoint: locking %s: %w", name, err)
	}
	release = sync.OnceValue(func() error {
		return errors.Join(syscall.Flock(int(f.Fd()), syscall.LOCK_UN), f.Close())
	})
	if err := writeHolder(f); err != nil {
		release()
		return nil, fmt.Errorf("checkpoint: writing %s: %w", name, err)
	}
	if err := removeStaleTemps(dir); err != nil {
		release()
		return nil, fmt.Errorf("checkpoint: removing the temporary files of killed saves in %s: %w", dir, err)
	}
	return release, nil
}

// writeHolder writes "PID\ncommand line\n" into the lock file.
func writeHolder(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt(fmt.Appendf(nil, "%d\n%s\n", os.Getpid(), strings.Join(os.Args, " ")), 0)
	if err == nil {
		err = f.Sync()
	}
	return err
}

// readHolder describes the process named in the lock file.
func readHolder(f *os.File) string {
	buf := make([]byte, 4096)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return fmt.Sprintf("another process (%s unreadable: %v)", f.Name(), err)
	}
	pid, cmd, _ := strings.Cut(strings.TrimSpace(string(buf[:n])), "\n")
	if pid == "" {
		return "another process (it has not written its PID yet)"
	}
	return fmt.Sprintf("process %s (%s)", pid, cmd)
}
