package data

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// remoteArchive describes a file to download and how to check it. It is a
// package variable (stl10Remote) so tests can point it at a local server.
type remoteArchive struct {
	url       string
	name      string // file name in the cache folder.
	size      int64  // bytes; 0 when unknown (the MD5 alone then vouches for the file).
	md5       string // hex.
	what      string // dataset, for messages ("CIFAR-10"); "" reads as "STL-10".
	extracted string // folder the archive extracts to, named in the offline hint; "" for a plain file.
}

// label names the dataset in messages.
func (ra remoteArchive) label() string {
	if ra.what == "" {
		return "STL-10"
	}
	return ra.what
}

// stl10Remote is the official STL-10 archive; size and MD5 are the ones
// torchvision checks.
var stl10Remote = remoteArchive{
	url:  "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
	name: "stl10_binary.tar.gz",
	size: 2_640_397_119,
	md5:  "91f7769df0f17e558f3565bffb0c7dfb",
}

// DefaultCacheDir is where datasets are downloaded to: $VGGKIT_CACHE if set
// (to put 5 GB somewhere roomy), else the user's cache folder + "/vggkit".
func DefaultCacheDir() string {
	if d := os.Getenv("VGGKIT_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "vggkit")
	}
	return filepath.Join(os.TempDir(), "vggkit")
}

// DownloadSTL10 makes sure STL-10 is extracted in cacheDir (DefaultCacheDir()
// if empty) and returns the folder holding its binary files. It returns at once
// if they are already there. Otherwise it downloads the 2.6 GB archive with
// resume (an interrupted run continues from cacheDir/stl10_binary.tar.gz.part),
// checks its MD5 and extracts it into a temporary folder that is renamed into
// place only when complete, so a failure never leaves a half-extracted dataset.
// Progress goes to progress (nil: none). The archive is kept, so a later
// extraction needs no network.
func DownloadSTL10(ctx context.Context, cacheDir string, progress io.Writer) (string, error) {
	if cacheDir == "" {
		cacheDir = DefaultCacheDir()
	}
	if progress == nil {
		progress = io.Discard
	}
	if dir, ok := FindSTL10(cacheDir); ok {
		return dir, nil
	}
	final := filepath.Join(cacheDir, stl10SubDir)
	if _, err := os.Lstat(final); err == nil {
		// Checked before downloading, so the user learns it before waiting for 2.6 GB.
		return "", fmt.Errorf("STL-10: %s exists but does not hold %s: delete it (or complete it) and run again",
			final, strings.Join(stl10Required, ", "))
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("STL-10: %w", err)
	}
	ra := stl10Remote
	ra.what, ra.extracted = "STL-10", stl10SubDir
	archive, err := fetchVerified(ctx, ra, cacheDir, progress)
	if err != nil {
		return "", err
	}
	dir, err := extractSTL10(ctx, archive, cacheDir, progress)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "STL-10 is in %s\n", dir)
	return dir, nil
}

// fetchVerified makes sure dir/ra.name is there and has ra's MD5, downloading
// it (with resume) when absent, and returns its path. A file with the wrong
// MD5 is moved aside, so the next run downloads it afresh.
func fetchVerified(ctx context.Context, ra remoteArchive, dir string, progress io.Writer) (string, error) {
	archive := filepath.Join(dir, ra.name)
	if _, err := os.Stat(archive); errors.Is(err, fs.ErrNotExist) {
		if err := fetchResumable(ctx, ra, archive, dir, progress); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", fmt.Errorf("%s: %w", ra.label(), err)
	}
	sum, size, err := md5File(archive, progress)
	if err != nil {
		return "", fmt.Errorf("%s: %w", ra.label(), err)
	}
	if sum != ra.md5 {
		// Move it aside: a corrupt archive must not be reused by the next run, but
		// a file the user placed by hand is not ours to delete.
		bad := archive + ".bad"
		os.Remove(bad)
		moved := ""
		if os.Rename(archive, bad) == nil {
			moved = " (moved to " + bad + ")"
		}
		wantSize := ""
		if ra.size > 0 {
			wantSize = fmt.Sprintf(", want %d", ra.size)
		}
		return "", fmt.Errorf("%s: %s is corrupt%s: MD5 %s, want %s (%d bytes%s); run again to download it afresh",
			ra.label(), archive, moved, sum, ra.md5, size, wantSize)
	}
	return archive, nil
}

// offlineError is the message for any failure to fetch: most often the machine
// has no network, and the way out is to bring the file by hand.
func offlineError(ra remoteArchive, cacheDir string, err error) error {
	what := ra.name
	if ra.extracted != "" {
		what += " (or the extracted " + ra.extracted + "/ folder)"
	}
	return fmt.Errorf("could not download %s: %w. Offline? Download it by hand and put %s in %s, then run again",
		ra.url, err, what, cacheDir)
}

// fetchResumable downloads ra to dst via dst+".part", continuing a previous
// partial download with an HTTP Range request. A server that ignores the range
// answers 200 with the whole file, and the part file is then started over.
// dst appears only when all ra.size bytes are there.
func fetchResumable(ctx context.Context, ra remoteArchive, dst, cacheDir string, progress io.Writer) error {
	part := dst + ".part"
	for attempt := 0; ; attempt++ {
		var have int64
		if st, err := os.Stat(part); err == nil {
			have = st.Size()
		}
		if ra.size > 0 && have > ra.size { // Not a prefix of this archive.
			os.Remove(part)
			have = 0
		}
		if ra.size > 0 && have == ra.size {
			break
		}
		retry, err := fetchFrom(ctx, ra, part, have, cacheDir, progress)
		if err != nil {
			return err
		}
		if !retry {
			break
		}
		if attempt > 0 {
			return offlineError(ra, cacheDir, errors.New("server refused the byte range twice"))
		}
		os.Remove(part) // 416: our part file does not match what the server has; start over.
	}
	st, err := os.Stat(part)
	if err != nil {
		return fmt.Errorf("%s: %w", ra.label(), err)
	}
	if ra.size > 0 && st.Size() != ra.size {
		return offlineError(ra, cacheDir, fmt.Errorf("got %d of %d bytes", st.Size(), ra.size))
	}
	if err := os.Rename(part, dst); err != nil {
		return fmt.Errorf("%s: %w", ra.label(), err)
	}
	return nil
}

// fetchFrom does one GET starting at byte have and appends to part. It reports
// retry=true when the server refuses the range (416).
func fetchFrom(ctx context.Context, ra remoteArchive, part string, have int64, cacheDir string, progress io.Writer) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ra.url, nil)
	if err != nil {
		return false, offlineError(ra, cacheDir, err)
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, offlineError(ra, cacheDir, err)
	}
	defer resp.Body.Close()
	flags := os.O_WRONLY | os.O_CREATE
	switch resp.StatusCode {
	case http.StatusPartialContent:
		var start int64 = -1
		fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-", &start)
		if start != have {
			return false, offlineError(ra, cacheDir, fmt.Errorf("asked for bytes from %d, server sent Content-Range %q", have, resp.Header.Get("Content-Range")))
		}
		flags |= os.O_APPEND
	case http.StatusOK:
		have = 0 // The server ignored the range: the body is the whole file.
		flags |= os.O_TRUNC
	case http.StatusRequestedRangeNotSatisfiable:
		return true, nil
	default:
		return false, offlineError(ra, cacheDir, fmt.Errorf("HTTP %s", resp.Status))
	}
	total := ra.size
	if total <= 0 && resp.ContentLength >= 0 {
		total = have + resp.ContentLength // Size unknown: trust the server for the progress bar only.
	}
	if ra.size > 0 && resp.ContentLength >= 0 && have+resp.ContentLength != ra.size {
		return false, offlineError(ra, cacheDir, fmt.Errorf("server sends %d bytes from byte %d, want %d in all: not the expected file", resp.ContentLength, have, ra.size))
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return false, fmt.Errorf("%s: %w", ra.label(), err)
	}
	bar := newProgressBar(progress, ra.name, have, total)
	// Read at most one byte past the end, to notice a body longer than the file.
	body := io.Reader(resp.Body)
	if ra.size > 0 {
		body = io.LimitReader(resp.Body, ra.size-have+1)
	}
	n, copyErr := io.Copy(io.MultiWriter(f, bar), body)
	bar.finish()
	if err := f.Close(); err != nil && copyErr == nil {
		copyErr = err
	}
	if ctx.Err() != nil {
		// Stopped on purpose: not a network problem, so no "Offline?" hint.
		return false, fmt.Errorf("download of %s stopped after %.1f of %.1f MB: %w; running again resumes from there",
			ra.url, float64(have+n)/1e6, float64(total)/1e6, ctx.Err())
	}
	if copyErr != nil {
		return false, offlineError(ra, cacheDir, fmt.Errorf("interrupted after %.1f of %.1f MB (%w); running again resumes from there",
			float64(have+n)/1e6, float64(total)/1e6, copyErr))
	}
	if ra.size > 0 && have+n > ra.size {
		os.Remove(part)
		return false, offlineError(ra, cacheDir, fmt.Errorf("server sent more than the %d bytes expected: not the expected file", ra.size))
	}
	return false, nil
}

// progressBar prints percent, MB and MB/s on one line, at most a few times a
// second: a terminal (or a notebook) redrawing per 32 KB write would be slower
// than the download.
type progressBar struct {
	w           io.Writer
	name        string
	done, total int64
	startDone   int64
	start, last time.Time
}

const progressEvery = 250 * time.Millisecond

func newProgressBar(w io.Writer, name string, done, total int64) *progressBar {
	now := time.Now()
	return &progressBar{w: w, name: name, done: done, total: total, startDone: done, start: now, last: now}
}

func (p *progressBar) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if now := time.Now(); now.Sub(p.last) >= progressEvery {
		p.last = now
		p.draw(now)
	}
	return len(b), nil
}

func (p *progressBar) draw(now time.Time) {
	frac := 0.0
	if p.total > 0 {
		frac = min(float64(p.done)/float64(p.total), 1)
	}
	const width = 30
	filled := int(frac * width)
	rate := 0.0
	if dt := now.Sub(p.start).Seconds(); dt > 0 {
		rate = float64(p.done-p.startDone) / 1e6 / dt
	}
	fmt.Fprintf(p.w, "\r%s %5.1f%% [%s%s] %.1f/%.1f MB %.1f MB/s", p.name, 100*frac,
		strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		float64(p.done)/1e6, float64(p.total)/1e6, rate)
}

func (p *progressBar) finish() {
	p.draw(time.Now())
	fmt.Fprintln(p.w)
}

// md5File hashes a file, with a progress bar: 2.6 GB takes several seconds.
func md5File(name string, progress io.Writer) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	h := md5.New()
	bar := newProgressBar(progress, "checking MD5", 0, st.Size())
	n, err := io.Copy(io.MultiWriter(h, bar), f)
	bar.finish()
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// extractSTL10 extracts archive into cacheDir/stl10_binary (extractDataset).
func extractSTL10(ctx context.Context, archive, cacheDir string, progress io.Writer) (string, error) {
	return extractDataset(ctx, "STL-10", archive, cacheDir, stl10SubDir, FindSTL10, strings.Join(stl10Required, ", "), progress)
}

// extractDataset extracts archive into a temporary folder in cacheDir and
// renames the folder find locates there (the one holding the dataset's files,
// listed in files for the error) to cacheDir/sub, so the dataset appears
// complete or not at all.
func extractDataset(ctx context.Context, what, archive, cacheDir, sub string, find func(string) (string, bool), files string, progress io.Writer) (string, error) {
	tmp, err := os.MkdirTemp(cacheDir, ".extract-")
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	defer os.RemoveAll(tmp) // Whatever was not renamed into place.
	if err := extractTarGz(ctx, archive, tmp, progress); err != nil {
		return "", fmt.Errorf("%s: extracting %s: %w", what, archive, err)
	}
	found, ok := find(tmp)
	if !ok {
		return "", fmt.Errorf("%s: %s does not hold the %s files (%s)", what, archive, what, files)
	}
	final := filepath.Join(cacheDir, sub)
	if err := os.Rename(found, final); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return final, nil
}

// extractTarGz extracts a .tar.gz into dst. Entries whose paths or link targets
// would land outside dst (absolute, "..", symlinks pointing out) are refused:
// the archive comes from the network. Writes go through an os.Root, which also
// stops escapes through chains of links that a lexical check cannot see.
func extractTarGz(ctx context.Context, archive, dst string, progress io.Writer) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	bar := newProgressBar(progress, "extracting", 0, st.Size()) // Counts compressed bytes read.
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
