package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggkit/vggkit/vggkit/refstest"
)

// checkONNX loads argv[1] with ONNX Runtime, runs two zero images and prints the class
// names stored in it and the logits' shape.
const checkONNX = `
import sys, json, numpy as np, onnxruntime as ort
s = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
shape = s.get_inputs()[0].shape
y = s.run(["logits"], {"images": np.zeros([2] + shape[1:], dtype=np.uint8)})[0]
print(json.loads(s.get_modelmeta().custom_metadata_map["classes"]), list(shape[1:]), list(y.shape))
`

func TestExportWritesONNXThatRuns(t *testing.T) {
	py := refstest.Python(t)
	// The pure-Go backend, as the other CLI tests: the process shares one backend
	// (backend.Shared), so the first test to ask for it chooses it for all.
	t.Setenv("GOMLX_BACKEND", "go")
	dir := t.TempDir()
	ckpt := trainTiny(t, dir)
	out := filepath.Join(dir, "m.onnx")
	os.WriteFile(out, []byte("an older export"), 0o644) // replaced, as torch.onnx.export does.
	code, stdout, stderr := runCLI(t, "export", "-ckpt", ckpt, out)
	if code != 0 || !strings.Contains(stdout, "wrote "+out) {
		t.Fatalf("export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	got := strings.TrimSpace(string(refstest.Run(t, py, dir, checkONNX, out)))
	want := "['circle', 'square', " // Shapes10's first classes, then the input [32, 32, 3] and logits [2, 10].
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "[32, 32, 3] [2, 10]") {
		t.Errorf("onnxruntime read %q; want classes starting %q, input [32, 32, 3] and logits [2, 10]", got, want)
	}
}

func TestExportExitCodes(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.onnx")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-format", "tflite", out}, 2, `"tflite"`},
		{[]string{"-ckpt", dir}, 2, "one output file"},
		{[]string{"-ckpt", filepath.Join(dir, "none"), out}, 1, "no checkpoint at " + filepath.Join(dir, "none")},
	} {
		code, _, stderr := runCLI(t, append([]string{"export"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("export %q: exit %d, stderr %q; want exit %d naming %s", c.args, code, stderr, c.code, c.want)
		}
	}
	if fileExists(out) {
		t.Errorf("a failed export wrote %s", out)
	}
}
