//go:build unix

package data

import (
	"syscall"
	"testing"
)

// mkfifo makes a named pipe at path: opening it for reading waits for a writer.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}
