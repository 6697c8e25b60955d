package backend

import (
	"os/exec"
	"strings"
	"testing"
)

// requirePatch skips where go-xla is upstream (GOWORK=off, or no go.work: as in a module
// that imports vggkit), and fails where a go.work is in effect but go-xla lacks the patch.
// (Test binaries carry no module information, so `go env GOWORK` tells how they were built.)
func requirePatch(t *testing.T) {
	t.Helper()
	if GoXLAPatched() {
		return
	}
	out, _ := exec.Command("go", "env", "GOWORK").Output()
	if work := strings.TrimSpace(string(out)); work != "" && work != "off" {
		t.Fatalf("go.work %s is in effect, but %s lacks vggkit's patch: run scripts/go-xla-patch.sh", work, GoXLAModule)
	}
	t.Skip(GoXLAUpstreamNote)
}

// With the go.work of scripts/go-xla-patch.sh, go-xla's XLA backend has both switches of
// vggkit's patch (no plugin needed: the check is on the type).
func TestGoXLAPatch(t *testing.T) {
	requirePatch(t)
}
