package main

import (
	"bytes"
	"fmt"
	"io"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/internal/atomicfile"
	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/export"
	"github.com/vggkit/vggkit/vggkit/training"
)

// runExport writes a checkpoint's model for other runtimes. An existing OUT is replaced,
// as torch.onnx.export does, but atomically: a failed export leaves the old file whole.
func runExport(args []string, stdout io.Writer) error {
	fs := newFlags("export", stdout)
	ckpt := fs.String("ckpt", "vggkit-run/checkpoint", "checkpoint directory or file")
	format := fs.String("format", "onnx", "file format: onnx (opset 17; input \"images\" uint8 [N,size,size,C], output \"logits\")")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *format != "onnx" {
		return fmt.Errorf("%w: -format %q: the only format is onnx", errUsage, *format)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one output file (OUT.onnx), got %d arguments", errUsage, fs.NArg())
	}
	out := fs.Arg(0)
	if !training.HasCheckpoint(*ckpt) {
		return fmt.Errorf("no checkpoint at %s: train first (vggkit train -ckpt %s) or pass -ckpt", *ckpt, *ckpt)
	}
	b, err := backend.Shared()
	if err != nil {
		return err
	}
	l, err := training.Load(b, *ckpt)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := exportONNX(&buf, l); err != nil {
		return err
	}
	if err := atomicfile.Write(out, buf.Bytes()); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	m := l.Config.Model
	fmt.Fprintf(stdout, "wrote %s (%s, %d MB): input %q uint8 [N,%d,%d,%d], output %q [N,%d]\n", out, m.Name(),
		buf.Len()>>20, export.InputName, m.InputSize, m.InputSize, imageChannels(l), export.OutputName, m.Classes)
	return nil
}

// exportONNX exports l's model. A checkpoint's variables are in the store once loaded;
// should there be none, one forward pass builds the model (and so its variables).
func exportONNX(w io.Writer, l *training.Learner) error {
	m, c := l.Config.Model, imageChannels(l)
	vars, err := l.Variables()
	if err == nil && len(vars) == 0 {
		zeros := tensors.FromFlatDataAndDimensions(make([]byte, m.InputSize*m.InputSize*c), 1, m.InputSize, m.InputSize, c)
		if _, err := l.Forward(zeros); err != nil {
			return fmt.Errorf("building the model: %w", err)
		}
		vars, err = l.Variables()
	}
	if err != nil {
		return err
	}
	return export.ONNX(w, m, c, l.Classes, vars)
}

// imageChannels is the channels of the images the model was trained on (as readImages).
func imageChannels(l *training.Learner) int {
	if l.Images[2] == 0 {
		return 3
	}
	return l.Images[2]
}
