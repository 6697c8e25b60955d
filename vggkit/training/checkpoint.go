package training

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// CheckpointFile is the name of the checkpoint inside a checkpoint directory.
const CheckpointFile = "checkpoint.vggkit"

// checkpointMagic starts every checkpoint file; the header length (uint64, little endian)
// and the JSON header follow, then the variables' raw bytes.
const checkpointMagic = "VGGKIT-CHECKPOINT-1\n"

// Meta is what a checkpoint says about itself, besides the weights.
type Meta struct {
	Model   vgg.Config `json:"model"`
	Options Options    `json:"options"`
	Classes []string   `json:"classes"`
	Dataset string     `json:"dataset"`
	Step    int64      `json:"step"`
	History History    `json:"history"`
}

type ckptVar struct {
	Path      string       `json:"path"`
	DType     dtypes.DType `json:"dtype"`
	Dims      []int        `json:"dims"`
	Trainable bool         `json:"trainable"`
	Offset    int64        `json:"offset"`
	Length    int64        `json:"length"`
}

type ckptHeader struct {
	Meta
	Vars []ckptVar `json:"vars"`
}

// saveCheckpoint writes every variable of the store (weights, optimizer state, step, RNG)
// to dir/CheckpointFile through a temporary file and a rename, so a crash never leaves a
// half-written checkpoint in place of a good one.
func saveCheckpoint(dir string, meta Meta, store *model.Store) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint: cannot create directory %s: %w", dir, err)
	}
	h := ckptHeader{Meta: meta}
	var vars []*model.Variable
	var offset int64
	for v := range store.IterVariables() {
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("checkpoint: variable %s: %w", v.Path(), err)
		}
		n := int64(t.Shape().Memory())
		h.Vars = append(h.Vars, ckptVar{Path: v.Path(), DType: t.Shape().DType, Dims: t.Shape().Dimensions,
			Trainable: v.Trainable, Offset: offset, Length: n})
		vars = append(vars, v)
		offset += n
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return err
	}
	final := filepath.Join(dir, CheckpointFile)
	tmp, err := os.CreateTemp(dir, ".checkpoint-*.tmp")
	if err != nil {
		return fmt.Errorf("checkpoint: cannot write in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	w := bufio.NewWriterSize(tmp, 1<<20)
	w.WriteString(checkpointMagic)
	binary.Write(w, binary.LittleEndian, uint64(len(hdr)))
	w.Write(hdr)
	for _, v := range vars {
		var werr error
		if err := v.MustValue().ConstBytes(func(b []byte) { _, werr = w.Write(b) }); err != nil {
			return err
		}
		if werr != nil {
			tmp.Close()
			return fmt.Errorf("checkpoint: writing %s: %w", tmp.Name(), werr)
		}
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("checkpoint: writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// ReadMeta reads only the header of a checkpoint (a file, or a directory holding CheckpointFile).
func ReadMeta(path string) (*Meta, error) {
	h, _, err := readHeader(path)
	if err != nil {
		return nil, err
	}
	return &h.Meta, nil
}

// resolveCheckpoint accepts a directory or a file path.
func resolveCheckpoint(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return filepath.Join(path, CheckpointFile)
	}
	return path
}

// HasCheckpoint tells whether dir (or the file) holds a checkpoint.
func HasCheckpoint(path string) bool {
	_, err := os.Stat(resolveCheckpoint(path))
	return err == nil
}

func readHeader(path string) (*ckptHeader, int64, error) {
	file := resolveCheckpoint(path)
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	magic := make([]byte, len(checkpointMagic))
	if _, err := io.ReadFull(f, magic); err != nil || string(magic) != checkpointMagic {
		return nil, 0, fmt.Errorf("checkpoint %s: not a vggkit checkpoint (bad magic)", file)
	}
	var n uint64
	if err := binary.Read(f, binary.LittleEndian, &n); err != nil {
		return nil, 0, fmt.Errorf("checkpoint %s: truncated header", file)
	}
	dataStart := int64(len(checkpointMagic)) + 8 + int64(n)
	if n == 0 || dataStart > st.Size() {
		return nil, 0, fmt.Errorf("checkpoint %s: header length %d exceeds file size %d (truncated?)", file, n, st.Size())
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, 0, fmt.Errorf("checkpoint %s: truncated header: %w", file, err)
	}
	h := &ckptHeader{}
	if err := json.Unmarshal(buf, h); err != nil {
		return nil, 0, fmt.Errorf("checkpoint %s: corrupt header: %w", file, err)
	}
	var need int64
	for _, v := range h.Vars {
		if v.Offset < 0 || v.Length < 0 {
			return nil, 0, fmt.Errorf("checkpoint %s: variable %s has offset %d length %d", file, v.Path, v.Offset, v.Length)
		}
		need = max(need, v.Offset+v.Length)
	}
	if dataStart+need != st.Size() {
		return nil, 0, fmt.Errorf("checkpoint %s: %d bytes, header describes %d (truncated or corrupt)", file, st.Size(), dataStart+need)
	}
	return h, dataStart, nil
}

// loadCheckpoint restores every variable of a checkpoint into store (creating the ones
// not built yet) and returns its metadata.
func loadCheckpoint(path string, store *model.Store) (*Meta, error) {
	h, dataStart, err := readHeader(path)
	if err != nil {
		return nil, err
	}
	file := resolveCheckpoint(path)
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	for _, cv := range h.Vars {
		shape := shapes.Make(cv.DType, cv.Dims...)
		if int64(shape.Memory()) != cv.Length {
			return nil, fmt.Errorf("checkpoint %s: variable %s has %d bytes for shape %s", file, cv.Path, cv.Length, shape)
		}
		t := tensors.FromShape(shape)
		var rerr error
		if err := t.MutableBytes(func(b []byte) { _, rerr = f.ReadAt(b, dataStart+cv.Offset) }); err != nil {
			return nil, err
		}
		if rerr != nil {
			return nil, fmt.Errorf("checkpoint %s: reading %s: %w", file, cv.Path, rerr)
		}
		if v := store.GetVariable(cv.Path); v != nil {
			if !v.Shape().Equal(shape) {
				return nil, fmt.Errorf("checkpoint %s: variable %s has shape %s, the model wants %s (different model config?)",
					file, cv.Path, shape, v.Shape())
			}
			if err := v.SetValue(t); err != nil {
				return nil, err
			}
			continue
		}
		v, err := store.CreateVariable(cv.Path, t)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", file, err)
		}
		v.SetTrainable(cv.Trainable)
	}
	return &h.Meta, nil
}
