package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggkit/vggkit/vggkit/weights"
)

// TestDownloadWeights: `vggkit download vgg16` fetches torchvision's file into DIR/weights
// (here from a local server that is gone, so the offline message comes back, naming
// the file and where to put it); an unknown name lists the weights too.
func TestDownloadWeights(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	old := weights.BaseURL
	weights.BaseURL = srv.URL + "/"
	t.Cleanup(func() { weights.BaseURL = old })
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "download", "-dir", dir, "vgg16")
	for _, want := range []string{srv.URL + "/vgg16-397923af.pth", "Offline?", filepath.Join(dir, "weights")} {
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr %q: want 1 and %q", code, stderr, want)
		}
	}
	code, _, stderr = runCLI(t, "download", "vgg17")
	if code != 2 || !strings.Contains(stderr, "vgg16_bn") {
		t.Errorf("exit %d, stderr %q: want 2 and the weights listed", code, stderr)
	}
}
