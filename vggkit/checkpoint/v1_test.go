package checkpoint

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/ml/model"
)

// The format v1 writer, as vggkit/training/checkpoint.go had it (saveCheckpoint), with a test
// metadata type in place of training.Meta.

type v1Meta struct {
	Dataset string   `json:"dataset"`
	Step    int64    `json:"step"`
	Classes []string `json:"classes"`
}

type v1Var struct {
	Path      string       `json:"path"`
	DType     dtypes.DType `json:"dtype"`
	Dims      []int        `json:"dims"`
	Trainable bool         `json:"trainable"`
	Offset    int64        `json:"offset"`
	Length    int64        `json:"length"`
}

type v1Header struct {
	v1Meta
	Vars []v1Var `json:"vars"`
}

func saveV1(dir string, meta v1Meta, store *model.Store) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint: cannot create directory %s: %w", dir, err)
	}
	h := v1Header{v1Meta: meta}
	var vars []*model.Variable
	var offset int64
	for v := range store.IterVariables() {
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("checkpoint: variable %s: %w", v.Path(), err)
		}
		n := t.Shape().ByteSize() // Memory() in the original
		h.Vars = append(h.Vars, v1Var{Path: v.Path(), DType: t.Shape().DType, Dims: t.Shape().Dimensions,
			Trainable: v.Trainable, Offset: offset, Length: n})
		vars = append(vars, v)
		offset += n
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return err
	}
	final := filepath.Join(dir, File)
	tmp, err := os.CreateTemp(dir, ".checkpoint-*.tmp")
	if err != nil {
		return fmt.Errorf("checkpoint: cannot write in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename.
	w := bufio.NewWriterSize(tmp, 1<<20)
	w.WriteString(magicV1)
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
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), final)
}
