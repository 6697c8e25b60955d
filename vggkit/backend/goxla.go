package backend

import (
	"runtime/debug"

	"github.com/gomlx/go-xla/compute/xla"
)

// GoXLAModule is the module whose patch the fast CPU path needs.
const GoXLAModule = "github.com/gomlx/go-xla"

// GoXLAUpstreamNote says why the fast CPU path is off in a build without the patch.
const GoXLAUpstreamNote = "go-xla is upstream: built without vggkit's patch; in a vggkit checkout, " +
	"run scripts/go-xla-patch.sh and rebuild"

// GoXLAPatched reports whether the go-xla this program is built with carries vggkit's
// patch (third_party/go-xla.patch), which the fast CPU path needs: oneDNN convolutions and
// vggkit's kernels on the XLA CPU plugin. Builds in a vggkit checkout get it through the
// go.work that scripts/go-xla-patch.sh writes; without it (GOWORK=off, `go install
// ...@version`, a module that imports vggkit) go-xla is upstream: everything works, only
// XLA CPU runs its own convolutions.
func GoXLAPatched() bool {
	var b any = (*xla.Backend)(nil)
	_, onednn := b.(oneDNNConvolutions)
	_, kernels := b.(cpuKernelCalls)
	return onednn && kernels
}

// GoXLAVersion is go-xla's version in this build, and the directory that replaces it
// ("" when none): from the build information, so ok is false where there is none.
func GoXLAVersion() (version, replacedBy string, ok bool) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", "", false
	}
	for _, m := range info.Deps {
		if m.Path == GoXLAModule {
			if m.Replace != nil {
				return m.Version, m.Replace.Path, true
			}
			return m.Version, "", true
		}
	}
	return "", "", false
}
