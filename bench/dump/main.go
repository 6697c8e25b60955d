// Command dump writes a vggkit dataset's train and test splits as raw files for the
// PyTorch side of the benchmarks (bench/train/torch_train.py --format raw, and
// bench/torch/tutorial_loop.py for bench/gpu/tutorial.sh, which runs where STL-10 cannot
// be downloaded): OUT/train_x.u8 and OUT/test_x.u8 (uint8 images [N,H,W,C], row-major,
// vggkit's own layout), OUT/train_y.u8 and OUT/test_y.u8 (one label byte per image) and
// OUT/meta.json ({"dataset", "classes", "train": {"n","h","w","c","name"}, "test": {...}}).
// The images are the ones `vggkit train` loads with the same -dataset, -data-dir and
// -per-class, in the same order. Readable without numpy:
// torch.frombuffer(bytearray(open(p, "rb").read()), dtype=torch.uint8).view(n, h, w, c).
//
//	go run ./bench/dump -dataset shapes10 -per-class 500 -test-per-class 100 -out DIR
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vggkit/vggkit/vggkit/data"
)

func main() {
	name := flag.String("dataset", "shapes10", "vggkit dataset name")
	dir := flag.String("data-dir", "", "where the dataset's files are (shapes10: none)")
	perClass := flag.Int("per-class", 0, "Shapes10 train images per class (0: 500)")
	testPerClass := flag.Int("test-per-class", 0, "Shapes10 test images per class (0: as -per-class, or 100)")
	out := flag.String("out", "", "output folder (created)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 || *perClass < 0 || *testPerClass < 0 {
		fmt.Fprintln(os.Stderr, "usage: dump -out DIR [-dataset NAME] [-data-dir DIR] [-per-class N] [-test-per-class N]")
		os.Exit(2)
	}
	if *testPerClass == 0 {
		*testPerClass = *perClass
	}
	if err := dump(*name, *dir, *perClass, *testPerClass, *out); err != nil {
		fmt.Fprintln(os.Stderr, "dump:", err)
		os.Exit(1)
	}
}

func dump(name, dir string, perClass, testPerClass int, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	meta := map[string]any{"dataset": name}
	for split, per := range map[string]int{"train": perClass, "test": testPerClass} {
		s, err := data.Load(name, split, data.LoadOptions{Dir: dir, Fold: data.AllFolds, PerClass: per})
		if err != nil {
			return err
		}
		labels := make([]byte, len(s.Labels))
		for i, l := range s.Labels {
			if l < 0 || l > 255 {
				return fmt.Errorf("%s: label %d does not fit a byte", s.Name, l)
			}
			labels[i] = byte(l)
		}
		if err := os.WriteFile(filepath.Join(out, split+"_x.u8"), s.Pixels, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, split+"_y.u8"), labels, 0o644); err != nil {
			return err
		}
		meta[split] = map[string]any{"n": s.Len(), "h": s.H, "w": s.W, "c": s.C, "name": s.Name}
		meta["classes"] = s.Classes
	}
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "meta.json"), append(b, '\n'), 0o644)
}
