// Command dump writes a vggkit dataset's train and test splits as raw files for the
// PyTorch side of the whole-run benchmark (bench/train/torch_train.py --format raw):
// OUT/train.u8 and OUT/test.u8 (uint8 images [N,H,W,C], vggkit's own layout),
// OUT/train.labels and OUT/test.labels (one uint8 label per image) and OUT/meta.json
// ({"train": {"n","h","w","c"}, "test": {...}}). The images are the ones `vggkit train`
// loads with the same -dataset, -data-dir and -per-class, in the same order.
//
//	go run ./bench/train/dump -dataset shapes10 -per-class 40 -out .build/bench-train/shapes10-40
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
	perClass := flag.Int("per-class", 0, "Shapes10 images per class (0: 500 train, 100 test)")
	out := flag.String("out", "", "output folder")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "dump: -out is required")
		os.Exit(2)
	}
	if err := dump(*name, *dir, *perClass, *out); err != nil {
		fmt.Fprintln(os.Stderr, "dump:", err)
		os.Exit(1)
	}
}

func dump(name, dir string, perClass int, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	meta := map[string]map[string]int{}
	for _, split := range []string{"train", "test"} {
		s, err := data.Load(name, split, data.LoadOptions{Dir: dir, Fold: data.AllFolds, PerClass: perClass})
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
		if err := os.WriteFile(filepath.Join(out, split+".u8"), s.Pixels, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, split+".labels"), labels, 0o644); err != nil {
			return err
		}
		meta[split] = map[string]int{"n": s.Len(), "h": s.H, "w": s.W, "c": s.C}
	}
	js, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "meta.json"), js, 0o644)
}
