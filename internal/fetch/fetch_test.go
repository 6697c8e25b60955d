package fetch

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vggkit/vggkit/internal/fetch/fetchtest"
)

// payload is a ~1 MB archive of a folder "ds" holding a.bin (random-looking bytes,
// so gzip keeps it large) and names.txt.
func payload(t *testing.T) ([]fetchtest.Entry, []byte) {
	t.Helper()
	big := make([]byte, 1<<20)
	x := uint32(1)
	for i := range big {
		x = x*1664525 + 1013904223
		big[i] = byte(x >> 24)
	}
	entries := []fetchtest.Entry{{Name: "ds/", Type: tar.TypeDir}, {Name: "ds/a.bin", Body: big}, {Name: "ds/names.txt", Body: []byte("cat\ndog\n")}}
	return entries, fetchtest.TarGz(t, entries)
}

// file describes data served at url, with its size and MD5.
func file(url string, data []byte) File {
	sum := md5.Sum(data)
	return File{URL: url, Name: "ds.tar.gz", Size: int64(len(data)), MD5: hex.EncodeToString(sum[:])}
}

// findDS locates the extracted ds/ folder.
func findDS(root string) (string, bool) {
	d := filepath.Join(root, "ds")
	_, err := os.Stat(filepath.Join(d, "names.txt"))
	return d, err == nil
}

func TestVerifiedDownloads(t *testing.T) {
	_, data := payload(t)
	srv := fetchtest.Serve(t, data, true, 0)
	f := file(srv.URL+"/ds.tar.gz", data)
	dir := filepath.Join(t.TempDir(), "cache") // Does not exist yet.
	var progress bytes.Buffer
	path, err := Verified(context.Background(), f, dir, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "ds.tar.gz") {
		t.Errorf("path %s", path)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file differs from the served one (err %v)", err)
	}
	fetchtest.DirHolds(t, dir, "ds.tar.gz")
	out := progress.String()
	for _, w := range []string{"100.0%", "MB/s", "MB", "checking MD5"} {
		if !strings.Contains(out, w) {
			t.Errorf("progress output %q lacks %q", out, w)
		}
	}
	// ~1 MB in 32 KB writes arrives in well under progressEvery: the bar must be
	// drawn about once, not once per write.
	if n := strings.Count(out, "\rds.tar.gz"); n > 3 {
		t.Errorf("progress bar drawn %d times for a fast download; not throttled", n)
	}
	// Already there: checked, not downloaded again.
	if _, err := Verified(context.Background(), f, dir, nil); err != nil || srv.Requests() != 1 {
		t.Errorf("second call: %v, %d requests; want 1", err, srv.Requests())
	}
}

// A file put there by hand is used without any network; SHA-256 alone vouches too.
func TestVerifiedHandPlacedSHA256(t *testing.T) {
	_, data := payload(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ds.tar.gz"), data, 0o644)
	sum := sha256.Sum256(data)
	f := File{URL: "http://127.0.0.1:1/nowhere", Name: "ds.tar.gz", SHA256: hex.EncodeToString(sum[:])}
	var progress bytes.Buffer
	if _, err := Verified(context.Background(), f, dir, &progress); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "checking SHA-256") {
		t.Errorf("progress %q", progress.String())
	}
	f.SHA256 = strings.Repeat("0", 64)
	_, err := Verified(context.Background(), f, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "SHA-256 "+hex.EncodeToString(sum[:])) || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("wrong SHA-256: %v", err)
	}
	fetchtest.DirHolds(t, dir, "ds.tar.gz.bad")
	f.SHA256 = ""
	if _, err := Verified(context.Background(), f, dir, nil); err == nil || !strings.Contains(err.Error(), "no checksum") {
		t.Errorf("no checksum: %v", err)
	}
}

func TestVerifiedResumesWithRange(t *testing.T) {
	_, data := payload(t)
	srv := fetchtest.Serve(t, data, true, 0)
	dir := t.TempDir()
	k := len(data) / 3
	if err := os.WriteFile(filepath.Join(dir, "ds.tar.gz.part"), data[:k], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Verified(context.Background(), file(srv.URL+"/ds.tar.gz", data), dir, nil); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("bytes=%d-", k); len(srv.Ranges()) != 1 || srv.Ranges()[0] != want {
		t.Errorf("Range headers %q, want one %q", srv.Ranges(), want)
	}
	if want, sent := int64(len(data)-k), srv.SentBytes(); sent != want {
		t.Errorf("server sent %d bytes, want %d (the rest only)", sent, want)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "ds.tar.gz"))
	if !bytes.Equal(got, data) {
		t.Error("file differs from the served one")
	}
}

// A server that ignores Range answers 200 with the whole file: the part file
// must be started over, not appended to.
func TestVerifiedServerIgnoresRange(t *testing.T) {
	_, data := payload(t)
	srv := fetchtest.Serve(t, data, false, 0)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ds.tar.gz.part"), bytes.Repeat([]byte{'x'}, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Verified(context.Background(), file(srv.URL+"/ds.tar.gz", data), dir, nil); err != nil {
		t.Fatal(err)
	}
	if len(srv.Ranges()) != 1 || srv.Ranges()[0] != "bytes=1000-" {
		t.Errorf("Range headers %q, want one bytes=1000-", srv.Ranges())
	}
	got, _ := os.ReadFile(filepath.Join(dir, "ds.tar.gz"))
	if !bytes.Equal(got, data) {
		t.Error("file differs from the served one")
	}
}

// A connection dropped half way leaves the part file, says so, and the next
// run resumes from it.
func TestVerifiedInterruptedThenResumed(t *testing.T) {
	_, data := payload(t)
	cut := len(data) / 2
	bad := fetchtest.Serve(t, data, true, cut)
	dir := t.TempDir()
	_, err := Verified(context.Background(), file(bad.URL+"/ds.tar.gz", data), dir, nil)
	if err == nil {
		t.Fatal("no error for a dropped connection")
	}
	for _, w := range []string{"could not download", "interrupted", "resumes"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	st, err := os.Stat(filepath.Join(dir, "ds.tar.gz.part"))
	if err != nil || st.Size() != int64(cut) {
		t.Fatalf("part file: %v, %v; want %d bytes", st, err, cut)
	}
	fetchtest.DirHolds(t, dir, "ds.tar.gz.part")

	good := fetchtest.Serve(t, data, true, 0)
	if _, err := Verified(context.Background(), file(good.URL+"/ds.tar.gz", data), dir, nil); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("bytes=%d-", cut); len(good.Ranges()) != 1 || good.Ranges()[0] != want {
		t.Errorf("Range headers %q, want %q", good.Ranges(), want)
	}
	fetchtest.DirHolds(t, dir, "ds.tar.gz")
}

// Cancelling the context stops the download with a message that is not the
// offline hint, and keeps the part file for the next run.
func TestVerifiedCancelled(t *testing.T) {
	_, data := payload(t)
	cut := len(data) / 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Write(data[:cut])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // Stall, like a network that stopped moving.
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // Cancel once the first half has arrived.
		for ctx.Err() == nil {
			if st, err := os.Stat(filepath.Join(dir, "ds.tar.gz.part")); err == nil && st.Size() == int64(cut) {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	_, err := Verified(ctx, file(srv.URL+"/ds.tar.gz", data), dir, nil)
	if err == nil {
		t.Fatal("no error after cancel")
	}
	if !strings.Contains(err.Error(), "stopped after") || !strings.Contains(err.Error(), "context canceled") || strings.Contains(err.Error(), "Offline?") {
		t.Errorf("error %q, want 'stopped after ... context canceled' without the offline hint", err)
	}
	fetchtest.DirHolds(t, dir, "ds.tar.gz.part")
}

func TestVerifiedMD5Mismatch(t *testing.T) {
	_, data := payload(t)
	srv := fetchtest.Serve(t, data, true, 0)
	f := file(srv.URL+"/ds.tar.gz", data)
	f.MD5, f.What = "0123456789abcdef0123456789abcdef", "Toy"
	dir := t.TempDir()
	_, err := Verified(context.Background(), f, dir, nil)
	if err == nil {
		t.Fatal("no error for a wrong MD5")
	}
	sum := md5.Sum(data)
	for _, w := range []string{"Toy: ", "corrupt", "MD5 " + hex.EncodeToString(sum[:]), "want 0123456789abcdef0123456789abcdef", "run again"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	// The bad file is moved aside, so the next run downloads afresh.
	fetchtest.DirHolds(t, dir, "ds.tar.gz.bad")
}

func TestVerifiedOffline(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/ds.tar.gz"
	srv.Close() // Nothing listens there any more.
	f := file(url, []byte("whatever"))
	f.Extracted = "ds"
	dir := t.TempDir()
	_, err := Verified(context.Background(), f, dir, nil)
	if err == nil {
		t.Fatal("no error without a server")
	}
	want := "could not download " + url + ": "
	wantTail := ". Offline? Download it by hand and put ds.tar.gz (or the extracted ds/ folder) in " + dir + ", then run again"
	if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), wantTail) {
		t.Errorf("error %q\nwant %q<cause>%q", err, want, wantTail)
	}
	fetchtest.DirHolds(t, dir)
}

func TestVerifiedHTTPError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	_, err := Verified(context.Background(), file(srv.URL+"/ds.tar.gz", []byte("whatever")), t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "HTTP 404") || !strings.Contains(err.Error(), "Offline?") {
		t.Errorf("error %v, want HTTP 404 and the offline hint", err)
	}
}

func TestUnpack(t *testing.T) {
	entries, data := payload(t)
	dir := t.TempDir()
	archive := filepath.Join(dir, "ds.tar.gz")
	os.WriteFile(archive, data, 0o644)
	var progress bytes.Buffer
	got, err := Unpack(context.Background(), archive, dir, "dataset", findDS, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if got != filepath.Join(dir, "dataset") || !strings.Contains(progress.String(), "extracting") {
		t.Errorf("unpacked to %s, progress %q", got, progress.String())
	}
	b, err := os.ReadFile(filepath.Join(got, "a.bin"))
	if err != nil || !bytes.Equal(b, entries[1].Body) {
		t.Errorf("a.bin: %v", err)
	}
	fetchtest.DirHolds(t, dir, "dataset", "ds.tar.gz")
	// What find looks for is not there: ErrNotFound, and nothing left behind.
	_, err = Unpack(context.Background(), archive, dir, "other", func(string) (string, bool) { return "", false }, nil)
	if err == nil || !strings.Contains(err.Error(), ErrNotFound.Error()) {
		t.Errorf("not found: %v", err)
	}
	fetchtest.DirHolds(t, dir, "dataset", "ds.tar.gz")
}

func TestUnpackRefusesEscapes(t *testing.T) {
	good, _ := payload(t)
	cases := []struct {
		name  string
		entry fetchtest.Entry
	}{
		{"dotdot", fetchtest.Entry{Name: "ds/../../evil.txt", Body: []byte("x")}},
		{"absolute", fetchtest.Entry{Name: "/tmp/vggkit-evil.txt", Body: []byte("x")}},
		{"symlink out", fetchtest.Entry{Name: "ds/link", Type: tar.TypeSymlink, Linkname: "../../evil"}},
		{"symlink absolute", fetchtest.Entry{Name: "ds/link", Type: tar.TypeSymlink, Linkname: "/etc"}},
		{"hard link out", fetchtest.Entry{Name: "ds/hl", Type: tar.TypeLink, Linkname: "../evil.txt"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The bad entry comes last, after the good files were written: the
			// whole extraction must still vanish.
			data := fetchtest.TarGz(t, append(append([]fetchtest.Entry(nil), good...), c.entry))
			top := t.TempDir()
			dir := filepath.Join(top, "a", "cache")
			os.MkdirAll(dir, 0o755)
			archive := filepath.Join(dir, "ds.tar.gz")
			os.WriteFile(archive, data, 0o644)
			_, err := Unpack(context.Background(), archive, dir, "dataset", findDS, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "refusing to extract") || !strings.Contains(err.Error(), c.entry.Name) {
				t.Errorf("error %q does not refuse entry %q", err, c.entry.Name)
			}
			fetchtest.DirHolds(t, dir, "ds.tar.gz")
			fetchtest.DirHolds(t, filepath.Join(top, "a"), "cache")
			fetchtest.DirHolds(t, top, "a")
			if _, err := os.Lstat("/tmp/vggkit-evil.txt"); err == nil {
				t.Error("/tmp/vggkit-evil.txt was written")
			}
		})
	}
}

// Links that stay inside are fine (and end up in the extracted folder).
func TestUnpackInsideLinks(t *testing.T) {
	entries, _ := payload(t)
	entries = append(entries,
		fetchtest.Entry{Name: "ds/alias.txt", Type: tar.TypeSymlink, Linkname: "names.txt"},
		fetchtest.Entry{Name: "ds/sub/up.txt", Type: tar.TypeSymlink, Linkname: "../names.txt"},
		fetchtest.Entry{Name: "ds/copy.txt", Type: tar.TypeLink, Linkname: "ds/names.txt"},
		fetchtest.Entry{Name: "./", Type: tar.TypeDir})
	dir := t.TempDir()
	archive := filepath.Join(dir, "ds.tar.gz")
	os.WriteFile(archive, fetchtest.TarGz(t, entries), 0o644)
	got, err := Unpack(context.Background(), archive, dir, "dataset", findDS, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"alias.txt", "sub/up.txt", "copy.txt"} {
		b, err := os.ReadFile(filepath.Join(got, n))
		if err != nil || string(b) != "cat\ndog\n" {
			t.Errorf("%s: %q, %v", n, b, err)
		}
	}
}
