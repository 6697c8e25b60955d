package fetch

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/vggkit/vggkit/internal/fetch/fetchtest"
)

// unpackEntries writes the archive of entries into a fresh cache folder two levels
// below a temporary folder and unpacks it as "dataset"; it returns the error, the
// cache folder and the top folder.
func unpackEntries(t *testing.T, entries []fetchtest.Entry) (error, string, string) {
	t.Helper()
	top := t.TempDir()
	dir := filepath.Join(top, "a", "cache")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "ds.tar.gz")
	if err := os.WriteFile(archive, fetchtest.TarGz(t, entries), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Unpack(context.Background(), archive, dir, "dataset", findDS, nil)
	return err, dir, top
}

func symlink(name, target string) fetchtest.Entry {
	return fetchtest.Entry{Name: name, Type: tar.TypeSymlink, Linkname: target}
}

func hardlink(name, target string) fetchtest.Entry {
	return fetchtest.Entry{Name: name, Type: tar.TypeLink, Linkname: target}
}

// Links that each look local but, once extracted, point out of the folder (or to other
// links) are refused, with the entry named, and nothing is left behind. The old
// extractor accepted all of these; the first four left a link pointing outside.
func TestUnpackRefusesLinksToLinks(t *testing.T) {
	good, _ := payload(t)
	cases := []struct {
		name    string
		entries []fetchtest.Entry
		want    []string // fragments of the error.
	}{
		// The case: h, a copy of the symlink a/b/s, reads ../../x from the top.
		{"hard link to a deep symlink", []fetchtest.Entry{symlink("a/b/s", "../../x"), hardlink("h", "a/b/s")},
			[]string{`archive entry "h" is a hard link to "a/b/s", a symlink`}},
		{"hard link to a deep symlink in ds", []fetchtest.Entry{symlink("ds/a/b/s", "../../../x"), hardlink("ds/names2.txt", "ds/a/b/s")},
			[]string{`archive entry "ds/names2.txt" is a hard link to "ds/a/b/s", a symlink`}},
		// a is the top folder, so a/b is made there, and .. from it is outside.
		{"symlink under a symlink", []fetchtest.Entry{symlink("a", "."), symlink("a/b", "..")},
			[]string{`archive entry "a/b" lies under "a", a symlink`}},
		// x/p is the top folder once the second entry is there: s -> (top)/.. .
		{"climbs after a later symlink", []fetchtest.Entry{symlink("s", "x/p/.."), symlink("x/p", "..")},
			[]string{`archive entry "s" is a symlink to "x/p/.."`, "climbs"}},
		{"climbs through a symlink", []fetchtest.Entry{symlink("a", "."), symlink("s", "a/..")},
			[]string{`archive entry "s" is a symlink to "a/.."`}},
		{"symlink to a symlink", []fetchtest.Entry{symlink("ds/l1", "names.txt"), symlink("ds/l2", "l1")},
			[]string{`archive entry "ds/l2" is a symlink to "l1", itself the symlink "ds/l1"`}},
		{"symlink made on a symlink's path", []fetchtest.Entry{symlink("s", "x/p/y"), symlink("x/p", "..")},
			[]string{`archive entry "x/p" is a symlink, and symlink "s" points to or through it`}},
		{"file under a symlink", []fetchtest.Entry{symlink("ds/sub", "."), {Name: "ds/sub/f.txt", Body: []byte("x")}},
			[]string{`archive entry "ds/sub/f.txt" lies under "ds/sub", a symlink`}},
		{"name twice", []fetchtest.Entry{symlink("ds/x", "names.txt"), {Name: "ds/x", Body: []byte("x")}},
			[]string{`archive entry "ds/x" comes twice (first as a symlink)`}},
		{"hard link to a folder", []fetchtest.Entry{hardlink("h", "ds")},
			[]string{`archive entry "h" is a hard link to "ds", a folder`}},
		{"hard link to a later file", []fetchtest.Entry{hardlink("h", "later.txt"), {Name: "later.txt"}},
			[]string{`archive entry "h" is a hard link to "later.txt", which is not an earlier entry`}},
		{"fifo", []fetchtest.Entry{{Name: "ds/fifo", Type: tar.TypeFifo}}, []string{`archive entry "ds/fifo" has unsupported type`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err, dir, top := unpackEntries(t, append(append([]fetchtest.Entry(nil), good...), c.entries...))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(c.want, "refusing to extract", "extracting "+filepath.Join(dir, "ds.tar.gz")+": ") {
				if !strings.Contains(err.Error(), w) && !(w == "refusing to extract" && strings.Contains(err.Error(), "unsupported type")) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			fetchtest.DirHolds(t, dir, "ds.tar.gz")
			fetchtest.DirHolds(t, filepath.Join(top, "a"), "cache")
			fetchtest.DirHolds(t, top, "a")
		})
	}
}

// The disk has the last word: a symlink is only made in real folders (where names
// fold, the checker's view could miss that a folder is a link).
func TestRealFolders(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "d", "e"), 0o755)
	os.Symlink("d", filepath.Join(dir, "l"))
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := realFolders(root, filepath.Join("d", "e", "x")); err != nil {
		t.Errorf("real folders: %v", err)
	}
	if err := realFolders(root, filepath.Join("l", "e", "x")); err == nil || !strings.Contains(err.Error(), "l is not a real folder") {
		t.Errorf("folder through a link: %v", err)
	}
}

// A corrupt or truncated archive is said to be so, with its name; nothing is left.
// A bad gzip CRC was not noticed at all before (the tar reader stops at the end-of-
// archive blocks, before the gzip trailer).
func TestUnpackCorruptArchive(t *testing.T) {
	_, data := payload(t)
	crc := append([]byte(nil), data...)
	crc[len(crc)-8] ^= 0xff // The CRC-32 in the gzip trailer.
	length := append([]byte(nil), data...)
	length[len(length)-1] ^= 0x01 // The length in the gzip trailer.
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"crc", crc, "the archive is corrupt: its gzip checksum (CRC-32 and length) does not match the data"},
		{"length", length, "the archive is corrupt: its gzip checksum"},
		{"cut", data[:len(data)/2], "the archive is cut short"},
		{"cut in the trailer", data[:len(data)-4], "the archive is cut short"},
		{"not gzip", []byte("PK\x03\x04 a zip file, say"), "the archive is corrupt: not valid gzip data"},
		{"empty", nil, "the archive is cut short"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			archive := filepath.Join(dir, "ds.tar.gz")
			os.WriteFile(archive, c.data, 0o644)
			_, err := Unpack(context.Background(), archive, dir, "dataset", findDS, nil)
			if err == nil || !strings.Contains(err.Error(), "extracting "+archive+": "+c.want) {
				t.Errorf("error %v\nwant %q", err, "extracting "+archive+": "+c.want)
			}
			fetchtest.DirHolds(t, dir, "ds.tar.gz")
		})
	}
}

// failingFile stands for a file on a troubled disk: writes fail with err once more
// than after bytes were written; closeErr is Close's error.
type failingFile struct {
	f             *os.File
	after, n      int
	err, closeErr error
}

func (w *failingFile) Write(b []byte) (int, error) {
	if w.err != nil && w.n+len(b) > w.after {
		k := max(w.after-w.n, 0)
		w.f.Write(b[:k])
		w.n += k
		return k, &os.PathError{Op: "write", Path: w.f.Name(), Err: w.err}
	}
	n, err := w.f.Write(b)
	w.n += n
	return n, err
}

func (w *failingFile) Close() error {
	err := w.f.Close()
	if w.closeErr != nil {
		return &os.PathError{Op: "close", Path: w.f.Name(), Err: w.closeErr}
	}
	return err
}

// setDisk makes the files fetch writes behave as on a troubled disk: openErr fails
// the open, err the writes after `after` bytes, closeErr the close.
func setDisk(t *testing.T, openErr, err error, after int, closeErr error) {
	t.Helper()
	testHookOpen = func(path string, f *os.File) (io.WriteCloser, error) {
		if openErr != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: openErr}
		}
		return &failingFile{f: f, after: after, err: err, closeErr: closeErr}, nil
	}
	t.Cleanup(func() { testHookOpen = nil })
}

// A full disk, a quota, a read-only file system or a permission problem during a
// download is said as such, naming the file, and not as "Offline?" (which a full
// disk read as before).
func TestVerifiedDiskProblems(t *testing.T) {
	_, data := payload(t)
	srv := fetchtest.Serve(t, data, true, 0)
	mb := float64(len(data)) / 1e6
	cases := []struct {
		name                   string
		openErr, err, closeErr error
		after                  int
		want                   []string
	}{
		{"full", nil, syscall.ENOSPC, nil, 100_000, []string{"(after 0.1 of 1.0 MB): no space left on device: the disk is full (0.9 MB more are needed); free space there and run again (the download resumes where it stopped), or choose another folder"}},
		{"full at once", nil, syscall.ENOSPC, nil, 0, []string{": no space left on device: the disk is full (1.0 MB more are needed); free space there and run again, or choose another folder"}},
		{"quota", nil, syscall.EDQUOT, nil, 100_000, []string{"disk quota exceeded: the disk quota is used up"}},
		{"quota at close", nil, nil, syscall.EDQUOT, 0, []string{"disk quota exceeded: the disk quota is used up"}},
		{"read-only", syscall.EROFS, nil, nil, 0, []string{"read-only file system: the file system is read-only; choose a folder on a writable disk"}},
		{"permission", syscall.EACCES, nil, nil, 0, []string{"permission denied: no permission to write there; choose a folder you can write to"}},
		{"other", nil, syscall.EIO, nil, 1000, []string{"(after 0.0 of 1.0 MB): input/output error"}},
	}
	_ = mb
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			f := file(srv.URL+"/ds.tar.gz", data)
			f.What = "Toy"
			setDisk(t, c.openErr, c.err, c.after, c.closeErr)
			_, err := Verified(context.Background(), f, dir, nil)
			if err == nil {
				t.Fatal("no error")
			}
			part := filepath.Join(dir, "ds.tar.gz.part")
			for _, w := range append(c.want, "Toy: cannot write "+part) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "Offline?") || strings.Contains(err.Error(), "could not download") {
				t.Errorf("error %q reads as a network problem", err)
			}
			if c.err != nil && !errors.Is(err, c.err) {
				t.Errorf("error %q does not wrap %v", err, c.err)
			}
		})
	}
}

// A real full disk: the part file is a symlink to /dev/full (Linux), where every write
// fails with ENOSPC.
func TestVerifiedDevFull(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/dev/full is Linux's")
	}
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip(err)
	}
	_, data := payload(t)
	srv := fetchtest.Serve(t, data, true, 0)
	dir := t.TempDir()
	part := filepath.Join(dir, "ds.tar.gz.part")
	if err := os.Symlink("/dev/full", part); err != nil {
		t.Fatal(err)
	}
	_, err := Verified(context.Background(), file(srv.URL+"/ds.tar.gz", data), dir, nil)
	want := "ds.tar.gz: cannot write " + part + " (after 0.0 of 1.0 MB): no space left on device: the disk is full (1.0 MB more are needed)"
	if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "Offline?") {
		t.Errorf("error %v\nwant %q...", err, want)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("error %v does not wrap ENOSPC", err)
	}
}

// A full disk while extracting names the archive, the entry and the problem; nothing
// is left behind.
func TestUnpackDiskFull(t *testing.T) {
	_, data := payload(t)
	dir := t.TempDir()
	archive := filepath.Join(dir, "ds.tar.gz")
	os.WriteFile(archive, data, 0o644)
	setDisk(t, nil, syscall.ENOSPC, 4096, nil)
	_, err := Unpack(context.Background(), archive, dir, "dataset", findDS, nil)
	want := []string{"extracting " + archive + `: archive entry "ds/a.bin": cannot write ` + dir, "a.bin: no space left on device: the disk is full; free space there and run again, or choose another folder"}
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v lacks %q", err, w)
		}
	}
	fetchtest.DirHolds(t, dir, "ds.tar.gz")
}
