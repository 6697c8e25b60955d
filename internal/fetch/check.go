package fetch

import (
	"archive/tar"
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// checker vets a tar archive's entries, in order, before any of them is written: it
// keeps in memory what the extraction folder will hold, and refuses an entry that
// would put anything outside it or leave a link pointing out of it once extracted:
//   - a name that is absolute, climbs out with "..", or holds a backslash;
//   - an entry under a link or a file (folders on the way must be folders), or a name
//     that comes twice (except a folder again);
//   - a symlink whose target is absolute, climbs out of the folder from the link's own
//     place, climbs (..) after going down a level (the kernel resolves a link on the
//     way before the "..", so the lexical check would not hold), or goes to or
//     through another link, before or after in the archive;
//   - a hard link to anything but a regular file earlier in the archive: a hard link to
//     a symlink copies the symlink, whose relative target then reads from the new
//     place (a/b/s -> ../../x, then h linked to a/b/s: h -> ../../x, outside);
//   - devices, FIFOs and other special files.
//
// With these rules each link resolves from a real folder, goes up no further than the
// extraction folder, then only down, so every path in the result stays inside it.
// Dataset archives hold no links at all. The checker touches no disk, so it is cheap to
// fuzz (FuzzTarEntries).
type checker struct {
	kind map[string]byte // Clean slash name -> kindDir, kindFile, kindLink.
	// Lexical targets of the symlinks so far and every folder on their way, each with
	// the link it comes from: a later link there would make a link to a link.
	onLinkPath map[string]string
}

const (
	kindDir  = 'd'
	kindFile = 'f'
	kindLink = 'l'
)

func kindName(k byte) string {
	switch k {
	case kindDir:
		return "folder"
	case kindFile:
		return "file"
	}
	return "symlink"
}

// check vets hdr and records it. It returns the entry's clean name in the local
// form (filepath), or "" for an entry that writes nothing (the folder itself, a
// global header).
func (c *checker) check(hdr *tar.Header) (string, error) {
	if c.kind == nil {
		c.kind = map[string]byte{}
		c.onLinkPath = map[string]string{}
	}
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return "", nil // Metadata only.
	}
	name, err := localEntryName(hdr.Name)
	if err != nil {
		return "", err
	}
	if name == "." {
		if hdr.Typeflag == tar.TypeDir {
			return "", nil
		}
		return "", fmt.Errorf("archive entry %q names the target folder itself but is not a folder: refusing to extract", hdr.Name)
	}
	var k byte
	switch hdr.Typeflag {
	case tar.TypeDir:
		k = kindDir
	case tar.TypeReg, tar.TypeLink:
		k = kindFile
	case tar.TypeSymlink:
		k = kindLink
	default:
		return "", fmt.Errorf("archive entry %q has unsupported type %q", hdr.Name, hdr.Typeflag)
	}
	// The folders on the way must be folders (made by an entry, or implicitly).
	for i := 0; i < len(name); i++ {
		if name[i] != '/' {
			continue
		}
		switch pk, ok := c.kind[name[:i]]; {
		case !ok:
			c.kind[name[:i]] = kindDir
		case pk != kindDir:
			return "", fmt.Errorf("archive entry %q lies under %q, a %s: refusing to extract", hdr.Name, name[:i], kindName(pk))
		}
	}
	if old, ok := c.kind[name]; ok && (old != kindDir || k != kindDir) {
		return "", fmt.Errorf("archive entry %q comes twice (first as a %s): refusing to extract", hdr.Name, kindName(old))
	}
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		if err := c.checkSymlink(hdr, name); err != nil {
			return "", err
		}
	case tar.TypeLink:
		old, err := localEntryName(hdr.Linkname)
		if err != nil || old == "." {
			return "", fmt.Errorf("archive entry %q is a hard link to %q, outside the target folder: refusing to extract", hdr.Name, hdr.Linkname)
		}
		switch ok, found := c.kind[old]; {
		case !found:
			return "", fmt.Errorf("archive entry %q is a hard link to %q, which is not an earlier entry of the archive: refusing to extract", hdr.Name, hdr.Linkname)
		case ok != kindFile:
			return "", fmt.Errorf("archive entry %q is a hard link to %q, a %s: refusing to extract (only hard links to regular files are extracted)", hdr.Name, hdr.Linkname, kindName(ok))
		}
	}
	c.kind[name] = k
	return filepath.FromSlash(name), nil
}

// checkSymlink vets the target of the symlink name (see checker) and records its path.
func (c *checker) checkSymlink(hdr *tar.Header, name string) error {
	target := hdr.Linkname
	refuse := func(why string) error {
		return fmt.Errorf("archive entry %q is a symlink to %q, %s: refusing to extract", hdr.Name, target, why)
	}
	if target == "" || path.IsAbs(target) || filepath.IsAbs(target) || filepath.VolumeName(target) != "" || strings.ContainsAny(target, "\\\x00") {
		return refuse("outside the target folder")
	}
	down := false
	for _, part := range strings.Split(target, "/") {
		switch part {
		case "", ".":
		case "..":
			if down {
				return refuse(`which climbs ("..") after going down a level`)
			}
		default:
			down = true
		}
	}
	resolved := path.Join(path.Dir(name), target)
	if !filepath.IsLocal(filepath.FromSlash(resolved)) && resolved != "." {
		return refuse("outside the target folder")
	}
	if l, ok := c.onLinkPath[name]; ok {
		return fmt.Errorf("archive entry %q is a symlink, and symlink %q points to or through it: refusing to extract (a link to a link)", hdr.Name, l)
	}
	// The target and the folders on its way: none may be a link, now or later.
	for p := resolved; ; p = path.Dir(p) {
		if k, ok := c.kind[p]; ok && k == kindLink {
			if p == resolved {
				return refuse(fmt.Sprintf("itself the symlink %q (a link to a link)", p))
			}
			return refuse(fmt.Sprintf("through the symlink %q (a link to a link)", p))
		}
		if p == "." || p == "/" {
			break
		}
		if _, ok := c.onLinkPath[p]; !ok {
			c.onLinkPath[p] = hdr.Name
		}
	}
	return nil
}

// localEntryName cleans a tar entry name (slash form) and refuses one that is absolute,
// climbs out with "..", or holds a backslash.
func localEntryName(name string) (string, error) {
	clean := path.Clean(name)
	if clean == "." {
		return ".", nil
	}
	if path.IsAbs(name) || filepath.IsAbs(name) || strings.ContainsAny(name, "\\\x00") || !filepath.IsLocal(filepath.FromSlash(clean)) {
		return "", fmt.Errorf("archive entry %q escapes the target folder: refusing to extract", name)
	}
	return clean, nil
}
