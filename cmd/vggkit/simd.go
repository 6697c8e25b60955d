package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// warnNoSIMD says so when the binary was built without GOEXPERIMENT=simd: the pure-Go
// backend's matmul then runs a generic fallback about 4x slower.
func warnNoSIMD(w io.Writer) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	for _, s := range info.Settings {
		if s.Key == "GOEXPERIMENT" && strings.Contains(s.Value, "simd") {
			return
		}
	}
	fmt.Fprintln(w, "note: built without GOEXPERIMENT=simd: the pure-Go backend runs about 4x slower (build with GOEXPERIMENT=simd go build ./cmd/vggkit)")
}
