package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vggkit/vggkit/internal/fetch"
	"github.com/vggkit/vggkit/vggkit/config"
)

// The downloads: which file, from where, with which size and checksum, and where its
// dataset's files sit once extracted. Fetching (resume, checks, safe extraction) is
// internal/fetch's.

// stl10Remote is the official STL-10 archive; size and MD5 are the ones torchvision
// checks. A package variable so tests can point it at a local server.
var stl10Remote = fetch.File{
	URL:  "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
	Name: "stl10_binary.tar.gz",
	Size: 2_640_397_119,
	MD5:  "91f7769df0f17e558f3565bffb0c7dfb",
}

// DefaultCacheDir is where datasets are downloaded to: $VGGKIT_CACHE if set
// (to put 5 GB somewhere roomy), else the user's cache folder + "/vggkit".
func DefaultCacheDir() string { return config.Env().Cache }

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
	f := stl10Remote
	f.What, f.Extracted = "STL-10", stl10SubDir
	archive, err := fetch.Verified(ctx, f, cacheDir, progress)
	if err != nil {
		return "", err
	}
	dir, err := extractDataset(ctx, "STL-10", archive, cacheDir, stl10SubDir, FindSTL10, strings.Join(stl10Required, ", "), progress)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "STL-10 is in %s\n", dir)
	return dir, nil
}

// extractDataset extracts archive into cacheDir/sub (fetch.Unpack): find locates, in
// the extracted tree, the folder holding the dataset's files (listed in files for the
// error), so the dataset appears complete or not at all.
func extractDataset(ctx context.Context, what, archive, cacheDir, sub string, find func(string) (string, bool), files string, progress io.Writer) (string, error) {
	dir, err := fetch.Unpack(ctx, archive, cacheDir, sub, find, progress)
	if errors.Is(err, fetch.ErrNotFound) {
		return "", fmt.Errorf("%s: %s does not hold the %s files (%s)", what, archive, what, files)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return dir, nil
}
