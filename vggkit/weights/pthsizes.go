package weights

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// checkDeclaredStorages refuses a .pth whose pickle declares storages larger than the file
// holds, before gopickle allocates them (it makes each storage at its declared size first:
// a corrupt or hostile size field asked for terabytes and the process died out of memory).
// A zip file must hold each storage's bytes in its own entry, a legacy file all of them
// at its end, as checkLegacyEnd checks. (Pickle strings with lying lengths remain gopickle's to bound:
// third_party/README.md.)
func checkDeclaredStorages(file string, legacy bool) error {
	if legacy {
		return checkLegacyStorages(file)
	}
	z, err := zip.OpenReader(file)
	if err != nil {
		return fmt.Errorf("not a readable PyTorch file: %w", err)
	}
	defer z.Close()
	entries := map[string]*zip.File{}
	var pkl *zip.File
	for _, f := range z.File {
		_, name := path.Split(f.Name)
		entries[name] = f
		if name == "data.pkl" && pkl == nil {
			pkl = f
		}
	}
	if pkl == nil {
		return nil // gopickle says what is missing
	}
	r, err := pkl.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	decls, err := declaredStorages(r)
	if err != nil {
		return nil // a pickle gopickle cannot read either: its error is the clearer
	}
	for _, d := range decls {
		e, ok := entries[d.key]
		need := uint64(d.size) * uint64(d.elem)
		if ok && (d.size < 0 || need > e.UncompressedSize64) {
			return fmt.Errorf("storage %s declares %d elements of %d bytes, its entry holds %d bytes: a corrupt file",
				d.key, d.size, d.elem, e.UncompressedSize64)
		}
	}
	return nil
}

// checkLegacyStorages reads a legacy file's pickles up to the state dict's and checks the
// storages it declares, each once, against the file's end (checkLegacyEnd).
func checkLegacyStorages(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	for range 3 { // magic number, protocol version, system information
		u := pickle.NewUnpickler(f)
		if _, err := u.Load(); err != nil {
			return nil
		}
	}
	decls, err := declaredStorages(f)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var storages []storageSpan
	for _, d := range decls {
		if !seen[d.key] {
			seen[d.key] = true
			storages = append(storages, storageSpan{d.size, d.elem})
		}
	}
	return checkLegacyEnd(f, storages)
}

type storageDecl struct {
	key        string
	size, elem int
}

// storageClass stands for torch.<T>Storage in the pre-pass: its element size.
type storageClass struct{ elem int }

// ignored stands for every other class or function of the pickle (tensor rebuilders):
// calling it gives nothing, as only the declared storages matter here.
type ignored struct{}

func (ignored) Call(...any) (any, error) { return nil, nil }

var storageElemBytes = map[string]int{
	"FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "DoubleStorage": 8, "LongStorage": 8,
	"IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1,
}

// declaredStorages unpickles a state dict's pickle without loading any storage and returns
// what each storage reference declares.
func declaredStorages(r io.Reader) ([]storageDecl, error) {
	u := pickle.NewUnpickler(r)
	u.FindClass = func(module, name string) (any, error) {
		if e, ok := storageElemBytes[name]; ok && module == "torch" {
			return storageClass{e}, nil
		}
		if strings.HasPrefix(module, "torch") {
			return ignored{}, nil
		}
		return nil, fmt.Errorf("class %s.%s", module, name)
	}
	var decls []storageDecl
	u.PersistentLoad = func(id any) (any, error) {
		t, ok := id.(*types.Tuple)
		if !ok || t.Len() < 5 {
			return nil, nil
		}
		if kind, _ := t.Get(0).(string); kind != "storage" {
			return nil, nil
		}
		cls, ok1 := t.Get(1).(storageClass)
		key, ok2 := t.Get(2).(string)
		size, ok3 := t.Get(4).(int)
		if ok1 && ok2 && ok3 {
			decls = append(decls, storageDecl{key, size, cls.elem})
		}
		return nil, nil
	}
	_, err := u.Load()
	return decls, err
}
