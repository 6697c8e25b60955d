package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

type tarEntry struct {
	name     string
	body     []byte
	typ      byte // tar.TypeReg if zero.
	linkname string
}

func makeTarGz(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.linkname, Mode: 0o644, ModTime: time.Unix(1e9, 0)}
		switch e.typ {
		case 0:
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		case tar.TypeDir:
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// stl10Entries lays out f as the real archive does: a stl10_binary/ folder.
func stl10Entries(f *fakeSTL10) []tarEntry {
	names := make([]string, 0, len(f.files))
	for n := range f.files {
		names = append(names, n)
	}
	sort.Strings(names)
	entries := []tarEntry{{name: "stl10_binary/", typ: tar.TypeDir}}
	for _, n := range names {
		entries = append(entries, tarEntry{name: "stl10_binary/" + n, body: f.files[n]})
	}
	return entries
}

// setRemote points the downloader at url for an archive with data's size and MD5.
func setRemote(t *testing.T, url string, data []byte) {
	t.Helper()
	old := stl10Remote
	sum := md5.Sum(data)
	stl10Remote = remoteArchive{url: url, name: "stl10_binary.tar.gz", size: int64(len(data)), md5: hex.EncodeToString(sum[:])}
	t.Cleanup(func() { stl10Remote = old })
}

// archiveServer serves data on loopback and records what was asked and sent.
type archiveServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	ranges   []string
	sent     int64
}

// serveArchive serves data; honourRange false mimics a server that ignores
// Range and always answers 200 with the whole file; cutAt > 0 sends only that
// many bytes of the body, then drops the connection.
func serveArchive(t *testing.T, data []byte, honourRange bool, cutAt int) *archiveServer {
	t.Helper()
	s := &archiveServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		s.ranges = append(s.ranges, r.Header.Get("Range"))
		s.mu.Unlock()
		cw := &countingWriter{ResponseWriter: w}
		switch {
		case cutAt > 0:
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			w.WriteHeader(http.StatusOK)
			cw.Write(data[:cutAt])
			if hj, ok := w.(http.Hijacker); ok {
				conn, _, _ := hj.Hijack()
				conn.Close()
			}
		case honourRange:
			http.ServeContent(cw, r, "stl10_binary.tar.gz", time.Time{}, bytes.NewReader(data))
		default:
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			cw.Write(data)
		}
		s.mu.Lock()
		s.sent += cw.n
		s.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

// checkNoLeftovers fails if cacheDir has anything but the listed names.
func checkCacheHolds(t *testing.T, cacheDir string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s holds %v, want %v", cacheDir, got, want)
	}
}

func TestDownloadSTL10Full(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	data := makeTarGz(t, stl10Entries(f))
	srv := serveArchive(t, data, true, 0)
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
	checkCacheHolds(t, cache, "stl10_binary", "stl10_binary.tar.gz")
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
	// ~1 MB in 32 KB writes arrives in well under progressEvery: the bar must be
	// drawn about once, not once per write.
	if n := strings.Count(out, "\rstl10_binary.tar.gz"); n > 3 {
		t.Errorf("progress bar drawn %d times for a fast download; not throttled", n)
	}

	// Already there: returns without asking the server.
	before := srv.requests
	dir2, err := DownloadSTL10(context.Background(), cache, nil)
	if err != nil || dir2 != dir {
		t.Fatalf("second call: %s, %v", dir2, err)
	}
	if srv.requests != before {
		t.Error("second call downloaded again")
	}
}

func TestDownloadSTL10ResumeWithRange(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	data := makeTarGz(t, stl10Entries(f))
	srv := serveArchive(t, data, true, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)
	cache := t.TempDir()
	k := len(data) / 3
	if err := os.WriteFile(filepath.Join(cache, "stl10_binary.tar.gz.part"), data[:k], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := DownloadSTL10(context.Background(), cache, nil); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("bytes=%d-", k); len(srv.ranges) != 1 || srv.ranges[0] != want {
		t.Errorf("Range headers %q, want one %q", srv.ranges, want)
	}
	if want := int64(len(data) - k); srv.sent != want {
		t.Errorf("server sent %d bytes, want %d (the rest only)", srv.sent, want)
	}
	if _, err := LoadSTL10(cache, "test", -1); err != nil {
		t.Fatal(err)
	}
}

// A server that ignores Range answers 200 with the whole file: the part file
// must be started over, not appended to.
func TestDownloadSTL10ServerIgnoresRange(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	data := makeTarGz(t, stl10Entries(f))
	srv := serveArchive(t, data, false, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)
	cache := t.TempDir()
	if err := os.WriteFile(filepath.Join(cache, "stl10_binary.tar.gz.part"), bytes.Repeat([]byte{'x'}, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := DownloadSTL10(context.Background(), cache, nil); err != nil {
		t.Fatal(err)
	}
	if len(srv.ranges) != 1 || srv.ranges[0] != "bytes=1000-" {
		t.Errorf("Range headers %q, want one bytes=1000-", srv.ranges)
	}
	got, _ := os.ReadFile(filepath.Join(cache, "stl10_binary.tar.gz"))
	if !bytes.Equal(got, data) {
		t.Error("archive differs from the served one")
	}
}

// A connection dropped half way leaves the part file, says so, and the next
// run resumes from it.
func TestDownloadSTL10InterruptedThenResumed(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	data := makeTarGz(t, stl10Entries(f))
	cut := len(data) / 2
	bad := serveArchive(t, data, true, cut)
	setRemote(t, bad.URL+"/stl10_binary.tar.gz", data)
	cache := t.TempDir()
	_, err := DownloadSTL10(context.Background(), cache, nil)
	if err == nil {
		t.Fatal("no error for a dropped connection")
	}
	for _, w := range []string{"could not download", "interrupted", "resumes"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	st, err := os.Stat(filepath.Join(cache, "stl10_binary.tar.gz.part"))
	if err != nil || st.Size() != int64(cut) {
		t.Fatalf("part file: %v, %v; want %d bytes", st, err, cut)
	}
	checkCacheHolds(t, cache, "stl10_binary.tar.gz.part")

	good := serveArchive(t, data, true, 0)
	setRemote(t, good.URL+"/stl10_binary.tar.gz", data)
	if _, err := DownloadSTL10(context.Background(), cache, nil); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("bytes=%d-", cut); len(good.ranges) != 1 || good.ranges[0] != want {
		t.Errorf("Range headers %q, want %q", good.ranges, want)
	}
	if _, err := LoadSTL10(cache, "train", 4); err != nil {
		t.Fatal(err)
	}
}

// Cancelling the context stops the download with a message that is not the
// offline hint, and keeps the part file for the next run.
func TestDownloadSTL10Cancelled(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	data := makeTarGz(t, stl10Entries(f))
	cut := len(data) / 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Write(data[:cut])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // Stall, like a network that stopped moving.
	}))
	t.Cleanup(srv.Close)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)
	cache := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // Cancel once the first half has arrived.
		for ctx.Err() == nil {
			if st, err := os.Stat(filepath.Join(cache, "stl10_binary.tar.gz.part")); err == nil && st.Size() == int64(cut) {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	_, err := DownloadSTL10(ctx, cache, nil)
	if err == nil {
		t.Fatal("no error after cancel")
	}
	if !strings.Contains(err.Error(), "stopped after") || !strings.Contains(err.Error(), "context canceled") || strings.Contains(err.Error(), "Offline?") {
		t.Errorf("error %q, want 'stopped after ... context canceled' without the offline hint", err)
	}
	checkCacheHolds(t, cache, "stl10_binary.tar.gz.part")
}

func TestDownloadSTL10MD5Mismatch(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	data := makeTarGz(t, stl10Entries(f))
	srv := serveArchive(t, data, true, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)
	stl10Remote.md5 = "0123456789abcdef0123456789abcdef"
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
	checkCacheHolds(t, cache, "stl10_binary.tar.gz.bad")
}

func TestDownloadSTL10RefusesEscapes(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	good := stl10Entries(f)
	cases := []struct {
		name  string
		entry tarEntry
	}{
		{"dotdot", tarEntry{name: "stl10_binary/../../evil.txt", body: []byte("x")}},
		{"absolute", tarEntry{name: "/tmp/vggkit-evil.txt", body: []byte("x")}},
		{"symlink out", tarEntry{name: "stl10_binary/link", typ: tar.TypeSymlink, linkname: "../../evil"}},
		{"symlink absolute", tarEntry{name: "stl10_binary/link", typ: tar.TypeSymlink, linkname: "/etc"}},
		{"hard link out", tarEntry{name: "stl10_binary/hl", typ: tar.TypeLink, linkname: "../evil.txt"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The bad entry comes last, after the good files were written: the
			// whole extraction must still vanish.
			data := makeTarGz(t, append(append([]tarEntry(nil), good...), c.entry))
			srv := serveArchive(t, data, true, 0)
			setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)
			top := t.TempDir()
			cache := filepath.Join(top, "a", "cache")
			_, err := DownloadSTL10(context.Background(), cache, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "refusing to extract") || !strings.Contains(err.Error(), c.entry.name) {
				t.Errorf("error %q does not refuse entry %q", err, c.entry.name)
			}
			checkCacheHolds(t, cache, "stl10_binary.tar.gz")
			checkCacheHolds(t, filepath.Join(top, "a"), "cache")
			checkCacheHolds(t, top, "a")
			if _, err := os.Lstat("/tmp/vggkit-evil.txt"); err == nil {
				t.Error("/tmp/vggkit-evil.txt was written")
			}
		})
	}
}

// Links that stay inside are fine (and end up in the extracted folder).
func TestDownloadSTL10InsideLinks(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	entries := append(stl10Entries(f),
		tarEntry{name: "stl10_binary/alias.txt", typ: tar.TypeSymlink, linkname: "class_names.txt"},
		tarEntry{name: "stl10_binary/sub/up.txt", typ: tar.TypeSymlink, linkname: "../class_names.txt"},
		tarEntry{name: "stl10_binary/copy.txt", typ: tar.TypeLink, linkname: "stl10_binary/class_names.txt"},
		tarEntry{name: "./", typ: tar.TypeDir})
	data := makeTarGz(t, entries)
	srv := serveArchive(t, data, true, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)
	cache := t.TempDir()
	dir, err := DownloadSTL10(context.Background(), cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"alias.txt", "sub/up.txt", "copy.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil || !bytes.Equal(b, f.files["class_names.txt"]) {
			t.Errorf("%s: %q, %v", n, b, err)
		}
	}
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
	checkCacheHolds(t, cache)
}

func TestDownloadSTL10HTTPError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", []byte("whatever"))
	_, err := DownloadSTL10(context.Background(), t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "HTTP 404") || !strings.Contains(err.Error(), "Offline?") {
		t.Errorf("error %v, want HTTP 404 and the offline hint", err)
	}
}

// An archive put in the cache by hand is used without any network.
func TestDownloadSTL10HandPlacedArchive(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	data := makeTarGz(t, stl10Entries(f))
	srv := serveArchive(t, data, true, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)
	cache := t.TempDir()
	if err := os.WriteFile(filepath.Join(cache, "stl10_binary.tar.gz"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := DownloadSTL10(context.Background(), cache, nil); err != nil {
		t.Fatal(err)
	}
	if srv.requests != 0 {
		t.Errorf("%d requests with the archive already there", srv.requests)
	}
	if _, ok := FindSTL10(cache); !ok {
		t.Error("not extracted")
	}
}

// An existing, incomplete stl10_binary/ is reported before any download.
func TestDownloadSTL10IncompleteFolder(t *testing.T) {
	srv := serveArchive(t, []byte("x"), true, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", []byte("x"))
	cache := t.TempDir()
	os.MkdirAll(filepath.Join(cache, "stl10_binary"), 0o755)
	os.WriteFile(filepath.Join(cache, "stl10_binary", "train_X.bin"), nil, 0o644)
	_, err := DownloadSTL10(context.Background(), cache, nil)
	if err == nil || !strings.Contains(err.Error(), "exists but does not hold") {
		t.Errorf("error %v, want 'exists but does not hold'", err)
	}
	if srv.requests != 0 {
		t.Errorf("%d requests", srv.requests)
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
