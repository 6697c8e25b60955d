package weights

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggkit/vggkit/internal/fetch/fetchtest"
)

// testVariant is a variant whose file is body, named by body's SHA-256 prefix (or by
// prefix when given, to make it wrong).
func testVariant(body []byte, prefix string) Variant {
	sum := sha256.Sum256(body)
	if prefix == "" {
		prefix = hex.EncodeToString(sum[:])[:8]
	}
	return Variant{Name: "vggt", File: "vggt-" + prefix + ".pth", SHA256Prefix: prefix, Arch: "vgg11"}
}

func testBody() []byte { return bytes.Repeat([]byte("not really weights "), 5000) }

func TestDownload(t *testing.T) {
	body := testBody()
	srv := fetchtest.Serve(t, body, true, 0)
	v, dir := testVariant(body, ""), t.TempDir()
	path, err := download(context.Background(), v, dir, srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, body) || path != filepath.Join(dir, v.File) {
		t.Errorf("%s holds %d bytes, want %d", path, len(got), len(body))
	}
	fetchtest.DirHolds(t, dir, v.File)
}

func TestDownloadResumes(t *testing.T) {
	body := testBody()
	srv := fetchtest.Serve(t, body, true, 0)
	v, dir := testVariant(body, ""), t.TempDir()
	// An earlier run was cut after 1000 bytes.
	if err := os.WriteFile(filepath.Join(dir, v.File+".part"), body[:1000], 0o644); err != nil {
		t.Fatal(err)
	}
	path, err := download(context.Background(), v, dir, srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, body) {
		t.Errorf("resumed file differs from the served one (%d bytes, want %d)", len(got), len(body))
	}
	if r := srv.Ranges(); len(r) != 1 || r[0] != "bytes=1000-" {
		t.Errorf("server was asked for ranges %q, want one from byte 1000", srv.Ranges())
	}
	fetchtest.DirHolds(t, dir, v.File)
}

func TestDownloadHashMismatchLeavesNothing(t *testing.T) {
	body := testBody()
	srv := fetchtest.Serve(t, body, true, 0)
	v, dir := testVariant(body, "00000000"), t.TempDir()
	if strings.HasPrefix(testVariant(body, "").SHA256Prefix, "00000000") {
		t.Fatal("test body's hash starts with the wrong prefix")
	}
	_, err := download(context.Background(), v, dir, srv.URL+"/", nil)
	wantErr(t, err, v.File, "SHA-256", "want 00000000...", testVariant(body, "").SHA256Prefix, "deleted")
	fetchtest.DirHolds(t, dir)
}

func TestDownloadOffline(t *testing.T) {
	srv := fetchtest.Serve(t, testBody(), true, 0)
	srv.Close()
	v, dir := testVariant(testBody(), ""), t.TempDir()
	_, err := download(context.Background(), v, dir, srv.URL+"/", nil)
	wantErr(t, err, "could not download "+srv.URL+"/"+v.File, "Offline?", v.File, dir)
}

func TestDownloadUnknownName(t *testing.T) {
	_, err := Download(context.Background(), "vgg17", t.TempDir(), nil)
	wantErr(t, err, `"vgg17"`, "vgg16_bn")
}

func TestVariants(t *testing.T) {
	v, ok := Lookup("vgg16_bn")
	if !ok || v.File != "vgg16_bn-6c64b313.pth" || v.URL != "https://download.pytorch.org/models/vgg16_bn-6c64b313.pth" ||
		v.SHA256Prefix != "6c64b313" || v.Arch != "vgg16" || !v.BatchNorm {
		t.Errorf("Lookup(vgg16_bn) = %+v, %v", v, ok)
	}
	if len(Variants) != 8 {
		t.Errorf("%d variants, want torchvision's 8", len(Variants))
	}
	if m := v.Model(); m.Head != "classic" || m.Classes != 1000 || m.Activation != "relu" {
		t.Errorf("vgg16_bn's model %+v: want torchvision's classic head, 1000 classes, ReLU", m)
	}
}

func TestResolve(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("VGGKIT_CACHE", cache)
	want := filepath.Join(cache, "weights", "vgg16-397923af.pth")
	_, _, err := Resolve("vgg16")
	wantErr(t, err, "vggkit download vgg16", "https://download.pytorch.org/models/vgg16-397923af.pth", want)
	os.MkdirAll(filepath.Dir(want), 0o755)
	os.WriteFile(want, []byte("x"), 0o644)
	path, v, err := Resolve("vgg16")
	if err != nil || path != want || v == nil || v.Name != "vgg16" {
		t.Errorf("Resolve(vgg16) = %s, %v, %v; want %s", path, v, err, want)
	}
	if path, v, err := Resolve(want); err != nil || path != want || v != nil {
		t.Errorf("Resolve(a path) = %s, %v, %v", path, v, err)
	}
	_, _, err = Resolve(filepath.Join(cache, "nope.pth"))
	wantErr(t, err, "nope.pth", "neither a file")
}
