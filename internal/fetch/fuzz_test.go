package fetch

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
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

// fuzzSeeds are archives (plain tar; the fuzz targets also take a .tar.gz) with every
// kind of entry the checker meets: good ones, links inside, and the escapes of the
// tests.
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
	}
	f.Add(fetchtest.TarGz(f, seeds[1]))
}

// tarStream is the tar stream in b: b itself, or its gunzipped content (at most
// 1 MB) when b starts with the gzip magic.
func tarStream(b []byte) io.Reader {
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		if gz, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			return io.LimitReader(gz, 1<<20)
		}
	}
	return bytes.NewReader(b)
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

// FuzzTarEntries feeds arbitrary archives to the checker, which vets every entry
// before extraction writes it, without touching the disk (the extractor's part where a
// mistake lets a file out). It must never panic, and whatever it accepts must build,
// per an independent model of the tree, a tree where no entry is under a file or a
// link, no name comes twice (but folders), hard links go to earlier regular files,
// and no path, followed through every link, leaves the extraction folder.
func FuzzTarEntries(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		tr := tar.NewReader(tarStream(b))
		var c checker
		tree := map[string]vnode{}
		for range 1000 {
			hdr, err := tr.Next()
			if err != nil && err != tar.ErrInsecurePath {
				break
			}
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

// FuzzExtract extracts arbitrary archives for real, into a fresh folder, and checks
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
		_ = extractTar(context.Background(), tarStream(b), root, dst)
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
