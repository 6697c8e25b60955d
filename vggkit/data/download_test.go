package data

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vggkit/vggkit/internal/fetch"
	"github.com/vggkit/vggkit/internal/fetch/fetchtest"
)

// stl10Entries lays out f as the real archive does: a stl10_binary/ folder.
func stl10Entries(f *fakeSTL10) []fetchtest.Entry {
	names := make([]string, 0, len(f.files))
	for n := range f.files {
		names = append(names, n)
	}
	sort.Strings(names)
	entries := []fetchtest.Entry{{Name: "stl10_binary/", Type: tar.TypeDir}}
	for _, n := range names {
		entries = append(entries, fetchtest.Entry{Name: "stl10_binary/" + n, Body: f.files[n]})
	}
	return entries
}

// setRemote points the downloader at url for an archive with data's size and MD5.
func setRemote(t *testing.T, url string, data []byte) {
	t.Helper()
	old := stl10Remote
	sum := md5.Sum(data)
	stl10Remote = fetch.File{URL: url, Name: "stl10_binary.tar.gz", Size: int64(len(data)), MD5: hex.EncodeToString(sum[:])}
	t.Cleanup(func() { stl10Remote = old })
}

// The downloader's own tests (resume, servers that ignore Range, dropped connections,
// unsafe archives) are internal/fetch's; these serve archives with fetchtest.Serve.

func TestDownloadSTL10Full(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	data := fetchtest.TarGz(t, stl10Entries(f))
	srv := fetchtest.Serve(t, data, true, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)
	cache := filepath.Join(t.TempDir(), "cache") // Does not exist yet.

	var progress bytes.Buffer
	dir, err := DownloadSTL10(context.Background(), cache, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cache, "stl10_binary"); dir != want {
		t.Errorf("dir %s, want %s", dir, want)
	}
	fetchtest.DirHolds(t, cache, "stl10_binary", "stl10_binary.tar.gz")
	got, err := os.ReadFile(filepath.Join(cache, "stl10_binary.tar.gz"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("archive differs from the served one (err %v)", err)
	}
	s, err := LoadSTL10(cache, "train", -1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 20 {
		t.Errorf("train has %d images, want 20", s.Len())
	}
	out := progress.String()
	for _, w := range []string{"100.0%", "MB/s", "MB", "checking MD5", "extracting"} {
		if !strings.Contains(out, w) {
			t.Errorf("progress output %q lacks %q", out, w)
		}
	}

	// Already there: returns without asking the server.
	before := srv.Requests()
	dir2, err := DownloadSTL10(context.Background(), cache, nil)
	if err != nil || dir2 != dir {
		t.Fatalf("second call: %s, %v", dir2, err)
	}
	if srv.Requests() != before {
		t.Error("second call downloaded again")
	}
}

func TestDownloadSTL10MD5Mismatch(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	data := fetchtest.TarGz(t, stl10Entries(f))
	srv := fetchtest.Serve(t, data, true, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)
	stl10Remote.MD5 = "0123456789abcdef0123456789abcdef"
	cache := t.TempDir()
	_, err := DownloadSTL10(context.Background(), cache, nil)
	if err == nil {
		t.Fatal("no error for a wrong MD5")
	}
	sum := md5.Sum(data)
	for _, w := range []string{"corrupt", "MD5 " + hex.EncodeToString(sum[:]), "want 0123456789abcdef0123456789abcdef", "run again"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	// Nothing extracted, no temporary folder; the bad archive is moved aside so
	// the next run downloads afresh.
	fetchtest.DirHolds(t, cache, "stl10_binary.tar.gz.bad")
}

func TestDownloadSTL10Offline(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/stl10_binary.tar.gz"
	srv.Close() // Nothing listens there any more.
	setRemote(t, url, []byte("whatever"))
	cache := t.TempDir()
	_, err := DownloadSTL10(context.Background(), cache, nil)
	if err == nil {
		t.Fatal("no error without a server")
	}
	want := "could not download " + url + ": "
	wantTail := ". Offline? Download it by hand and put stl10_binary.tar.gz (or the extracted stl10_binary/ folder) in " + cache + ", then run again"
	if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), wantTail) {
		t.Errorf("error %q\nwant %q<cause>%q", err, want, wantTail)
	}
	fetchtest.DirHolds(t, cache)
}

// An archive without the STL-10 files is named as such, and leaves only itself.
func TestDownloadSTL10ArchiveLacksFiles(t *testing.T) {
	data := fetchtest.TarGz(t, []fetchtest.Entry{{Name: "other/readme.txt", Body: []byte("hello")}})
	srv := fetchtest.Serve(t, data, true, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)
	cache := t.TempDir()
	_, err := DownloadSTL10(context.Background(), cache, nil)
	if err == nil || !strings.Contains(err.Error(), "does not hold the STL-10 files (train_X.bin") {
		t.Errorf("error %v, want 'does not hold the STL-10 files'", err)
	}
	fetchtest.DirHolds(t, cache, "stl10_binary.tar.gz")
}

// An archive put in the cache by hand is used without any network.
func TestDownloadSTL10HandPlacedArchive(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	data := fetchtest.TarGz(t, stl10Entries(f))
	srv := fetchtest.Serve(t, data, true, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)
	cache := t.TempDir()
	if err := os.WriteFile(filepath.Join(cache, "stl10_binary.tar.gz"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := DownloadSTL10(context.Background(), cache, nil); err != nil {
		t.Fatal(err)
	}
	if srv.Requests() != 0 {
		t.Errorf("%d requests with the archive already there", srv.Requests())
	}
	if _, ok := FindSTL10(cache); !ok {
		t.Error("not extracted")
	}
}

// A named pipe where the archive belongs is refused, naming it, instead of waiting for a
// writer forever while the MD5 is computed.
func TestDownloadSTL10ArchiveIsAFIFO(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	data := fetchtest.TarGz(t, stl10Entries(f))
	srv := fetchtest.Serve(t, data, true, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)
	cache := t.TempDir()
	archive := filepath.Join(cache, "stl10_binary.tar.gz")
	if err := syscall.Mkfifo(archive, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	done := make(chan error, 1)
	go func() { _, err := DownloadSTL10(context.Background(), cache, nil); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), archive) || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("want an error naming %s as a named pipe, got %v", archive, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("DownloadSTL10 hung on a FIFO in place of the archive")
	}
}

// An existing, incomplete stl10_binary/ is reported before any download.
func TestDownloadSTL10IncompleteFolder(t *testing.T) {
	srv := fetchtest.Serve(t, []byte("x"), true, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", []byte("x"))
	cache := t.TempDir()
	os.MkdirAll(filepath.Join(cache, "stl10_binary"), 0o755)
	os.WriteFile(filepath.Join(cache, "stl10_binary", "train_X.bin"), nil, 0o644)
	_, err := DownloadSTL10(context.Background(), cache, nil)
	if err == nil || !strings.Contains(err.Error(), "exists but does not hold") {
		t.Errorf("error %v, want 'exists but does not hold'", err)
	}
	if srv.Requests() != 0 {
		t.Errorf("%d requests", srv.Requests())
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv("VGGKIT_CACHE", "/some/where")
	if got := DefaultCacheDir(); got != "/some/where" {
		t.Errorf("with VGGKIT_CACHE: %s", got)
	}
	t.Setenv("VGGKIT_CACHE", "")
	home := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", home)
	if got, want := DefaultCacheDir(), filepath.Join(home, "vggkit"); got != want {
		t.Errorf("without VGGKIT_CACHE: %s, want %s", got, want)
	}
}
