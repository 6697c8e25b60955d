package weights

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/nlpodyssey/gopickle/pytorch"
)

// maxHeader bounds a safetensors JSON header (the reference implementation's limit is
// 100 MB): a corrupt length must not make us allocate gigabytes.
const maxHeader = 100 << 20

type stEntry struct {
	DType   string  `json:"dtype"`
	Shape   []int   `json:"shape"`
	Offsets []int64 `json:"data_offsets"`
}

var stSizes = map[string]int64{"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8}

// readSafetensors reads a safetensors file: an 8-byte little-endian header length, a
// JSON header naming each tensor's dtype, shape and byte range, then the raw bytes.
// Everything is checked against the file's size before anything is read.
func readSafetensors(path string) (map[string]raw, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	entries, start, err := stHeader(f, st.Size())
	if err != nil {
		return nil, err
	}
	rs := map[string]raw{}
	for _, name := range sortedNames(entries) {
		r, err := stTensor(f, entries[name], start, st.Size()-start)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", name, err)
		}
		rs[name] = r
	}
	return rs, nil
}

func stHeader(f io.ReaderAt, size int64) (map[string]stEntry, int64, error) {
	var lenBuf [8]byte
	if _, err := f.ReadAt(lenBuf[:], 0); err != nil {
		return nil, 0, fmt.Errorf("header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > maxHeader || int64(n) > size-8 {
		return nil, 0, fmt.Errorf("header of %d bytes in a file of %d: truncated or not safetensors", n, size)
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, 8); err != nil {
		return nil, 0, fmt.Errorf("header: %w", err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(buf, &all); err != nil {
		return nil, 0, fmt.Errorf("header JSON: %w", err)
	}
	entries := map[string]stEntry{}
	for name, msg := range all {
		if name == "__metadata__" {
			continue
		}
		var e stEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, 0, fmt.Errorf("tensor %s: header entry: %w", name, err)
		}
		entries[name] = e
	}
	return entries, 8 + int64(n), nil
}

// stTensor reads one tensor after checking its dtype, shape and byte range.
func stTensor(f io.ReaderAt, e stEntry, start, dataLen int64) (raw, error) {
	el, ok := stSizes[e.DType]
	if !ok {
		return raw{}, fmt.Errorf("dtype %q: want F32, F16, BF16, F64 (or I64 counters)", e.DType)
	}
	n := int64(1)
	for _, d := range e.Shape {
		if d < 0 || (d > 0 && n > math.MaxInt32/int64(d)) {
			return raw{}, fmt.Errorf("shape %v: negative or too large", e.Shape)
		}
		n *= int64(d)
	}
	if len(e.Offsets) != 2 || e.Offsets[0] < 0 || e.Offsets[1] < e.Offsets[0] || e.Offsets[1] > dataLen {
		return raw{}, fmt.Errorf("data_offsets %v outside the %d data bytes", e.Offsets, dataLen)
	}
	if got := e.Offsets[1] - e.Offsets[0]; got != n*el {
		return raw{}, fmt.Errorf("%s shape %v needs %d bytes, data_offsets %v give %d", e.DType, e.Shape, n*el, e.Offsets, got)
	}
	b := make([]byte, n*el)
	if _, err := f.ReadAt(b, start+e.Offsets[0]); err != nil {
		return raw{}, fmt.Errorf("data: %w", err)
	}
	return decode(e.DType, b, append([]int{}, e.Shape...)), nil
}

func decode(dtype string, b []byte, dims []int) raw {
	r := raw{dims: dims}
	le := binary.LittleEndian
	switch dtype {
	case "I64":
		r.i64 = make([]int64, len(b)/8)
		for i := range r.i64 {
			r.i64[i] = int64(le.Uint64(b[8*i:]))
		}
		return r
	case "F64":
		r.f32 = make([]float32, len(b)/8)
		for i := range r.f32 {
			r.f32[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		}
		return r
	case "F32":
		r.f32 = make([]float32, len(b)/4)
		for i := range r.f32 {
			r.f32[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
		return r
	}
	r.f32 = make([]float32, len(b)/2)
	for i := range r.f32 {
		u := le.Uint16(b[2*i:])
		if dtype == "BF16" {
			r.f32[i] = math.Float32frombits(uint32(u) << 16)
		} else {
			r.f32[i] = math.Float32frombits(pytorch.FloatBits16to32(u))
		}
	}
	return r
}
