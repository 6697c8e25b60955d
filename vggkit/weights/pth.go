package weights

import (
	"fmt"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// readPth reads a torch.save'd state dict with gopickle (both the zip and the legacy
// format). A checkpoint that wraps the state dict ({"state_dict": ...} or
// {"model": ...}) is unwrapped.
func readPth(path string, legacy bool) (rs map[string]raw, err error) {
	defer func() {
		// gopickle may panic on malformed input; a bad file is an error, not a crash.
		if p := recover(); p != nil {
			rs, err = nil, fmt.Errorf("malformed file: %v", p)
		}
	}()
	if err := checkDeclaredStorages(path, legacy); err != nil {
		return nil, err
	}
	obj, err := pytorch.Load(path)
	if err != nil {
		return nil, fmt.Errorf("not a readable PyTorch file: %w", err)
	}
	entries, err := dictEntries(obj)
	if err != nil {
		return nil, err
	}
	for _, wrap := range []string{"state_dict", "model"} {
		if v, ok := entries[wrap]; ok {
			if inner, err := dictEntries(v); err == nil {
				entries = inner
			}
		}
	}
	rs = map[string]raw{}
	var all []*pytorch.Tensor
	for name, v := range entries {
		t, ok := v.(*pytorch.Tensor)
		if !ok {
			return nil, fmt.Errorf("entry %q is a %T, not a tensor: want a state dict", name, v)
		}
		all = append(all, t)
	}
	if legacy {
		if err := checkTensorsEnd(path, all); err != nil {
			return nil, err
		}
	}
	for name, v := range entries {
		t := v.(*pytorch.Tensor)
		r, err := fromTorch(t)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", name, err)
		}
		rs[name] = r
	}
	return rs, nil
}

// dictEntries returns a pickled dict's entries by string key.
func dictEntries(obj any) (map[string]any, error) {
	out := map[string]any{}
	add := func(k, v any) error {
		s, ok := k.(string)
		if !ok {
			return fmt.Errorf("dict key %v is a %T, not a string: want a state dict", k, k)
		}
		out[s] = v
		return nil
	}
	switch d := obj.(type) {
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			if err := add(entry.Key, entry.Value); err != nil {
				return nil, err
			}
		}
	case *types.Dict:
		for _, entry := range *d {
			if err := add(entry.Key, entry.Value); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("holds a %T, not a state dict", obj)
	}
	return out, nil
}

// fromTorch gathers a (possibly strided) tensor into row-major data, checking that
// every element lies inside its storage.
func fromTorch(t *pytorch.Tensor) (raw, error) {
	r := raw{dims: append([]int{}, t.Size...)}
	if len(t.Stride) != len(t.Size) {
		return raw{}, fmt.Errorf("%d strides for %d dimensions", len(t.Stride), len(t.Size))
	}
	switch s := t.Source.(type) {
	case *pytorch.FloatStorage:
		data, err := gather(s.Data, t)
		r.f32 = data
		return r, err
	case *pytorch.HalfStorage:
		data, err := gather(s.Data, t)
		r.f32 = data
		return r, err
	case *pytorch.BFloat16Storage:
		data, err := gather(s.Data, t)
		r.f32 = data
		return r, err
	case *pytorch.DoubleStorage:
		data, err := gather(s.Data, t)
		r.f32 = toF32(data)
		return r, err
	case *pytorch.LongStorage:
		data, err := gather(s.Data, t)
		r.i64 = data
		return r, err
	}
	return raw{}, fmt.Errorf("storage %T: want float32, float16, bfloat16, float64 (or int64 counters)", t.Source)
}

func gather[T any](src []T, t *pytorch.Tensor) ([]T, error) {
	n, last := 1, t.StorageOffset
	for i, d := range t.Size {
		if d < 0 || t.Stride[i] < 0 {
			return nil, fmt.Errorf("shape %v strides %v: negative", t.Size, t.Stride)
		}
		n *= d
		if d > 0 {
			last += (d - 1) * t.Stride[i]
		}
	}
	if n > 0 && (t.StorageOffset < 0 || last >= len(src)) {
		return nil, fmt.Errorf("shape %v strides %v offset %d reach element %d of a storage of %d", t.Size, t.Stride, t.StorageOffset, last, len(src))
	}
	if contiguous(t.Size, t.Stride) {
		return src[t.StorageOffset : t.StorageOffset+n : t.StorageOffset+n], nil
	}
	dst := make([]T, 0, n)
	idx := make([]int, len(t.Size))
	for range n {
		off := t.StorageOffset
		for i, k := range idx {
			off += k * t.Stride[i]
		}
		dst = append(dst, src[off])
		for i := len(idx) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < t.Size[i] {
				break
			}
			idx[i] = 0
		}
	}
	return dst, nil
}

func contiguous(size, stride []int) bool {
	want := 1
	for i := len(size) - 1; i >= 0; i-- {
		if size[i] != 1 && stride[i] != want {
			return false
		}
		want *= size[i]
	}
	return true
}

func toF32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
