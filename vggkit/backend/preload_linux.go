//go:build linux && cgo

package backend

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
static int vggkit_preload(const char *path) {
	return dlopen(path, RTLD_NOW | RTLD_GLOBAL) != NULL;
}
*/
import "C"

import (
	"os"
	"path/filepath"
	"strings"
	"unsafe"
)

// preloadPrefixes are the NVIDIA libraries XLA links against or opens by name (the set JAX
// preloads); others (nvshmem, cufile, ...) have their own needs and are left alone.
var preloadPrefixes = []string{"libcudart.", "libcublas.", "libcublasLt.", "libcufft.", "libcusolver.",
	"libcusparse.", "libcudnn", "libnvJitLink.", "libnccl.", "libcupti.", "libnvrtc."}

func preloadable(name string) bool {
	for _, p := range preloadPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// preloadLibraries dlopens every shared library in dirs with RTLD_GLOBAL, so that a plugin
// loaded afterwards finds them by soname. The order of dependencies is not known, so it
// repeats while a pass loads something new; it returns the ones that never loaded.
func preloadLibraries(dirs []string) []string {
	var pending []string
	for _, d := range dirs {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".so") && !e.IsDir() && preloadable(e.Name()) {
				pending = append(pending, filepath.Join(d, e.Name()))
			}
		}
	}
	for progress := true; progress && len(pending) > 0; {
		progress = false
		var still []string
		for _, p := range pending {
			cs := C.CString(p)
			ok := C.vggkit_preload(cs) != 0
			C.free(unsafe.Pointer(cs))
			if ok {
				progress = true
			} else {
				still = append(still, p)
			}
		}
		pending = still
	}
	return pending
}
