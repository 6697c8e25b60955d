// Command rss measures the peak resident memory of the input pipeline on STL-10 train:
// it writes a fake STL-10 train split (5000 random images, the official binary layout)
// into -dir unless the files are there, reads it with data.LoadSTL10 (uint8, 138 MB),
// runs the loader over it for -epochs epochs at -size px with host augmentation
// (resize + random crop + flip, batch 64, GOMAXPROCS workers, prefetch 4), and
// prints the peak RSS (VmHWM) next to the dataset's uint8 size and one batch's size.
//
//	GOEXPERIMENT=simd go run ./bench/pipeline/rss -dir /tmp/stl10-fake -epochs 2
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/loader"
)

func main() {
	dir := flag.String("dir", "/tmp/stl10-fake", "STL-10 folder (written if missing)")
	epochs := flag.Int("epochs", 2, "epochs through the loader")
	size := flag.Int("size", 224, "host resize (0: the 96 px default path)")
	tensors := flag.Bool("tensors", false, "also build the GoMLX tensors on the workers")
	flag.Parse()
	if err := writeFake(*dir); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("before loading: VmHWM %s\n", hwm())
	set, err := data.LoadSTL10(*dir, "train", -1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("loaded %s (%.1f MB uint8): VmHWM %s\n", set.Describe(), float64(len(set.Pixels))/1e6, hwm())
	o := loader.Options{BatchSize: 64, Shuffle: true, DropLast: true, Seed: 1, Size: *size, Crop: *size > 0, Flip: *size > 0, Tensors: *tensors}
	l, err := loader.New(set, o)
	if err != nil {
		log.Fatal(err)
	}
	h, w, c := l.ImageSize()
	t0 := time.Now()
	n := 0
	for b := range l.Epochs(context.Background(), 0, *epochs, 0) {
		n += b.N
		if b.Images != nil {
			b.Images.FinalizeAll()
			b.LabelsT.FinalizeAll()
		}
	}
	secs := time.Since(t0).Seconds()
	fmt.Printf("%d epochs, %d images at %dx%dx%d (one batch of 64: %.1f MB): %.0f img/s; peak RSS (VmHWM) %s\n",
		*epochs, n, h, w, c, float64(64*h*w*c)/1e6, float64(n)/secs, hwm())
}

// hwm is the process's peak resident set size, from /proc/self/status.
func hwm() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// writeFake writes train_X.bin (planar, column-major: the official layout), train_y.bin
// (labels 1..10) and class_names.txt into dir, unless train_X.bin is there.
func writeFake(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "train_X.bin")); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	const n, img = 5000, 3 * 96 * 96
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]byte, n*img)
	for i := range x {
		x[i] = byte(rng.Uint32())
	}
	y := make([]byte, n)
	for i := range y {
		y[i] = byte(i%10 + 1)
	}
	names := "airplane\nbird\ncar\ncat\ndeer\ndog\nhorse\nmonkey\nship\ntruck\n"
	for name, b := range map[string][]byte{"train_X.bin": x, "train_y.bin": y, "class_names.txt": []byte(names)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
