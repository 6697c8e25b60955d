// Package fetchtest builds .tar.gz (and .tar) archives for tests of downloads and extraction.
package fetchtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// Entry is one member of an archive.
type Entry struct {
	Name     string
	Body     []byte
	Type     byte // tar.TypeReg if zero.
	Linkname string
}

// TarGz returns the gzipped tar archive of entries, in order.
func TarGz(t testing.TB, entries []Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	if _, err := gz.Write(Tar(t, entries)); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Tar returns the tar archive of entries, in order, uncompressed.
func Tar(t testing.TB, entries []Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Typeflag: e.Type, Linkname: e.Linkname, Mode: 0o644, ModTime: time.Unix(1e9, 0)}
		switch e.Type {
		case 0:
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.Body))
		case tar.TypeDir:
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.Body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// DirHolds fails the test if dir holds anything but the names listed.
func DirHolds(t testing.TB, dir string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
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
		t.Errorf("%s holds %v, want %v", dir, got, want)
	}
}
