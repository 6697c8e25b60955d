// Package fetch downloads files over HTTP and unpacks archives, for datasets that are
// too large to download twice and come from servers that are not ours: a download
// resumes where an interrupted one stopped (HTTP Range), a file counts only once its
// size and checksums (MD5, SHA-256) match, and a .tar.gz is extracted with every entry's
// path and link target checked, into a temporary folder renamed into place only when
// complete. What to fetch, from where, and how a dataset is laid out is the caller's
// (vggkit/data).
package fetch

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vggkit/vggkit/internal/regularfile"
)

// File is a file to download and how to check it.
type File struct {
	URL    string
	Name   string // file name in the destination folder.
	Size   int64  // bytes; 0 when unknown (the checksums alone then vouch for the file).
	MD5    string // hex; "" for none.
	SHA256 string // hex; "" for none. At least one of MD5, SHA256 and SHA256Prefix is needed.
	// SHA256Prefix is the start of the SHA-256 in hex, for files named by it
	// (torchvision's "vgg16-397923af.pth"); "" for none.
	SHA256Prefix string
	// Discard deletes a download that fails its check instead of moving it aside to
	// .bad (a file placed by hand is still moved aside: it is not ours to delete).
	Discard bool
	// What names the file in messages ("CIFAR-10"); "" reads as Name.
	What string
	// Extracted is the folder an archive extracts to, named in the offline hint as
	// something the user may bring instead; "" for a plain file.
	Extracted string
}

// label names the file in messages.
func (f File) label() string {
	if f.What == "" {
		return f.Name
	}
	return f.What
}

// Verified makes sure dir/f.Name is there and matches f's checksums, downloading it
// (with resume, through dir/f.Name+".part") when absent, and returns its path. dir is
// created if needed. A file with a wrong checksum is moved aside (to f.Name+".bad"),
// so the next run downloads it afresh; a file put there by hand that matches is used
// without any network. Progress goes to progress (nil: none).
func Verified(ctx context.Context, f File, dir string, progress io.Writer) (string, error) {
	if f.MD5 == "" && f.SHA256 == "" && f.SHA256Prefix == "" {
		return "", fmt.Errorf("%s: no checksum to check %s against", f.label(), f.URL)
	}
	if progress == nil {
		progress = io.Discard
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("%s: %w", f.label(), writeError(dir, err, 0, false))
	}
	file := filepath.Join(dir, f.Name)
	downloaded := false
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		if err := fetchResumable(ctx, f, file, dir, progress); err != nil {
			return "", err
		}
		downloaded = true
	} else if err != nil {
		return "", fmt.Errorf("%s: %w", f.label(), err)
	}
	return file, check(f, file, downloaded, progress)
}

// check compares the file's checksums with f's.
func check(f File, file string, downloaded bool, progress io.Writer) error {
	type sum struct {
		name, want string
		h          hash.Hash
		prefix     bool // want is the start of the sum only.
	}
	var sums []sum
	var names []string
	if f.MD5 != "" {
		sums = append(sums, sum{"MD5", strings.ToLower(f.MD5), md5.New(), false})
		names = append(names, "MD5")
	}
	if f.SHA256 != "" || f.SHA256Prefix != "" {
		want, prefix := strings.ToLower(f.SHA256), false
		if want == "" {
			want, prefix = strings.ToLower(f.SHA256Prefix), true
		}
		sums = append(sums, sum{"SHA-256", want, sha256.New(), prefix})
		names = append(names, "SHA-256")
	}
	ws := make([]io.Writer, len(sums))
	for i := range sums {
		ws[i] = sums[i].h
	}
	size, err := hashFile(file, "checking "+strings.Join(names, ", "), io.MultiWriter(ws...), progress)
	if err != nil {
		return fmt.Errorf("%s: %w", f.label(), err)
	}
	for _, s := range sums {
		got := hex.EncodeToString(s.h.Sum(nil))
		if got == s.want || (s.prefix && strings.HasPrefix(got, s.want)) {
			continue
		}
		if s.prefix {
			got = got[:min(len(got), max(len(s.want), 8))] + "..."
			s.want += "..."
		}
		// Move it aside: a corrupt file must not be reused by the next run, but a
		// file the user placed by hand is not ours to delete.
		bad := file + ".bad"
		os.Remove(bad)
		moved := ""
		if downloaded && f.Discard {
			if os.Remove(file) == nil {
				moved = " (deleted)"
			}
		} else if os.Rename(file, bad) == nil {
			moved = " (moved to " + bad + ")"
		}
		wantSize := ""
		if f.Size > 0 {
			wantSize = fmt.Sprintf(", want %d", f.Size)
		}
		return fmt.Errorf("%s: %s is corrupt%s: %s %s, want %s (%d bytes%s); run again to download it afresh",
			f.label(), file, moved, s.name, got, s.want, size, wantSize)
	}
	return nil
}

// hashFile copies a file into h with a progress bar (2.6 GB takes several seconds)
// and returns its size.
func hashFile(name, what string, h io.Writer, progress io.Writer) (int64, error) {
	f, size, err := regularfile.Open(name) // a FIFO placed by hand would block forever.
	if err != nil {
		return 0, err
	}
	defer f.Close()
	bar := newProgressBar(progress, what, 0, size)
	n, err := io.Copy(io.MultiWriter(h, bar), f)
	bar.finish()
	return n, err
}

// offlineError is the message for any failure to fetch: most often the machine
// has no network, and the way out is to bring the file by hand.
func offlineError(f File, dir string, err error) error {
	what := f.Name
	if f.Extracted != "" {
		what += " (or the extracted " + f.Extracted + "/ folder)"
	}
	return fmt.Errorf("could not download %s: %w. Offline? Download it by hand and put %s in %s, then run again",
		f.URL, err, what, dir)
}

// fetchResumable downloads f to dst via dst+".part", continuing a previous partial
// download with an HTTP Range request. A server that ignores the range answers 200
// with the whole file, and the part file is then started over. dst appears only when
// all f.Size bytes are there.
func fetchResumable(ctx context.Context, f File, dst, dir string, progress io.Writer) error {
	part := dst + ".part"
	for attempt := 0; ; attempt++ {
		var have int64
		if st, err := os.Stat(part); err == nil {
			have = st.Size()
		}
		if f.Size > 0 && have > f.Size { // Not a prefix of this file.
			os.Remove(part)
			have = 0
		}
		if f.Size > 0 && have == f.Size {
			break
		}
		retry, err := fetchFrom(ctx, f, part, have, dir, progress)
		if err != nil {
			return err
		}
		if !retry {
			break
		}
		if attempt > 0 {
			return offlineError(f, dir, errors.New("server refused the byte range twice"))
		}
		os.Remove(part) // 416: our part file does not match what the server has; start over.
	}
	st, err := os.Stat(part)
	if err != nil {
		return fmt.Errorf("%s: %w", f.label(), err)
	}
	if f.Size > 0 && st.Size() != f.Size {
		return offlineError(f, dir, fmt.Errorf("got %d of %d bytes", st.Size(), f.Size))
	}
	if err := os.Rename(part, dst); err != nil {
		return fmt.Errorf("%s: %w", f.label(), writeError(dst, err, 0, false))
	}
	return nil
}

// fetchFrom does one GET starting at byte have and appends to part. It reports
// retry=true when the server refuses the range (416).
func fetchFrom(ctx context.Context, f File, part string, have int64, dir string, progress io.Writer) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return false, offlineError(f, dir, err)
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, offlineError(f, dir, err)
	}
	defer resp.Body.Close()
	flags := os.O_WRONLY | os.O_CREATE
	switch resp.StatusCode {
	case http.StatusPartialContent:
		var start int64 = -1
		fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-", &start)
		if start != have {
			return false, offlineError(f, dir, fmt.Errorf("asked for bytes from %d, server sent Content-Range %q", have, resp.Header.Get("Content-Range")))
		}
		flags |= os.O_APPEND
	case http.StatusOK:
		have = 0 // The server ignored the range: the body is the whole file.
		flags |= os.O_TRUNC
	case http.StatusRequestedRangeNotSatisfiable:
		return true, nil
	default:
		return false, offlineError(f, dir, fmt.Errorf("HTTP %s", resp.Status))
	}
	total := f.Size
	if total <= 0 && resp.ContentLength >= 0 {
		total = have + resp.ContentLength // Size unknown: trust the server for the progress bar only.
	}
	if f.Size > 0 && resp.ContentLength >= 0 && have+resp.ContentLength != f.Size {
		return false, offlineError(f, dir, fmt.Errorf("server sends %d bytes from byte %d, want %d in all: not the expected file", resp.ContentLength, have, f.Size))
	}
	out, err := openForWrite(nil, part, flags)
	if err != nil {
		return false, fmt.Errorf("%s: %w", f.label(), writeError(part, err, total-have, have > 0))
	}
	bar := newProgressBar(progress, f.Name, have, total)
	// Read at most one byte past the end, to notice a body longer than the file.
	body := io.Reader(resp.Body)
	if f.Size > 0 {
		body = io.LimitReader(resp.Body, f.Size-have+1)
	}
	w := &errWriter{w: out}
	n, copyErr := io.Copy(io.MultiWriter(w, bar), body)
	bar.finish()
	if err := out.Close(); err != nil && copyErr == nil {
		w.err, copyErr = err, err
	}
	if w.err != nil {
		// The disk, not the network: say which file and what is wrong with its disk
		// (a full disk read "Offline?" before).
		where := fmt.Sprintf("%s (after %.1f of %.1f MB)", part, float64(have+n)/1e6, float64(total)/1e6)
		return false, fmt.Errorf("%s: %w", f.label(), writeError(where, w.err, total-have-n, have+n > 0))
	}
	if ctx.Err() != nil {
		// Stopped on purpose: not a network problem, so no "Offline?" hint.
		return false, fmt.Errorf("download of %s stopped after %.1f of %.1f MB: %w; running again resumes from there",
			f.URL, float64(have+n)/1e6, float64(total)/1e6, ctx.Err())
	}
	if copyErr != nil {
		return false, offlineError(f, dir, fmt.Errorf("interrupted after %.1f of %.1f MB (%w); running again resumes from there",
			float64(have+n)/1e6, float64(total)/1e6, copyErr))
	}
	if f.Size > 0 && have+n > f.Size {
		os.Remove(part)
		return false, offlineError(f, dir, fmt.Errorf("server sent more than the %d bytes expected: not the expected file", f.Size))
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
