package data

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vggkit/vggkit/internal/fetch/fetchtest"
)

// An archive whose train_X.bin is a hard link to a deep relative symlink: each entry
// looks local, but the copy of the symlink reads ../../../outside.bin from
// stl10_binary/, a file outside the cache. The download must refuse the archive,
// naming the entry, and nothing may read that file (before, DownloadSTL10 succeeded
// and LoadSTL10 read it).
func TestDownloadSTL10RefusesLinkOutside(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	top := t.TempDir()
	cache := filepath.Join(top, "c1", "cache") // cache/stl10_binary/../../.. is top.
	outside := filepath.Join(top, "outside.bin")
	secret := bytes.Repeat([]byte{77}, len(f.files["train_X.bin"]))
	// The link is first made in a temporary folder one level deeper in the cache,
	// where it reads c1/outside.bin; that one must be there too for the old
	// extractor to take the archive.
	for _, p := range []string{outside, filepath.Join(top, "c1", "outside.bin")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, secret, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var entries []fetchtest.Entry
	for _, e := range stl10Entries(f) {
		if e.Name != "stl10_binary/train_X.bin" {
			entries = append(entries, e)
		}
	}
	entries = append(entries,
		// From stl10_binary/a/b/c, ../../.. is stl10_binary: inside.
		fetchtest.Entry{Name: "stl10_binary/a/b/c/s", Type: tar.TypeSymlink, Linkname: "../../../outside.bin"},
		// A hard link copies the symlink itself: from stl10_binary/, outside.
		fetchtest.Entry{Name: "stl10_binary/train_X.bin", Type: tar.TypeLink, Linkname: "stl10_binary/a/b/c/s"})
	data := fetchtest.TarGz(t, entries)
	srv := fetchtest.Serve(t, data, true, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)

	_, err := DownloadSTL10(context.Background(), cache, nil)
	if err == nil {
		s, lerr := LoadSTL10(cache, "train", -1)
		if lerr == nil && s.Len() > 0 && s.Pixels[0] == 77 {
			t.Fatalf("archive extracted, and LoadSTL10 read %s, outside the cache", outside)
		}
		t.Fatalf("no error for an archive with a link out of the cache (load: %v)", lerr)
	}
	archive := filepath.Join(cache, "stl10_binary.tar.gz")
	for _, w := range []string{"STL-10: extracting " + archive + ": ",
		`archive entry "stl10_binary/train_X.bin" is a hard link to "stl10_binary/a/b/c/s", a symlink`, "refusing to extract"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	fetchtest.DirHolds(t, cache, "stl10_binary.tar.gz")
	fetchtest.DirHolds(t, top, "c1", "outside.bin")
	if _, ok := FindSTL10(cache); ok {
		t.Error("FindSTL10 finds STL-10 after the refused extraction")
	}
	if s, err := LoadSTL10(cache, "train", -1); err == nil {
		t.Errorf("LoadSTL10 read %d images after the refused extraction", s.Len())
	}
}

// An archive whose gzip CRC is wrong (while its MD5 is the expected one) is said to be
// corrupt, naming it, and is not extracted: before, the CRC was never checked and the
// damaged data was extracted and read without a word.
func TestDownloadSTL10CorruptArchive(t *testing.T) {
	f := newFakeSTL10(t, 20, 10, 4)
	data := fetchtest.TarGz(t, stl10Entries(f))
	data[len(data)-8] ^= 0xff // The CRC-32 in the gzip trailer.
	srv := fetchtest.Serve(t, data, true, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)
	cache := t.TempDir()
	_, err := DownloadSTL10(context.Background(), cache, nil)
	want := "STL-10: extracting " + filepath.Join(cache, "stl10_binary.tar.gz") + ": the archive is corrupt: its gzip checksum (CRC-32 and length) does not match the data"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v\nwant %q", err, want)
	}
	fetchtest.DirHolds(t, cache, "stl10_binary.tar.gz")
}

// A full disk during the download (the part file is a symlink to Linux's /dev/full,
// where every write fails with ENOSPC) names the file and the full disk; it said
// "Offline?" before.
func TestDownloadSTL10DiskFull(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/dev/full is Linux's")
	}
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip(err)
	}
	f := newFakeSTL10(t, 20, 10, 4)
	data := fetchtest.TarGz(t, stl10Entries(f))
	srv := fetchtest.Serve(t, data, true, 0)
	setRemote(t, srv.URL+"/stl10_binary.tar.gz", data)
	cache := t.TempDir()
	part := filepath.Join(cache, "stl10_binary.tar.gz.part")
	if err := os.Symlink("/dev/full", part); err != nil {
		t.Fatal(err)
	}
	_, err := DownloadSTL10(context.Background(), cache, nil)
	if err == nil {
		t.Fatal("no error with a full disk")
	}
	for _, w := range []string{"STL-10: cannot write " + part + " (after 0.0 of ", "no space left on device: the disk is full (", "MB more are needed); free space there"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "Offline?") {
		t.Errorf("error %q reads as a network problem", err)
	}
}
