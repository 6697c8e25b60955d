package data

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vggkit/vggkit/internal/fetch/fetchtest"
)

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestDownloadCIFAR10(t *testing.T) {
	src := t.TempDir()
	files := fakeCIFAR10(t, src, 3)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	entries := []fetchtest.Entry{{Name: "cifar-10-batches-bin/", Type: '5'}}
	for _, n := range names {
		entries = append(entries, fetchtest.Entry{Name: "cifar-10-batches-bin/" + n, Body: files[n]})
	}
	archive := fetchtest.TarGz(t, entries)
	srv := fetchtest.Serve(t, archive, true, 0)
	old := cifar10Remote
	cifar10Remote.URL, cifar10Remote.Size, cifar10Remote.MD5 = srv.URL+"/cifar-10-binary.tar.gz", int64(len(archive)), md5Hex(archive)
	t.Cleanup(func() { cifar10Remote = old })
	cache := t.TempDir()
	var progress strings.Builder
	dir, err := Download(context.Background(), "cifar10", cache, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(cache, "cifar-10-batches-bin") {
		t.Errorf("dir %s", dir)
	}
	s, err := Load("cifar10", "test", LoadOptions{Dir: cache, Fold: AllFolds})
	if err != nil || s.Len() != 3 {
		t.Fatalf("load after download: %v", err)
	}
	fetchtest.DirHolds(t, cache, "cifar-10-batches-bin", "cifar-10-binary.tar.gz")
	if _, err := Download(context.Background(), "cifar10", cache, nil); err != nil || srv.Requests() != 1 {
		t.Errorf("second download: %v, %d requests; want none", err, srv.Requests())
	}
}

func TestDownloadMNIST(t *testing.T) {
	files := fakeIDX(t, 4, 2, true)
	mux := http.NewServeMux()
	for name, b := range files {
		mux.HandleFunc("/kmnist/"+name, func(w http.ResponseWriter, r *http.Request) { w.Write(b) })
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	old := idxKinds["kmnist"]
	k := *old
	k.mirror = srv.URL + "/kmnist/"
	k.md5 = map[string]string{}
	for name, b := range files {
		k.md5[name] = md5Hex(b)
	}
	idxKinds["kmnist"] = &k
	t.Cleanup(func() { idxKinds["kmnist"] = old })
	cache := t.TempDir()
	dir, err := Download(context.Background(), "kmnist", cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(cache, "kmnist") {
		t.Errorf("dir %s", dir)
	}
	s, err := Load("kmnist", "train", LoadOptions{Dir: cache, Fold: AllFolds})
	if err != nil || s.Len() != 4 || s.Classes[1] != "ki" {
		t.Fatalf("load after download: %v", err)
	}
	// A wrong MD5 is reported and the file moved aside.
	k.md5["t10k-labels-idx1-ubyte.gz"] = "0123456789abcdef0123456789abcdef"
	cache2 := t.TempDir()
	_, err = Download(context.Background(), "kmnist", cache2, nil)
	if err == nil || !strings.Contains(err.Error(), "t10k-labels-idx1-ubyte.gz is corrupt") {
		t.Errorf("error %v", err)
	}
	// Offline: the hint names the file and the folder to put it in.
	srv.Close()
	cache3 := t.TempDir()
	_, err = Download(context.Background(), "kmnist", cache3, nil)
	if err == nil || !strings.Contains(err.Error(), "Offline? Download it by hand and put train-images-idx3-ubyte.gz in "+filepath.Join(cache3, "kmnist")) {
		t.Errorf("error %v", err)
	}
	if _, err := Download(context.Background(), "imagenet", cache, nil); err == nil || !strings.Contains(err.Error(), "stl10, cifar10") {
		t.Errorf("error %v", err)
	}
}
