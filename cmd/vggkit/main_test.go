package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/training"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestSummaryPrintsTorchvisionCount(t *testing.T) {
	code, out, _ := runCLI(t, "summary", "--arch", "vgg16", "--head", "classic", "--classes", "1000")
	if code != 0 || !strings.Contains(out, "138,357,544") || !strings.Contains(out, "224x224x64") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
	code, out, _ = runCLI(t, "summary", "--classes", "10")
	if code != 0 || !strings.Contains(out, "14,719,818") {
		t.Errorf("tutorial VGG16: exit %d\n%s", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"summary", "--arch", "vgg17"}, {"train", "--no-such-flag"}, {"predict"}, {"download", "imagenet"},
		{"train", "-width", "NaN"}, {"train", "-fold", "11"}, {"train", "-lr", "1e3"}, {"demo", "-epochs", "-1"}, {"train", "-augment", "yes"}} {
		code, _, errOut := runCLI(t, args...)
		if code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
	if code, out, _ := runCLI(t, "train", "-h"); code != 0 || !strings.Contains(out, "-lr") || !strings.Contains(out, "default") {
		t.Errorf("train -h: exit %d\n%s", code, out)
	}
}

func TestEvalWithoutCheckpoint(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing")
	code, _, errOut := runCLI(t, "eval", "-ckpt", missing)
	if code != 1 || !strings.Contains(errOut, missing) {
		t.Errorf("exit %d, stderr %q: want 1 and the path", code, errOut)
	}
}

// A short train through the CLI writes a checkpoint and a full report; eval and predict
// then use the checkpoint.
func TestTrainEvalPredict(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	dir := t.TempDir()
	ckpt, out := filepath.Join(dir, "ckpt"), filepath.Join(dir, "report")
	code, stdout, errOut := runCLI(t, "train", "-dataset", "shapes10", "-per-class", "4", "-arch", "vgg11", "-bn",
		"-width", "0.0625", "-size", "32", "-epochs", "2", "-batch", "8", "-lr", "2e-3", "-ckpt", ckpt, "-out", out, "-log-every", "2")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, stdout, errOut)
	}
	for _, want := range []string{"Shapes10 (embedded)", "backend go", "[1,     2] loss:", "Accuracy of the network on the 40 test images"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{"index.html", "metrics.json", "data_grid.png", "loss_curve.png", "per_class.png", "confusion.png", "predictions.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("report file %s: %v", f, err)
		}
	}
	var m struct {
		Dataset string
		Steps   int64
		Result  struct{ Total int }
	}
	js, _ := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err := json.Unmarshal(js, &m); err != nil || m.Steps != 10 || m.Result.Total != 40 || !strings.Contains(m.Dataset, "Shapes10") {
		t.Errorf("metrics.json: %+v %v", m, err)
	}

	code, stdout, errOut = runCLI(t, "eval", "-ckpt", ckpt) // the dataset comes from the checkpoint
	if code != 0 || !strings.Contains(stdout, "40 test images") || !strings.Contains(stdout, "checkerboard") {
		t.Errorf("eval: exit %d\n%s\n%s", code, stdout, errOut)
	}

	img := image.NewRGBA(image.Rect(0, 0, 50, 70))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	img.Set(3, 3, color.RGBA{255, 0, 0, 255})
	pngPath := filepath.Join(dir, "x.png")
	f, _ := os.Create(pngPath)
	png.Encode(f, img)
	f.Close()
	code, stdout, errOut = runCLI(t, "predict", "-ckpt", ckpt, pngPath)
	if code != 0 || strings.Count(stdout, "%") != 5 {
		t.Errorf("predict: exit %d\n%s\n%s", code, stdout, errOut)
	}
	// A dataset split instead of files: labels shown beside the guesses; a split the
	// dataset lacks is named in the error.
	code, stdout, errOut = runCLI(t, "predict", "-ckpt", ckpt, "-split", "test", "-limit", "3")
	if code != 0 || strings.Count(stdout, "%") != 15 || !strings.Contains(stdout, "#2 (triangle)") || !strings.Contains(stdout, "(circle)") {
		t.Errorf("predict -split test: exit %d\n%s\n%s", code, stdout, errOut)
	}
	code, _, errOut = runCLI(t, "predict", "-ckpt", ckpt, "-split", "unlabeled")
	if code != 1 || !strings.Contains(errOut, "unlabeled") {
		t.Errorf("predict -split unlabeled on Shapes10: exit %d, stderr %q", code, errOut)
	}
	bad := filepath.Join(dir, "bad.jpg")
	os.WriteFile(bad, []byte("not a jpeg"), 0o644)
	// A bad file among good ones: the good ones are predicted, the bad one named on
	// stderr, and the exit status says something failed.
	code, stdout, errOut = runCLI(t, "predict", "-ckpt", ckpt, pngPath, bad, pngPath)
	if code != 1 || !strings.Contains(errOut, bad) || strings.Contains(errOut, pngPath) ||
		strings.Count(stdout, pngPath) != 2 || strings.Contains(stdout, bad) {
		t.Errorf("good, corrupt, good: exit %d, stdout %q, stderr %q", code, stdout, errOut)
	}
	code, _, errOut = runCLI(t, "predict", "-ckpt", ckpt, bad)
	if code != 1 || !strings.Contains(errOut, bad) {
		t.Errorf("only a corrupt image: exit %d, stderr %q", code, errOut)
	}
}

// vggkit bench prints one JSON object with the measured rate, compile time and FLOP
// figures; bf16 on the pure-Go backend is refused with a reason.
func TestBench(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	code, out, errOut := runCLI(t, "bench", "-json", "-arch", "vgg11", "-width", "0.0625", "-size", "32", "-batch", "4",
		"-rounds", "2", "-steps", "1")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var r struct {
		Model     string    `json:"model"`
		Rate      float64   `json:"images_per_s"`
		First     float64   `json:"first_step_s"`
		GFLOP     float64   `json:"gflop_per_image"`
		Rounds    []float64 `json:"step_s_per_round"`
		Precision string    `json:"precision"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if r.Rate <= 0 || r.First <= 0 || len(r.Rounds) != 2 || r.Precision != "f32" || !strings.HasPrefix(r.Model, "vgg11") {
		t.Errorf("bench result %+v", r)
	}
	// A training step is 6 x the forward multiply-adds of the summary.
	code, sum, _ := runCLI(t, "summary", "-arch", "vgg11", "-width", "0.0625", "-size", "32")
	var macs float64
	for _, line := range strings.Split(sum, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "total" {
			v, _ := json.Number(strings.ReplaceAll(f[len(f)-1], ",", "")).Float64()
			macs = v
		}
	}
	if code != 0 || macs == 0 || math.Abs(r.GFLOP-6*macs/1e9) > 1e-9 {
		t.Errorf("gflop per image %g, summary MACs %g: want 6 x MACs / 1e9 for a training step", r.GFLOP, macs)
	}
	code, _, errOut = runCLI(t, "bench", "-precision", "bf16", "-width", "0.0625", "-size", "32", "-batch", "2", "-steps", "1", "-rounds", "1")
	if code != 1 || !strings.Contains(errOut, "bf16 needs an XLA backend") {
		t.Errorf("bf16 on the pure-Go backend: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "bench", "-precision", "fp8")
	if code != 2 || !strings.Contains(errOut, `"fp8"`) {
		t.Errorf("unknown precision: exit %d, stderr %q", code, errOut)
	}
}

// Training on an image folder (one sub-folder per class, mixed sizes, PNG)
// through the CLI: the dataset flag reads it, split and resized.
func TestTrainImageFolder(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	dir := t.TempDir()
	pics := filepath.Join(dir, "pics")
	for c, class := range []string{"dark", "light"} {
		for i := range 5 {
			img := image.NewRGBA(image.Rect(0, 0, 20+7*i, 40-3*i))
			for p := range img.Pix {
				img.Pix[p] = uint8(40 + 150*c + i)
			}
			os.MkdirAll(filepath.Join(pics, class), 0o755)
			f, _ := os.Create(filepath.Join(pics, class, string(rune('a'+i))+".png"))
			png.Encode(f, img)
			f.Close()
		}
	}
	out := filepath.Join(dir, "report")
	code, stdout, errOut := runCLI(t, "train", "-dataset", "folder:"+pics, "-image-size", "24", "-split-seed", "2", "-arch", "vgg11", "-bn",
		"-width", "0.0625", "-size", "32", "-epochs", "1", "-batch", "4", "-ckpt", filepath.Join(dir, "ckpt"), "-out", out, "-eval-every", "-1")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, stdout, errOut)
	}
	for _, want := range []string{"pics train (20% held out, seed 2)", "Accuracy of the network on the 2 test images"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
}

// doctor names the backend, and on XLA CPU which convolution kernels run.
func TestDoctorReportsConvolutionKernels(t *testing.T) {
	t.Setenv(backend.EnvVar, "")
	code, out, errOut := runCLI(t, "doctor")
	if code != 0 || !strings.Contains(out, "selected:") || !strings.Contains(out, "go-xla:") {
		t.Fatalf("doctor: exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if c, err := backend.New(); err != nil || !c.IsXLACPU() {
		t.Skipf("default backend is not XLA CPU here (vggkit doctor -install cpu); doctor said:\n%s", out)
	}
	if !backend.GoXLAPatched() {
		if !strings.Contains(out, backend.GoXLAUpstreamNote) {
			t.Errorf("doctor on XLA CPU with upstream go-xla does not say so:\n%s", out)
		}
		t.Skip(backend.GoXLAUpstreamNote)
	}
	if !strings.Contains(out, "convs:     oneDNN") || !strings.Contains(out, "kernel gradients") {
		t.Errorf("doctor on XLA CPU does not say which convolution kernels run:\n%s", out)
	}
	t.Setenv(backend.CPUKernelsEnvVar, "0")
	if _, out, _ = runCLI(t, "doctor"); !strings.Contains(out, "kernel gradients: XLA's own (VGGKIT_CPUKERNELS=0)") {
		t.Errorf("doctor with VGGKIT_CPUKERNELS=0:\n%s", out)
	}
}

// eval of a checkpoint trained on CIFAR-10 evaluates CIFAR-10 (it once rebuilt the data
// from the defaults and evaluated Shapes10, the class counts being equal).
func TestEvalUsesTheCheckpointsDataset(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	dir := t.TempDir()
	cifar := filepath.Join(dir, "cifar-10-batches-bin")
	writeCIFAR10(t, cifar)
	ckpt := filepath.Join(dir, "ckpt")
	code, stdout, errOut := runCLI(t, "train", "-dataset", "cifar10", "-data-dir", dir, "-limit", "40", "-arch", "vgg11",
		"-width", "0.0625", "-size", "32", "-epochs", "1", "-batch", "8", "-ckpt", ckpt, "-out", filepath.Join(dir, "report"), "-eval-every", "-1")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, stdout, errOut)
	}
	code, stdout, errOut = runCLI(t, "eval", "-ckpt", ckpt)
	if code != 0 || !strings.Contains(stdout, "CIFAR-10") || !strings.Contains(stdout, "frog") || strings.Contains(stdout, "Shapes10") {
		t.Errorf("eval of a CIFAR-10 checkpoint: exit %d\n%s\n%s", code, stdout, errOut)
	}
}

// writeCIFAR10 writes CIFAR-10's binary release layout with few images: each record is a
// label byte and 3072 pixel bytes (R, G, B planes); the reader wants the real counts, so
// each batch has 10,000 records (30 MB in all, in a temporary folder).
func writeCIFAR10(t *testing.T, dir string) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	names := "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"
	os.WriteFile(filepath.Join(dir, "batches.meta.txt"), []byte(names), 0o644)
	rec := make([]byte, 10000*3073)
	for i := range 10000 {
		rec[i*3073] = byte(i % 10)
		for p := 1; p < 3073; p++ {
			rec[i*3073+p] = byte(25*(i%10) + p%7)
		}
	}
	for _, f := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
		if err := os.WriteFile(filepath.Join(dir, f), rec, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// predict on an image file gives the probabilities the same image gets through the test
// split (the same decoder, the same stored size), for a non-square image larger than it.
func TestPredictMatchesTheTestSplit(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	dir := t.TempDir()
	pics := filepath.Join(dir, "pics")
	var testFiles []string
	for c, class := range []string{"dark", "light"} {
		for split, n := range map[string]int{"train": 4, "test": 1} {
			os.MkdirAll(filepath.Join(pics, split, class), 0o755)
			for i := range n {
				img := image.NewRGBA(image.Rect(0, 0, 90+11*i, 50))
				for p := range img.Pix {
					img.Pix[p] = uint8(40 + 150*c + (p*13)%40)
				}
				path := filepath.Join(pics, split, class, fmt.Sprintf("%d.png", i))
				f, _ := os.Create(path)
				png.Encode(f, img)
				f.Close()
				if split == "test" {
					testFiles = append(testFiles, path)
				}
			}
		}
	}
	ckpt := filepath.Join(dir, "ckpt")
	code, stdout, errOut := runCLI(t, "train", "-dataset", "folder:"+pics, "-image-size", "40", "-arch", "vgg11",
		"-width", "0.0625", "-size", "32", "-epochs", "1", "-batch", "4", "-ckpt", ckpt, "-out", filepath.Join(dir, "r"))
	if code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, stdout, errOut)
	}
	type item struct {
		Top []struct {
			Class string
			Prob  float64
		}
	}
	read := func(args ...string) []item {
		code, out, errOut := runCLI(t, append([]string{"predict", "-ckpt", ckpt, "-json"}, args...)...)
		var items []item
		if err := json.Unmarshal([]byte(out), &items); code != 0 || err != nil {
			t.Fatalf("predict %v: exit %d, %v\n%s", args, code, err, errOut)
		}
		return items
	}
	files, split := read(testFiles...), read("-split", "test")
	if len(files) != 2 || len(split) != 2 {
		t.Fatalf("%d and %d predictions", len(files), len(split))
	}
	for i := range files {
		for k := range files[i].Top {
			a, b := files[i].Top[k], split[i].Top[k]
			if a.Class != b.Class || math.Abs(a.Prob-b.Prob) > 1e-6 {
				t.Errorf("image %d, class %d: file %+v, test split %+v", i, k, a, b)
			}
		}
	}
}

// A corrupt checkpoint (one flipped bit in a weight, or in the header) is refused with
// the file named and exit 1, never evaluated.
func TestCorruptCheckpointRefused(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	dir := t.TempDir()
	ckpt := trainTiny(t, dir)
	file := filepath.Join(ckpt, "checkpoint.vggkit")
	good, _ := os.ReadFile(file)
	for name, at := range map[string]int{"weight": len(good) - 11, "header": strings.Index(string(good), "leaky_slope") + 3} {
		b := append([]byte(nil), good...)
		b[at] ^= 0x04
		os.WriteFile(file, b, 0o644)
		code, out, errOut := runCLI(t, "eval", "-ckpt", ckpt)
		if code != 1 || !strings.Contains(errOut, file) || !strings.Contains(errOut, "checksum") || strings.Contains(out, "Accuracy") {
			t.Errorf("a flipped bit in the %s: exit %d, stderr %q", name, code, errOut)
		}
	}
}

// kill -9 during a checkpoint save: the next run removes the temporary file and resumes
// from the last complete checkpoint.
func TestKilledDuringSaveResumes(t *testing.T) {
	if os.Getenv("VGGKIT_TEST_MAIN") != "" {
		t.Skip("the child")
	}
	var dir, ckpt string
	var args []string
	killed := false
	for try := 0; try < 5 && !killed; try++ {
		// A fresh folder for each try: a run that finished before it was caught would make
		// the next try resume with nothing to do.
		dir = t.TempDir()
		ckpt = filepath.Join(dir, "ckpt")
		args = []string{"train", "-dataset", "shapes10", "-per-class", "8", "-arch", "vgg11", "-width", "1", "-size", "32",
			"-epochs", "2", "-batch", "4", "-ckpt", ckpt, "-out", filepath.Join(dir, "r"), "-eval-every", "-1", "-ckpt-minutes", "1e-9"}
		var stderr bytes.Buffer
		cmd := exec.Command(os.Args[0], "-test.run=^TestMain$")
		cmd.Env = append(os.Environ(), "VGGKIT_TEST_MAIN="+strings.Join(args, "\x1f"), "GOMLX_BACKEND=go")
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
	poll:
		for {
			select {
			case err := <-exited:
				t.Logf("try %d: the run ended (%v) before a save was caught; stderr:\n%s", try+1, err, stderr.String())
				break poll
			case <-time.After(time.Millisecond):
			}
			if len(tempFiles(ckpt)) > 0 && fileExists(filepath.Join(ckpt, "checkpoint.vggkit")) {
				cmd.Process.Signal(syscall.SIGKILL)
				<-exited
				killed = true
				break poll
			}
		}
	}
	if !killed {
		t.Fatal("never caught a save in progress")
	}
	if tmps := tempFiles(ckpt); len(tmps) == 0 {
		t.Fatal("no temporary file left by the kill")
	}
	t.Setenv("GOMLX_BACKEND", "go")
	args[len(args)-1] = "-1" // no more saves but the epochs'
	code, out, errOut := runCLI(t, args...)
	if code != 0 || !strings.Contains(out, "resuming at step") {
		t.Fatalf("after the kill: exit %d\n%s\n%s", code, out, errOut)
	}
	if tmps := tempFiles(ckpt); len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// tempFiles lists the temporary files of saves in the run folder and below.
func tempFiles(dir string) []string {
	a, _ := filepath.Glob(filepath.Join(dir, ".checkpoint-*.tmp"))
	b, _ := filepath.Glob(filepath.Join(dir, "*", ".checkpoint-*.tmp"))
	return append(a, b...)
}

// trainTiny trains the smallest VGG for one epoch on 20 Shapes10 images and returns its
// checkpoint folder, dir/ckpt.
func trainTiny(t *testing.T, dir string) string {
	t.Helper()
	ckpt := filepath.Join(dir, "ckpt")
	if code, out, errOut := runCLI(t, "train", "-dataset", "shapes10", "-per-class", "2", "-arch", "vgg11", "-width", "0.0625",
		"-size", "32", "-epochs", "1", "-batch", "8", "-ckpt", ckpt, "-out", filepath.Join(dir, "r"), "-eval-every", "-1"); code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, out, errOut)
	}
	return ckpt
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestMain runs the command itself when VGGKIT_TEST_MAIN holds its arguments (for tests
// that need a second process to kill).
func TestMain(m *testing.M) {
	if a := os.Getenv("VGGKIT_TEST_MAIN"); a != "" {
		os.Exit(run(strings.Split(a, "\x1f"), io.Discard, os.Stderr))
	}
	os.Exit(m.Run())
}

// writeMNIST writes the four raw IDX files of an MNIST-format dataset into dir/mnist, at
// the official counts (60,000 and 10,000 images of 28x28, which the reader insists on):
// label i%10, and a bright bar whose row says the label, so the classes differ.
func writeMNIST(t *testing.T, dir string) {
	t.Helper()
	sub := filepath.Join(dir, "mnist")
	os.MkdirAll(sub, 0o755)
	idx := func(magic uint32, dims ...uint32) []byte {
		b := binary.BigEndian.AppendUint32(nil, magic)
		for _, d := range dims {
			b = binary.BigEndian.AppendUint32(b, d)
		}
		return b
	}
	for prefix, n := range map[string]int{"train": 60000, "t10k": 10000} {
		images := append(idx(0x803, uint32(n), 28, 28), make([]byte, n*784)...)
		labels := append(idx(0x801, uint32(n)), make([]byte, n)...)
		for i := range n {
			labels[8+i] = byte(i % 10)
			img := images[16+i*784 : 16+(i+1)*784]
			for x := range 28 {
				img[(2+2*(i%10))*28+x] = 255
				img[(3+2*(i%10))*28+x] = 200
			}
		}
		for name, b := range map[string][]byte{prefix + "-images-idx3-ubyte": images, prefix + "-labels-idx1-ubyte": labels} {
			if err := os.WriteFile(filepath.Join(sub, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// -channels 1 trains, evaluates and predicts grey images end to end (it once panicked in
// the model's input transforms, which wanted 3 channels): a VGG whose first convolution
// takes 1 channel, a checkpoint recording 28x28x1 images, and predict decoding a PNG to
// that grey shape.
func TestGreyMNISTEndToEnd(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	dir := t.TempDir()
	writeMNIST(t, dir)
	ckpt := filepath.Join(dir, "ckpt")
	code, stdout, errOut := runCLI(t, "train", "-dataset", "mnist", "-data-dir", dir, "-channels", "1", "-limit", "64",
		"-arch", "vgg11", "-width", "0.0625", "-size", "32", "-epochs", "1", "-batch", "16", "-ckpt", ckpt,
		"-out", filepath.Join(dir, "r"), "-eval-every", "-1")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, stdout, errOut)
	}
	for _, want := range []string{"MNIST train", "images of 28x28x1", "Accuracy of the network on the 10000 test images"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	meta, err := training.ReadMeta(ckpt)
	if err != nil || meta.Images != [3]int{28, 28, 1} {
		t.Fatalf("checkpoint images %v (%v), want 28x28x1", meta.Images, err)
	}
	grey := image.NewGray(image.Rect(0, 0, 40, 30))
	for i := range grey.Pix {
		grey.Pix[i] = uint8(i * 5)
	}
	pngPath := filepath.Join(dir, "grey.png")
	f, _ := os.Create(pngPath)
	png.Encode(f, grey)
	f.Close()
	code, stdout, errOut = runCLI(t, "predict", "-ckpt", ckpt, pngPath, filepath.Join(dir, "r", "data_grid.png"))
	if code != 0 || strings.Count(stdout, "%") != 10 {
		t.Errorf("predict: exit %d\n%s\n%s", code, stdout, errOut)
	}
	code, stdout, errOut = runCLI(t, "predict", "-ckpt", ckpt, "-split", "test", "-limit", "2")
	if code != 0 || !strings.Contains(stdout, "#1 (1)") {
		t.Errorf("predict -split test: exit %d\n%s\n%s", code, stdout, errOut)
	}
}

// TestExitCodes runs command lines through the built program (this test binary re-run as
// vggkit: TestMain), as a user's shell would, and checks README's rule: exit 2 for a bad
// command line, including a value out of range or unknown (before any work), 1 for
// anything else (missing or bad files, an image over the pixel limit), never a panic,
// never a hang; and the error names the value or the file.
func TestExitCodes(t *testing.T) {
	if os.Getenv("VGGKIT_TEST_MAIN") != "" {
		t.Skip("the child")
	}
	t.Setenv("GOMLX_BACKEND", "go")
	dir := t.TempDir()
	ckpt := trainTiny(t, dir)
	// Data folders with a folder, a FIFO or a corrupt gzip where a file belongs.
	stl := filepath.Join(dir, "stl", "stl10_binary")
	os.MkdirAll(filepath.Join(stl, "train_X.bin"), 0o755)
	os.WriteFile(filepath.Join(stl, "class_names.txt"), []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"), 0o644)
	cifar := filepath.Join(dir, "cifar", "cifar-10-batches-bin")
	os.MkdirAll(cifar, 0o755)
	os.WriteFile(filepath.Join(cifar, "batches.meta.txt"), []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"), 0o644)
	fifo := filepath.Join(cifar, "data_batch_1.bin")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	mnist := filepath.Join(dir, "mnist")
	writeMNIST(t, mnist)
	for _, name := range []string{"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		p := filepath.Join(mnist, "mnist", name)
		raw, _ := os.ReadFile(p)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(raw)
		zw.Close()
		b := gz.Bytes()
		if strings.Contains(name, "images") {
			b[len(b)-7] ^= 0x10 // the CRC-32
		}
		os.Remove(p)
		os.WriteFile(p+".gz", b, 0o644)
	}
	// Images: a folder, a FIFO, a PNG header declaring 30000x30000 16-bit RGBA.
	imgDir := filepath.Join(dir, "cat.png")
	os.MkdirAll(imgDir, 0o755)
	imgFIFO := filepath.Join(dir, "pipe.png")
	syscall.Mkfifo(imgFIFO, 0o644)
	bomb := filepath.Join(dir, "bomb.png")
	os.WriteFile(bomb, pngBomb(30000, 30000), 0o644)
	missing := filepath.Join(dir, "nothing")

	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`}},
		{[]string{"train", "-fold", "11"}, 2, []string{"fold 11 out of range"}},
		{[]string{"train", "-lr", "1e3"}, 2, []string{"learning rate 1000 out of range"}},
		{[]string{"train", "-width", "NaN"}, 2, []string{"width NaN"}},
		{[]string{"train", "-channels", "2"}, 2, []string{"channels 2"}},
		{[]string{"train", "-dataset", "imagenet"}, 2, []string{`unknown dataset "imagenet"`}},
		{[]string{"train", "-dataset", "mnist", "-fold", "3"}, 2, []string{`dataset "mnist" has no folds`}},
		{[]string{"train", "extra"}, 2, []string{"unexpected arguments"}},
		{[]string{"demo", "-epochs", "-1"}, 2, []string{"epochs -1"}},
		{[]string{"eval", "-ckpt", ckpt, "extra"}, 2, []string{"unexpected arguments"}},
		{[]string{"predict"}, 2, []string{"no images given"}},
		{[]string{"predict", "-ckpt", ckpt, "-top", "0", bomb}, 2, []string{"-top 0"}},
		{[]string{"predict", "-ckpt", ckpt, "-split", "val"}, 2, []string{`-split "val"`}},
		{[]string{"predict", "-ckpt", ckpt, "-split", "test", "-limit", "-1"}, 2, []string{"-limit -1"}},
		{[]string{"predict", "-ckpt", ckpt, "-split", "test", bomb}, 2, []string{"not both"}},
		{[]string{"summary", "-arch", "vgg17"}, 2, []string{`unknown arch "vgg17"`}},
		{[]string{"bench", "-mode", "infer"}, 2, []string{`-mode "infer"`}},
		{[]string{"bench", "-rounds", "0"}, 2, []string{"-rounds 0"}},
		{[]string{"bench", "-precision", "fp8"}, 2, []string{`"fp8"`}},
		{[]string{"download", "imagenet"}, 2, []string{"say which dataset"}},
		{[]string{"doctor", "-install", "tpu"}, 2, []string{`-install "tpu"`}},
		{[]string{"train", "-no-such-flag"}, 2, []string{"no-such-flag"}},

		{[]string{"eval", "-ckpt", missing}, 1, []string{missing}},
		{[]string{"predict", "-ckpt", missing, bomb}, 1, []string{missing}},
		{[]string{"train", "-dataset", "stl10", "-data-dir", filepath.Dir(stl), "-out", filepath.Join(dir, "r1"), "-ckpt", ""}, 1,
			[]string{filepath.Join(stl, "train_X.bin") + " is a directory, not a regular file"}},
		{[]string{"train", "-dataset", "cifar10", "-data-dir", filepath.Dir(cifar), "-out", filepath.Join(dir, "r2"), "-ckpt", ""}, 1,
			[]string{fifo + " is a named pipe (FIFO), not a regular file"}},
		{[]string{"train", "-dataset", "mnist", "-data-dir", mnist, "-channels", "1", "-out", filepath.Join(dir, "r3"), "-ckpt", ""}, 1,
			[]string{"t10k-images-idx3-ubyte.gz: corrupt gzip file", "CRC-32"}},
		{[]string{"predict", "-ckpt", ckpt, bomb}, 1,
			[]string{bomb + ": PNG header declares 30000x30000 pixels (900 megapixels), over the limit of 50 megapixels", "VGGKIT_MAX_IMAGE_PIXELS=900000000"}},
		{[]string{"predict", "-ckpt", ckpt, imgDir}, 1, []string{imgDir + ": is a directory, not an image file"}},
		{[]string{"predict", "-ckpt", ckpt, imgFIFO}, 1, []string{imgFIFO + ": is a named pipe (FIFO), not an image file"}},
		{[]string{"predict", "-ckpt", ckpt, "-split", "unlabeled"}, 1, []string{"unlabeled"}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMain$")
		cmd.Env = append(os.Environ(), "VGGKIT_TEST_MAIN="+strings.Join(c.args, "\x1f"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		timedOut := ctx.Err() != nil
		cancel()
		code := cmd.ProcessState.ExitCode()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("%q: %v", c.args, err)
		}
		errOut := stderr.String()
		switch {
		case timedOut:
			t.Errorf("%q: still running after 2 minutes (waiting on a FIFO?)", c.args)
		case code != c.code:
			t.Errorf("%q: exit %d, want %d; stderr:\n%s", c.args, code, c.code, errOut)
		case strings.Contains(errOut, "panic") || strings.Contains(errOut, "goroutine "):
			t.Errorf("%q: a panic, not an error:\n%s", c.args, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%q: stderr lacks %q:\n%s", c.args, w, errOut)
			}
		}
	}
}

// pngBomb is a PNG that declares w x h pixels of 16-bit RGBA and holds one stored
// zlib block of 6 zero bytes: 74 bytes.
func pngBomb(w, h uint32) []byte {
	chunk := func(b []byte, typ string, data []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		start := len(b)
		b = append(append(b, typ...), data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	ihdr = append(ihdr, 16, 6, 0, 0, 0)
	idat := []byte{0x78, 0x01, 0x01, 6, 0, 0xf9, 0xff, 0, 0, 0, 0, 0, 0}
	idat = binary.BigEndian.AppendUint32(idat, adler32.Checksum(idat[7:]))
	b := chunk([]byte("\x89PNG\r\n\x1a\n"), "IHDR", ihdr)
	return chunk(chunk(b, "IDAT", idat), "IEND", nil)
}

// train -weights starts from a vggkit checkpoint (another task: 5 of its classes from a
// folder dataset) with the trunk frozen for the first epoch; the run says so.
func TestTrainFromWeights(t *testing.T) {
	dir := t.TempDir()
	src := trainTiny(t, dir)
	folder := filepath.Join(dir, "five")
	for c := range 5 {
		sub := filepath.Join(folder, fmt.Sprintf("class%d", c))
		os.MkdirAll(sub, 0o755)
		for i := range 4 {
			img := image.NewRGBA(image.Rect(0, 0, 32, 32))
			for p := range img.Pix {
				img.Pix[p] = uint8(40*c + 7*i + p%13)
			}
			f, err := os.Create(filepath.Join(sub, fmt.Sprintf("%d.png", i)))
			if err != nil {
				t.Fatal(err)
			}
			png.Encode(f, img)
			f.Close()
		}
	}
	code, out, errOut := runCLI(t, "train", "-dataset", "folder:"+folder, "-image-size", "32", "-test-fraction", "0.25",
		"-arch", "vgg11", "-width", "0.0625", "-size", "32", "-epochs", "2", "-batch", "5", "-weights", src,
		"-ckpt", filepath.Join(dir, "ft"), "-out", filepath.Join(dir, "ftr"), "-eval-every", "-1")
	if code != 0 {
		t.Fatalf("train -weights: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "weights: "+src+"; trunk frozen for 1 epoch(s), then the trunk at 0.1 x lr") {
		t.Errorf("the run does not describe the fine-tuning:\n%s", out)
	}
	code, _, errOut = runCLI(t, "train", "-dataset", "shapes10", "-per-class", "2", "-arch", "vgg13", "-width", "0.0625",
		"-size", "32", "-epochs", "1", "-batch", "8", "-weights", src, "-ckpt", filepath.Join(dir, "bad"), "-out", filepath.Join(dir, "badr"))
	if code != 1 || !strings.Contains(errOut, "model.arch: \"vgg11\" -> \"vgg13\"") {
		t.Errorf("weights of another trunk: exit %d, want 1 naming model.arch\n%s", code, errOut)
	}
}

// predict -cam writes the images with their class activation maps: one 96 px cell per
// image (the 32 px images enlarged 3x), in one row, beside the usual top-5.
func TestPredictCAM(t *testing.T) {
	dir := t.TempDir()
	ckpt := trainTiny(t, dir)
	var paths []string
	for k := range 3 {
		img := image.NewRGBA(image.Rect(0, 0, 40+10*k, 40))
		for i := range img.Pix {
			img.Pix[i] = uint8(i * (k + 3))
		}
		p := filepath.Join(dir, fmt.Sprintf("x%d.png", k))
		f, _ := os.Create(p)
		png.Encode(f, img)
		f.Close()
		paths = append(paths, p)
	}
	out := filepath.Join(dir, "cam.png")
	code, stdout, errOut := runCLI(t, append([]string{"predict", "-ckpt", ckpt, "-cam", out}, paths...)...)
	if code != 0 || strings.Count(stdout, "%") != 15 {
		t.Fatalf("predict -cam: exit %d\n%s\n%s", code, stdout, errOut)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if b := img.Bounds(); b.Dx() != 3*(96+2)+2 || b.Dy() < 96 || b.Dy() > 96+120 {
		t.Errorf("%s is %dx%d: want 296 wide (3 cells of 96 px, 2 px padding) and one row high", out, b.Dx(), b.Dy())
	}
	code, _, errOut = runCLI(t, "predict", "-ckpt", ckpt, "-cam", filepath.Join(dir, "no", "such", "dir", "c.png"), paths[0])
	if code != 1 || !strings.Contains(errOut, "-cam") {
		t.Errorf("-cam into a missing folder: exit %d, stderr %q", code, errOut)
	}
}

// -cpuprofile writes a Go CPU profile of the run (bench/train/README.md), on the pure-Go
// backend and on XLA CPU. There the profiler's signals, arriving while the XLA plugin
// started, corrupted glibc's heap and aborted every run ("corrupted size vs. prev_size"),
// so that case runs in a fresh process, which loads the plugin after the profiler started.
// A path that cannot be created fails before any work.
func TestTrainCPUProfile(t *testing.T) {
	if os.Getenv("VGGKIT_TEST_MAIN") != "" {
		t.Skip("the child")
	}
	dir := t.TempDir()
	// On XLA: 60 steps, for thousands of profiling signals (fewer did not always abort).
	args := func(b, perClass, epochs string) []string {
		return []string{"train", "-dataset", "shapes10", "-per-class", perClass, "-arch", "vgg16", "-width", "0.25",
			"-size", "32", "-epochs", epochs, "-batch", "32", "-augment", "none", "-ckpt", "", "-eval-every", "-1",
			"-out", filepath.Join(dir, "report-"+b), "-cpuprofile", filepath.Join(dir, b+".prof")}
	}
	t.Setenv("GOMLX_BACKEND", "go")
	if code, stdout, errOut := runCLI(t, args("go", "4", "1")...); code != 0 {
		t.Fatalf("train on the pure-Go backend: exit %d\n%s\n%s", code, stdout, errOut)
	}
	t.Setenv("GOMLX_BACKEND", "")
	if c, err := backend.New(); err == nil && c.IsXLACPU() {
		t.Setenv("GOMLX_BACKEND", c.Config)
		var stderr bytes.Buffer
		cmd := exec.Command(os.Args[0], "-test.run=^TestMain$")
		cmd.Env = append(os.Environ(), "VGGKIT_TEST_MAIN="+strings.Join(args("xla", "100", "2"), "\x1f"))
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("train on %s with -cpuprofile: %v\n%s", c.Config, err, stderr.String())
		}
	} else {
		t.Log("XLA CPU plugin not installed: the pure-Go backend only")
	}
	for _, b := range []string{"go", "xla"} {
		p := filepath.Join(dir, b+".prof")
		if st, err := os.Stat(p); (err != nil || st.Size() == 0) && (b == "go" || fileExists(filepath.Join(dir, "report-xla"))) {
			t.Errorf("profile %s: %v", p, err)
		}
	}
	t.Setenv("GOMLX_BACKEND", "go")
	code, _, errOut := runCLI(t, "train", "-dataset", "shapes10", "-per-class", "2", "-epochs", "1", "-ckpt", "",
		"-out", filepath.Join(dir, "report2"), "-cpuprofile", filepath.Join(dir, "no", "such", "dir", "cpu.prof"))
	if code == 0 || !strings.Contains(errOut, "-cpuprofile") {
		t.Errorf("bad profile path: exit %d, stderr %q", code, errOut)
	}
}
