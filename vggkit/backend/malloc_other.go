//go:build !(linux && cgo)

package backend

// HugePages: the allocator set-up of malloc_linux.go is for glibc on Linux only.
func HugePages() bool { return false }
