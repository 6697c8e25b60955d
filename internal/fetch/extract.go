package fetch

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ErrNotFound is Unpack's error when the archive does not hold what find looks for.
var ErrNotFound = errors.New("not found in the archive")

// Unpack extracts archive (a .tar.gz, as ExtractTarGz) into a temporary folder in dir,
// locates there the folder that holds what is wanted (find, given the temporary
// folder's path), and renames it to dir/sub, which it returns: the result appears
// complete or not at all, and nothing else of the archive stays behind. When find
// locates nothing, the error wraps ErrNotFound.
func Unpack(ctx context.Context, archive, dir, sub string, find func(root string) (string, bool), progress io.Writer) (string, error) {
	if progress == nil {
		progress = io.Discard
	}
	tmp, err := os.MkdirTemp(dir, ".extract-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // Whatever was not renamed into place.
	if err := ExtractTarGz(ctx, archive, tmp, progress); err != nil {
		return "", fmt.Errorf("extracting %s: %w", archive, err)
	}
	found, ok := find(tmp)
	if !ok {
		return "", fmt.Errorf("%s: %w", archive, ErrNotFound)
	}
	final := filepath.Join(dir, sub)
	if err := os.Rename(found, final); err != nil {
		return "", err
	}
	return final, nil
}

// ExtractTarGz extracts a .tar.gz into dst (which must exist). Entries whose paths or
// link targets would land outside dst (absolute, "..", symlinks pointing out) are
// refused: the archive comes from the network. Writes go through an os.Root, which
// also stops escapes through chains of links that a lexical check cannot see.
// Progress (nil: none) counts the compressed bytes read.
func ExtractTarGz(ctx context.Context, archive, dst string, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	bar := newProgressBar(progress, "extracting", 0, st.Size())
	defer bar.finish()
	gz, err := gzip.NewReader(bufio.NewReaderSize(io.TeeReader(f, bar), 1<<20))
	if err != nil {
		return err
	}
	defer gz.Close()
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(gz)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return err
		}
		// ErrInsecurePath (GODEBUG tarinsecurepath=0) comes with the header; the
		// check below refuses that entry with a message naming it.
		name, err := localEntryName(hdr.Name)
		if err != nil {
			return err
		}
		if name == "." {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := mkParent(root, name); err != nil {
				return err
			}
			out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			target := hdr.Linkname
			if path.IsAbs(target) || filepath.IsAbs(target) || !filepath.IsLocal(filepath.FromSlash(path.Join(path.Dir(name), target))) {
				return fmt.Errorf("archive entry %q is a symlink to %q, outside the target folder: refusing to extract", hdr.Name, target)
			}
			if err := mkParent(root, name); err != nil {
				return err
			}
			if err := root.Symlink(target, name); err != nil {
				return err
			}
		case tar.TypeLink:
			old, err := localEntryName(hdr.Linkname)
			if err != nil || old == "." {
				return fmt.Errorf("archive entry %q is a hard link to %q, outside the target folder: refusing to extract", hdr.Name, hdr.Linkname)
			}
			if err := mkParent(root, name); err != nil {
				return err
			}
			if err := root.Link(old, name); err != nil {
				return err
			}
		case tar.TypeXGlobalHeader:
			// Metadata only.
		default:
			return fmt.Errorf("archive entry %q has unsupported type %q", hdr.Name, hdr.Typeflag)
		}
	}
}

// localEntryName cleans a tar entry name and refuses one that is absolute or
// climbs out with "..".
func localEntryName(name string) (string, error) {
	clean := path.Clean(name)
	if clean == "." {
		return ".", nil
	}
	if path.IsAbs(name) || filepath.IsAbs(name) || strings.Contains(name, `\`) || !filepath.IsLocal(filepath.FromSlash(clean)) {
		return "", fmt.Errorf("archive entry %q escapes the target folder: refusing to extract", name)
	}
	return filepath.FromSlash(clean), nil
}

func mkParent(root *os.Root, name string) error {
	if d := filepath.Dir(name); d != "." {
		return root.MkdirAll(d, 0o755)
	}
	return nil
}
