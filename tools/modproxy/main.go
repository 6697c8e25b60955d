// Command modproxy writes one version of a module, made from a git commit with
// golang.org/x/mod/zip (what the Go module proxy serves), into a file-based module proxy
// (GOPROXY=file://DIR), and prints its pseudo-version. scripts/consumer-test.sh uses it to
// check that `go install github.com/vggkit/vggkit/cmd/vggkit@VERSION` works before
// vggkit is published.
//
//	go -C tools run ./modproxy -repo DIR [-rev HEAD] -out PROXYDIR
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

func main() {
	repo := flag.String("repo", ".", "root of the module's git checkout")
	rev := flag.String("rev", "HEAD", "commit to serve (only committed files go in the zip)")
	out := flag.String("out", "", "proxy directory to write into")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "modproxy: -out is required")
		os.Exit(2)
	}
	version, err := run(*repo, *rev, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
	fmt.Println(version)
}

func run(repo, rev, out string) (string, error) {
	git := func(args ...string) ([]byte, error) {
		b, err := exec.Command("git", append([]string{"-C", repo}, args...)...).Output()
		if err != nil {
			return nil, fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
		}
		return b, nil
	}
	commit, err := git("log", "-1", "--format=%H %ct", rev)
	if err != nil {
		return "", err
	}
	hash, secs, _ := strings.Cut(strings.TrimSpace(string(commit)), " ")
	unix, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return "", err
	}
	gomod, err := git("show", hash+":go.mod")
	if err != nil {
		return "", err
	}
	path := modfile.ModulePath(gomod)
	if path == "" {
		return "", fmt.Errorf("no module path in %s:go.mod", hash)
	}
	t := time.Unix(unix, 0).UTC()
	m := module.Version{Path: path, Version: module.PseudoVersion("", "", t, hash[:12])}
	escaped, err := module.EscapePath(path)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(out, escaped, "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// The commit's files (git archive: worktrees too, which zip.CreateFromVCS does not
	// recognise), then the module zip of them (nested modules, such as tools/, left out).
	tree, err := os.MkdirTemp("", "modproxy")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tree)
	archive, err := git("archive", "--format=tar", hash)
	if err != nil {
		return "", err
	}
	if err := untar(archive, tree); err != nil {
		return "", err
	}
	var zipped bytes.Buffer
	if err := zip.CreateFromDir(&zipped, m, tree); err != nil {
		return "", err
	}
	info, _ := json.Marshal(map[string]any{"Version": m.Version, "Time": t})
	for name, data := range map[string][]byte{".zip": zipped.Bytes(), ".mod": gomod, ".info": info} {
		if err := os.WriteFile(filepath.Join(dir, m.Version+name), data, 0o644); err != nil {
			return "", err
		}
	}
	return m.Version, os.WriteFile(filepath.Join(dir, "list"), []byte(m.Version+"\n"), 0o644)
}

// untar writes the regular files and directories of a tar archive under dir.
func untar(archive []byte, dir string) error {
	r := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(name, dir+string(filepath.Separator)) {
			return fmt.Errorf("tar entry %q outside the tree", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(name, 0o755)
		case tar.TypeReg:
			if err = os.MkdirAll(filepath.Dir(name), 0o755); err == nil {
				var data []byte
				if data, err = io.ReadAll(r); err == nil {
					err = os.WriteFile(name, data, os.FileMode(h.Mode)&0o777|0o600)
				}
			}
		}
		if err != nil {
			return err
		}
	}
}
