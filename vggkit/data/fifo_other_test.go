//go:build !unix

package data

import "testing"

func mkfifo(t *testing.T, path string) {
	t.Helper()
	t.Skip("named pipes are a Unix case")
}
