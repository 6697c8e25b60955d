package fetch

import (
	"archive/tar"
	"bufio"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/vggkit/vggkit/internal/regularfile"
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
		return "", writeError(dir, err, 0, false)
	}
	defer os.RemoveAll(tmp) // Whatever was not renamed into place.
	if err := ExtractTarGz(ctx, archive, tmp, progress); err != nil {
		return "", err
	}
	found, ok := find(tmp)
	if !ok {
		return "", fmt.Errorf("%s: %w", archive, ErrNotFound)
	}
	final := filepath.Join(dir, sub)
	if err := os.Rename(found, final); err != nil {
		return "", writeError(final, err, 0, false)
	}
	return final, nil
}

// ExtractTarGz extracts a .tar.gz into dst (which must exist). Every entry is checked
// before anything is written (checker: the archive comes from the network), and an
// archive with an entry that would land outside dst, or a link that points outside it
// or to another link, is refused. Writes go through an os.Root, which also keeps them
// in dst. The gzip stream is read to its end, so its CRC-32 is checked. Errors name the
// archive and, for a refused entry, the entry; a corrupt or truncated archive and a full
// disk are said as such. Progress (nil: none) counts the compressed bytes read.
func ExtractTarGz(ctx context.Context, archive, dst string, progress io.Writer) error {
	if err := extractTarGz(ctx, archive, dst, progress); err != nil {
		return fmt.Errorf("extracting %s: %w", archive, err)
	}
	return nil
}

func extractTarGz(ctx context.Context, archive, dst string, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	f, size, err := regularfile.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	bar := newProgressBar(progress, "extracting", 0, size)
	defer bar.finish()
	gz, err := gzip.NewReader(bufio.NewReaderSize(io.TeeReader(f, bar), 1<<20))
	if err != nil {
		return readError(err)
	}
	defer gz.Close()
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := extractTar(ctx, gz, root, dst); err != nil {
		return err
	}
	// The tar reader stops at the end-of-archive blocks; reading the gzip stream to
	// its end checks its CRC-32 and length (without this a corrupt archive was
	// extracted without a word).
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return readError(err)
	}
	return nil
}

// extractTar extracts the tar stream r into root (dst names it in messages).
func extractTar(ctx context.Context, r io.Reader, root *os.Root, dst string) error {
	tr := tar.NewReader(r)
	var c checker
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return readError(err)
		}
		// ErrInsecurePath (GODEBUG tarinsecurepath=0) comes with the header; the
		// checker refuses that entry with a message naming it.
		name, err := c.check(hdr)
		if err != nil {
			return err
		}
		if name == "" {
			continue
		}
		if err := write(root, dst, name, hdr, tr); err != nil {
			return err
		}
	}
}

// write creates the entry hdr (checked, named name) in root.
func write(root *os.Root, dst, name string, hdr *tar.Header, body io.Reader) error {
	fail := func(err error) error {
		return fmt.Errorf("archive entry %q: %w", hdr.Name, writeError(filepath.Join(dst, name), err, 0, false))
	}
	if hdr.Typeflag == tar.TypeDir {
		if err := root.MkdirAll(name, 0o755); err != nil {
			return fail(err)
		}
		return nil
	}
	if d := filepath.Dir(name); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return fail(err)
		}
	}
	switch hdr.Typeflag {
	case tar.TypeReg:
		out, err := openForWrite(root, name, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		if err != nil {
			return fail(err)
		}
		w := &errWriter{w: out}
		_, err = io.Copy(w, body)
		if cerr := out.Close(); err == nil && cerr != nil {
			w.err, err = cerr, cerr
		}
		if w.err != nil {
			return fail(w.err)
		}
		if err != nil {
			return readError(err)
		}
	case tar.TypeSymlink:
		// The checker's view of the tree is exact on a case-sensitive file system;
		// the disk has the last word where names fold (macOS, Windows): the folders
		// the link is made in must be real folders, not links.
		if err := realFolders(root, name); err != nil {
			return fmt.Errorf("archive entry %q: %w: refusing to extract", hdr.Name, err)
		}
		if err := root.Symlink(hdr.Linkname, name); err != nil {
			return fail(err)
		}
	case tar.TypeLink:
		old := filepath.FromSlash(path.Clean(hdr.Linkname))
		if st, err := root.Lstat(old); err != nil || !st.Mode().IsRegular() {
			return fmt.Errorf("archive entry %q is a hard link to %q, not a regular file on disk: refusing to extract", hdr.Name, hdr.Linkname)
		}
		if err := root.Link(old, name); err != nil {
			return fail(err)
		}
	}
	return nil
}

// realFolders fails when a folder on the way to name (relative to root) is not a
// real folder.
func realFolders(root *os.Root, name string) error {
	d := filepath.Dir(name)
	for d != "." {
		st, err := root.Lstat(d)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			return fmt.Errorf("%s is not a real folder (%s)", filepath.ToSlash(d), st.Mode().Type())
		}
		d = filepath.Dir(d)
	}
	return nil
}

// readError says what a failure to read the archive means: corrupt (a gzip CRC or
// stream error, a bad tar header) or cut short. It wraps err.
func readError(err error) error {
	var flateErr flate.CorruptInputError
	switch {
	case errors.Is(err, gzip.ErrChecksum):
		return fmt.Errorf("the archive is corrupt: its gzip checksum (CRC-32 and length) does not match the data (%w)", err)
	case errors.Is(err, gzip.ErrHeader), errors.As(err, &flateErr):
		return fmt.Errorf("the archive is corrupt: not valid gzip data (%w)", err)
	case errors.Is(err, tar.ErrHeader):
		return fmt.Errorf("the archive is corrupt: not a valid tar header (%w)", err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("the archive is cut short: it ends in the middle of its data (%w)", err)
	}
	return err
}
