//go:build !(linux && cgo)

package backend

// withoutSIGPROF: the signal-mask set-up of sigprof_linux.go is for Linux with cgo.
func withoutSIGPROF(f func()) { f() }
