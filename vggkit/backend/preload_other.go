//go:build !(linux && cgo)

package backend

// preloadLibraries is Linux-only (the CUDA wheels are Linux-only); elsewhere it loads nothing.
func preloadLibraries(dirs []string) []string { return nil }
