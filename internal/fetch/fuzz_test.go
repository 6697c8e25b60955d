package fetch

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vggkit/vggkit/internal/fetch/fetchtest"
)

// fuzzSeeds adds archives with every kind of entry the checker meets (good ones, links
// inside, the escapes of the tests), each as a tar, one as a .tar.gz, and each in the
// line form of fuzzHeaders.
func fuzzSeeds(f *testing.F) {
	r := fetchtest.Entry{Name: "ds/names.txt", Body: []byte("cat\ndog\n")}
	seeds := [][]fetchtest.Entry{
		{{Name: "ds/", Type: tar.TypeDir}, r},
		{r, symlink("ds/alias.txt", "names.txt"), symlink("ds/sub/up.txt", "../names.txt"), hardlink("ds/copy.txt", "ds/names.txt"), {Name: "./", Type: tar.TypeDir}},
		{symlink("a/b/s", "../../x"), hardlink("h", "a/b/s")},
		{symlink("a", "."), symlink("a/b", "..")},
		{symlink("s", "x/p/.."), symlink("x/p", "..")},
		{symlink("a", "."), symlink("s", "a/..")},
		{symlink("s", "x/p/y"), symlink("x/p", "..")},
		{r, symlink("ds/l1", "names.txt"), symlink("ds/l2", "l1")},
		{symlink("ds/link", "../../evil"), {Name: "ds/../../evil.txt", Body: []byte("x")}},
		{{Name: "/tmp/vggkit-evil.txt", Body: []byte("x")}, hardlink("ds/hl", "../evil.txt")},
		{{Name: "ds/fifo", Type: tar.TypeFifo}, {Name: "d", Type: tar.TypeDir}, {Name: "d/", Type: tar.TypeDir}},
	}
	for _, s := range seeds {
		f.Add(fetchtest.Tar(f, s))
		var lines strings.Builder
		for _, e := range s {
			typ := map[byte]string{0: "f", tar.TypeDir: "d", tar.TypeSymlink: "l", tar.TypeLink: "h"}[e.Type]
			if typ == "" {
				typ = string(e.Type)
			}
			lines.WriteString(typ + " " + e.Name)
			if e.Linkname != "" {
				lines.WriteString(" " + e.Linkname)
			}
			lines.WriteString("\n")
		}
		f.Add([]byte(lines.String()))
	}
	f.Add(fetchtest.TarGz(f, seeds[1]))
}

// fuzzHeaders decodes a fuzz input into archive entries (at most 1000): a tar, or a
// .tar.gz (its first MB), is read with archive/tar up to its first error; anything
// else is read as lines "TYPE NAME [LINKNAME]", TYPE being d (folder), f (file, its
// body the name), l (symlink), h (hard link) or any other byte as the tar type flag. The
// line form lets the fuzzer reach the link rules: mutating a tar header mostly breaks
// its checksum.
func fuzzHeaders(b []byte) []*tar.Header {
	var hdrs []*tar.Header
	if r, ok := tarStream(b); ok {
		tr := tar.NewReader(r)
		for len(hdrs) < 1000 {
			hdr, err := tr.Next()
			if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
				break
			}
			hdrs = append(hdrs, hdr)
		}
		return hdrs
	}
	for line := range strings.Lines(string(b)) {
		if len(hdrs) == 1000 {
			break
		}
		fields := strings.Fields(line)
		if len(fields) < 2 || len(fields[0]) != 1 {
			continue
		}
		h := &tar.Header{Name: fields[1], Mode: 0o644}
		if len(fields) > 2 {
			h.Linkname = fields[2]
		}
		switch t := fields[0][0]; t {
		case 'd':
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		case 'f':
			h.Typeflag, h.Size = tar.TypeReg, int64(len(h.Name))
		case 'l':
			h.Typeflag = tar.TypeSymlink
		case 'h':
			h.Typeflag = tar.TypeLink
		default:
			h.Typeflag = t
		}
		hdrs = append(hdrs, h)
	}
	return hdrs
}

// tarStream is the tar stream in b and true when b is a tar (a valid first header) or
// a .tar.gz (its first MB).
func tarStream(b []byte) (io.Reader, bool) {
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		if gz, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			return io.LimitReader(gz, 1<<20), true
		}
		return nil, false
	}
	if _, err := tar.NewReader(bytes.NewReader(b)).Next(); err == nil || errors.Is(err, tar.ErrInsecurePath) {
		return bytes.NewReader(b), true
	}
	return nil, false
}

// tarOf is the tar archive of hdrs (a file's body: its name), up to the first header
// the tar writer refuses.
func tarOf(hdrs []*tar.Header) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(h.Name))
		} else {
			h.Size = 0
		}
		if tw.WriteHeader(h) != nil {
			break
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(h.Name))
		}
	}
	tw.Close()
	return buf.Bytes()
}

// vnode is an entry of the tree an extraction would leave, as the fuzz oracle sees it.
type vnode struct {
	kind   byte // kindDir, kindFile, kindLink.
	target string
}

// escapes resolves p (slash form, relative to the extraction folder) in tree as the
// kernel would, following every symlink on the way and at the end, and reports
// whether it ever goes above the folder ("" when not) and how.
func escapes(tree map[string]vnode, p string) string {
	var cur []string
	rest := strings.Split(p, "/")
	for hops := 0; len(rest) > 0; {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return "goes above the folder"
			}
			cur = cur[:len(cur)-1]
			continue
		}
		n, ok := tree[path.Join(append(cur, c)...)]
		if !ok {
			return "" // Dangling: the kernel stops here.
		}
		switch n.kind {
		case kindLink:
			if hops++; hops > 40 {
				return "" // ELOOP.
			}
			if path.IsAbs(n.target) {
				return "goes to the absolute " + n.target
			}
			rest = append(strings.Split(n.target, "/"), rest...)
		case kindFile:
			if len(rest) > 0 {
				return "" // ENOTDIR.
			}
		default:
			cur = append(cur, c)
		}
	}
	return ""
}

// FuzzTarEntries feeds arbitrary archives (fuzzHeaders) to the checker, which vets
// every entry before extraction writes it, without touching the disk (the extractor's
// part where a mistake lets a file out). It must never panic, and whatever it accepts must build,
// per an independent model of the tree, a tree where no entry is under a file or a
// link, no name comes twice (but folders), hard links go to earlier regular files,
// and no path, followed through every link, leaves the extraction folder.
func FuzzTarEntries(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var c checker
		tree := map[string]vnode{}
		for _, hdr := range fuzzHeaders(b) {
			name, err := c.check(hdr)
			if err != nil {
				break // Extraction stops at the first refused entry.
			}
			if name == "" {
				continue
			}
			name = filepath.ToSlash(name)
			for d := path.Dir(name); d != "."; d = path.Dir(d) {
				if n, ok := tree[d]; ok && n.kind != kindDir {
					t.Fatalf("accepted %q under %q, a %s", hdr.Name, d, kindName(n.kind))
				}
				tree[d] = vnode{kind: kindDir}
			}
			n := vnode{kind: kindFile}
			switch hdr.Typeflag {
			case tar.TypeDir:
				n.kind = kindDir
			case tar.TypeSymlink:
				n = vnode{kind: kindLink, target: hdr.Linkname}
			case tar.TypeLink:
				if old, ok := tree[path.Clean(hdr.Linkname)]; !ok || old.kind != kindFile {
					t.Fatalf("accepted %q, a hard link to %q, not an earlier regular file", hdr.Name, hdr.Linkname)
				}
			}
			if old, ok := tree[name]; ok && (old.kind != kindDir || n.kind != kindDir) {
				t.Fatalf("accepted %q twice", hdr.Name)
			}
			tree[name] = n
		}
		for name := range tree {
			if why := escapes(tree, name); why != "" {
				t.Fatalf("accepted archive leaves %q, which %s (tree %v)", name, why, tree)
			}
		}
	})
}

// fuzzBase is a folder for FuzzExtract's extractions, made once per process: in
// /dev/shm (memory) where there is one, so an input costs no disk I/O.
var fuzzBase = sync.OnceValues(func() (string, error) {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "vggkit-fuzz-"); err == nil {
			return d, nil
		}
	}
	return os.MkdirTemp("", "vggkit-fuzz-")
})

// FuzzExtract extracts arbitrary archives for real (a tar or .tar.gz as it is, the line
// form of fuzzHeaders made into a tar), into a fresh folder, and checks
// the disk: nothing written beside it, and no symlink in it that leads out of it when
// followed. It must never panic. Slower than FuzzTarEntries (each input makes and
// removes a folder), it checks that the checker's model and the disk agree.
func FuzzExtract(f *testing.F) {
	fuzzSeeds(f)
	base, err := fuzzBase()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(base) })
	f.Fuzz(func(t *testing.T, b []byte) {
		box, err := os.MkdirTemp(base, "x")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(box)
		dst := filepath.Join(box, "root")
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		root, err := os.OpenRoot(dst)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := tarStream(b)
		if !ok {
			r = bytes.NewReader(tarOf(fuzzHeaders(b)))
		}
		_ = extractTar(context.Background(), r, root, dst)
		root.Close()
		if ents, _ := os.ReadDir(box); len(ents) != 1 {
			t.Fatalf("extraction wrote beside its folder: %v", ents)
		}
		// The tree on disk, as the model of FuzzTarEntries sees it.
		tree := map[string]vnode{}
		filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
			if err != nil || p == dst {
				return nil
			}
			rel, _ := filepath.Rel(dst, p)
			rel = filepath.ToSlash(rel)
			switch {
			case d.Type()&fs.ModeSymlink != 0:
				target, _ := os.Readlink(p)
				tree[rel] = vnode{kind: kindLink, target: target}
			case d.IsDir():
				tree[rel] = vnode{kind: kindDir}
			default:
				tree[rel] = vnode{kind: kindFile}
			}
			return nil
		})
		for name := range tree {
			if why := escapes(tree, name); why != "" {
				t.Fatalf("extraction left %q, which %s (tree %v)", name, why, tree)
			}
		}
	})
}
