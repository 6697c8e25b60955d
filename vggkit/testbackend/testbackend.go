// Package testbackend picks the backend tests run on.
package testbackend

import (
	"os"
	"testing"

	"github.com/vggkit/vggkit/vggkit/backend"
)

// Choice is the pure-Go backend, or the default choice (XLA on CPU where its plugin is
// installed) with VGGKIT_TEST_BACKEND=default, as scripts/test.sh runs some packages.
func Choice(t testing.TB) *backend.Choice {
	t.Helper()
	if os.Getenv("VGGKIT_TEST_BACKEND") == "default" {
		t.Setenv(backend.EnvVar, "")
	} else {
		t.Setenv(backend.EnvVar, "go")
	}
	c, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
