package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// snapshot returns the values of the store's variables with their header entries (offsets,
// lengths, checksums), refusing unsupported dtypes and non-finite values.
func snapshot(store *model.Store) ([]*tensors.Tensor, []varEntry, error) {
	var values []*tensors.Tensor
	var entries []varEntry
	var offset int64
	for v := range store.IterVariables() {
		t, err := v.Value()
		if err != nil {
			return nil, nil, fmt.Errorf("variable %s: %w", v.Path(), err)
		}
		e, err := describe(v, t)
		if err != nil {
			return nil, nil, fmt.Errorf("variable %s: %w", v.Path(), err)
		}
		e.Offset = offset
		offset += e.Length
		values, entries = append(values, t), append(entries, e)
	}
	return values, entries, nil
}

// describe returns the header entry of variable v of value t (but its offset), checking t.
func describe(v *model.Variable, t *tensors.Tensor) (varEntry, error) {
	shape := t.Shape()
	if !supported(shape.DType) {
		return varEntry{}, fmt.Errorf("unsupported dtype %s", shape.DType)
	}
	e := varEntry{Path: v.Path(), DType: shape.DType, Dims: shape.Dimensions, Trainable: v.Trainable}
	var bad error
	err := t.ConstFlatData(func(flat any) {
		bad = checkFinite(flat)
		b := dtypes.UnsafeByteSliceFromAny(flat)
		e.Length, e.SHA256 = int64(len(b)), hexSum(b)
	})
	if err == nil {
		err = bad
	}
	if n, _ := byteSize(shape.DType, shape.Dimensions); err == nil && n != e.Length {
		err = fmt.Errorf("%d bytes for shape %s", e.Length, shape)
	}
	return e, err
}

// checkFinite returns an error naming the first NaN or Inf of a float slice.
func checkFinite(flat any) error {
	if i := firstNonFinite(flat); i >= 0 {
		return fmt.Errorf("non-finite value %v at index %d", reflect.ValueOf(flat).Index(i), i)
	}
	return nil
}

// firstNonFinite returns the index of the first NaN or Inf (exponent bits all set) of a float
// slice, or -1 (also for non-float slices).
func firstNonFinite(flat any) int {
	switch s := flat.(type) {
	case []float32:
		return firstAllSet(s, math.Float32bits, 0x7f80_0000)
	case []float64:
		return firstAllSet(s, math.Float64bits, 0x7ff0_0000_0000_0000)
	case []float16.Float16:
		return firstAllSet(s, float16.Float16.Bits, 0x7c00)
	case []bfloat16.BFloat16:
		return firstAllSet(s, bfloat16.BFloat16.Bits, 0x7f80)
	}
	return -1
}

func firstAllSet[T any, U uint16 | uint32 | uint64](s []T, bitsOf func(T) U, mask U) int {
	for i, x := range s {
		if bitsOf(x)&mask == mask {
			return i
		}
	}
	return -1
}

// restore reads the variables at dataStart, verifying them, and only when all are good sets
// them into store. Shapes are checked against the store before any data is read.
func restore(r io.ReaderAt, dataStart int64, vars []varEntry, withSum bool, file string, store *model.Store) error {
	for _, e := range vars {
		if v := store.GetVariable(e.Path); v != nil && !v.Shape().Equal(shapeOf(e)) {
			return fmt.Errorf("checkpoint %s: variable %s has shape %s, the store has %s (different model config?)",
				file, e.Path, shapeOf(e), v.Shape())
		}
	}
	values := make([]*tensors.Tensor, len(vars))
	for i, e := range vars {
		t, err := readVar(r, dataStart, e, withSum)
		if err != nil {
			return fmt.Errorf("checkpoint %s: variable %s: %w", file, e.Path, err)
		}
		values[i] = t
	}
	for i, e := range vars {
		if err := set(store, e, values[i]); err != nil {
			return fmt.Errorf("checkpoint %s: variable %s: %w", file, e.Path, err)
		}
	}
	return nil
}

func shapeOf(e varEntry) shapes.Shape {
	return shapes.Make(e.DType, e.Dims...)
}

// readVar reads one variable (already checked by checkVars), verifying its checksum (withSum)
// and refusing non-finite values.
func readVar(r io.ReaderAt, dataStart int64, e varEntry, withSum bool) (*tensors.Tensor, error) {
	t := tensors.FromShape(shapeOf(e))
	var bad error
	err := t.MutableFlatData(func(flat any) {
		b := dtypes.UnsafeByteSliceFromAny(flat)
		if bad = readFull(r, b, dataStart+e.Offset); bad != nil {
			return
		}
		if withSum && hexSum(b) != e.SHA256 {
			bad = errors.New("checksum mismatch (corrupt data)")
			return
		}
		bad = checkFinite(flat)
	})
	if err == nil {
		err = bad
	}
	return t, err
}

// set gives an existing variable its value, or creates it with the saved Trainable.
func set(store *model.Store, e varEntry, t *tensors.Tensor) error {
	if v := store.GetVariable(e.Path); v != nil {
		return v.SetValue(t)
	}
	v, err := store.CreateVariable(e.Path, t)
	if err != nil {
		return err
	}
	v.SetTrainable(e.Trainable)
	return nil
}

// hexSum is the SHA-256 of b in lower-case hex, as the header holds it.
func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
