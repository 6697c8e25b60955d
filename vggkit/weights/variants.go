package weights

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vggkit/vggkit/internal/fetch"
	"github.com/vggkit/vggkit/vggkit/config"
)

//go:embed imagenet_classes.txt
var imagenetClasses string

// ImageNetClasses returns the 1000 class names in the order of torchvision's heads
// (torchvision.models._meta._IMAGENET_CATEGORIES; gen_classes.py writes the file).
func ImageNetClasses() []string {
	return strings.Split(strings.TrimSuffix(imagenetClasses, "\n"), "\n")
}

// Variant is one of torchvision's pretrained ImageNet VGGs (IMAGENET1K_V1 weights).
type Variant struct {
	Name         string // "vgg16", "vgg16_bn".
	File         string // "vgg16-397923af.pth".
	URL          string
	SHA256Prefix string // the hex after the "-" in File: torchvision's check_hash.
	Arch         string
	BatchNorm    bool
}

// Variants are torchvision's eight files (torchvision/models/vgg.py, VGG*_Weights).
var Variants = []Variant{
	variant("vgg11", "8a719046"), variant("vgg13", "19584684"),
	variant("vgg16", "397923af"), variant("vgg19", "dcbb9e9d"),
	variant("vgg11_bn", "6002323d"), variant("vgg13_bn", "abd245e5"),
	variant("vgg16_bn", "6c64b313"), variant("vgg19_bn", "c79401a0"),
}

// baseURL is where torchvision keeps them.
const baseURL = "https://download.pytorch.org/models/"

// BaseURL is where Download fetches the files from: torchvision's server, or a mirror
// (tests point it at a local server).
var BaseURL = baseURL

func variant(name, hash string) Variant {
	file := name + "-" + hash + ".pth"
	arch, bn := strings.CutSuffix(name, "_bn")
	return Variant{Name: name, File: file, URL: baseURL + file, SHA256Prefix: hash, Arch: arch, BatchNorm: bn}
}

// Names lists the variants' names.
func Names() []string {
	var out []string
	for _, v := range Variants {
		out = append(out, v.Name)
	}
	return out
}

// Lookup finds a variant by name.
func Lookup(name string) (Variant, bool) {
	for _, v := range Variants {
		if v.Name == name {
			return v, true
		}
	}
	return Variant{}, false
}

// Model is the configuration the variant's file loads into whole: its arch and batch
// norm, ReLU, torchvision's classic head for the 1000 ImageNet classes, with ImageNet's
// normalisation and torchvision's 224 px.
func (v Variant) Model() config.Model {
	return config.Model{Arch: v.Arch, BatchNorm: v.BatchNorm, Activation: "relu", Head: config.HeadClassic, Classes: 1000,
		InputSize: 224, Mean: config.ImageNetMean, Std: config.ImageNetStd}.Resolve()
}

// ErrUnknown is returned (wrapped) for a name that is none of the Variants.
var ErrUnknown = errors.New("no pretrained weights")

// CacheDir is where Download puts the files and Resolve finds them.
func CacheDir(cache string) string {
	if cache == "" {
		cache = config.Env().Cache
	}
	return filepath.Join(cache, "weights")
}

// Resolve turns a variant name ("vgg16") into its file in the cache, or takes arg as a
// file path. A variant not downloaded yet is an error saying how to get it.
func Resolve(arg string) (string, *Variant, error) {
	v, ok := Lookup(arg)
	if !ok {
		if _, err := os.Stat(arg); err != nil {
			return "", nil, fmt.Errorf("weights %q: neither a file (%w) nor a variant (%s)", arg, err, strings.Join(Names(), ", "))
		}
		return arg, nil, nil
	}
	path := filepath.Join(CacheDir(""), v.File)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", nil, fmt.Errorf("weights %s are not downloaded: run `vggkit download %s`, or (offline) download %s by hand and put it at %s",
			v.Name, v.Name, v.URL, path)
	} else if err != nil {
		return "", nil, err
	}
	return path, &v, nil
}

// Download makes sure the variant's file is in CacheDir(cacheDir), downloading it with
// resume when absent, and checks its SHA-256 prefix (torchvision's check_hash). A
// download that fails the check is deleted; a file the user put there that fails it is
// moved aside to .bad. It returns the file's path.
func Download(ctx context.Context, name, cacheDir string, progress io.Writer) (string, error) {
	v, ok := Lookup(name)
	if !ok {
		return "", fmt.Errorf("%w %q: valid are %s", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	return download(ctx, v, CacheDir(cacheDir), BaseURL, progress)
}

func download(ctx context.Context, v Variant, dir, base string, progress io.Writer) (string, error) {
	f := fetch.File{URL: base + v.File, Name: v.File, SHA256Prefix: v.SHA256Prefix, What: v.Name + " weights", Discard: true}
	return fetch.Verified(ctx, f, dir, progress)
}
