// Command shapes10dump writes vggkit's embedded Shapes10 dataset (the images vggkit's
// `-dataset shapes10` trains on, the same on every machine) as raw files for the PyTorch
// side of bench/gpu/tutorial.sh, which runs where STL-10 cannot be downloaded:
//
//	shapes10dump -out DIR [-per-class 500] [-test-per-class 100]
//
// writes DIR/train_x.u8 and DIR/test_x.u8 (N x 96 x 96 x 3 uint8, row-major HWC, RGB),
// DIR/train_y.u8 and DIR/test_y.u8 (one label byte per image, 0..9) and DIR/meta.json
// (counts, image shape, class names). Readable without numpy:
// torch.frombuffer(bytearray(open(p, "rb").read()), dtype=torch.uint8).view(n, 96, 96, 3).
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
	out := flag.String("out", "", "output folder (created)")
	perClass := flag.Int("per-class", 500, "train images per class (STL-10: 500)")
	testPerClass := flag.Int("test-per-class", 100, "test images per class")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 || *perClass < 1 || *testPerClass < 1 {
		fmt.Fprintln(os.Stderr, "usage: shapes10dump -out DIR [-per-class N] [-test-per-class N]")
		os.Exit(2)
	}
	if err := dump(*out, *perClass, *testPerClass); err != nil {
		fmt.Fprintln(os.Stderr, "shapes10dump:", err)
		os.Exit(1)
	}
}

func dump(out string, perClass, testPerClass int) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	meta := map[string]any{"dataset": "Shapes10 (vggkit, embedded)", "layout": "NHWC uint8 RGB; labels one byte each"}
	for _, sp := range []struct {
		split string
		n     int
	}{{"train", perClass}, {"test", testPerClass}} {
		s, err := data.Shapes10(sp.split, sp.n)
		if err != nil {
			return err
		}
		labels := make([]byte, s.Len())
		for i, l := range s.Labels {
			labels[i] = byte(l)
		}
		if err := os.WriteFile(filepath.Join(out, sp.split+"_x.u8"), s.Pixels, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, sp.split+"_y.u8"), labels, 0o644); err != nil {
			return err
		}
		meta[sp.split] = map[string]any{"n": s.Len(), "h": s.H, "w": s.W, "c": s.C, "name": s.Name}
		meta["classes"] = s.Classes
	}
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "meta.json"), append(b, '\n'), 0o644)
}
