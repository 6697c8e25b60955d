package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"

	"github.com/gomlx/compute/dtypes"
)

const (
	magicV1 = "VGGKIT-CHECKPOINT-1\n"
	magicV2 = "VGGKIT-CHECKPOINT-2\n"
	// prefixLen is the magic plus the uint64 header length, the same in v1 and v2.
	prefixLen = int64(len(magicV2)) + 8
	sumLen    = sha256.Size
)

// header is the JSON header of a v2 file.
type header struct {
	Meta json.RawMessage `json:"meta"`
	Vars []varEntry      `json:"vars"`
}

// varEntry describes one variable; Offset counts from the start of the raw data.
// SHA256 (hex) is empty in v1 files only.
type varEntry struct {
	Path      string       `json:"path"`
	DType     dtypes.DType `json:"dtype"`
	Dims      []int        `json:"dims"`
	Trainable bool         `json:"trainable"`
	Offset    int64        `json:"offset"`
	Length    int64        `json:"length"`
	SHA256    string       `json:"sha256,omitempty"`
}

// readMagic returns the format version the file starts with.
func readMagic(r io.ReaderAt, file string) (int, error) {
	magic := make([]byte, len(magicV2))
	if err := readFull(r, magic, 0); err != nil {
		return 0, fmt.Errorf("checkpoint %s: not a vggkit checkpoint (too short)", file)
	}
	switch string(magic) {
	case magicV1:
		return 1, nil
	case magicV2:
		return 2, nil
	}
	return 0, fmt.Errorf("checkpoint %s: not a vggkit checkpoint (bad magic %q)", file, magic)
}

// readHeaderBytes reads the header length and the header bytes that follow it, plus extra
// bytes (the v2 checksum); the length is checked against the file size before allocating.
func readHeaderBytes(r io.ReaderAt, size int64, file string, extra int64) ([]byte, error) {
	var n [8]byte
	if err := readFull(r, n[:], prefixLen-8); err != nil {
		return nil, fmt.Errorf("checkpoint %s: truncated before the header length", file)
	}
	length := binary.LittleEndian.Uint64(n[:])
	if avail := size - prefixLen - extra; length == 0 || avail < 0 || length > uint64(avail) {
		return nil, fmt.Errorf("checkpoint %s: header length %d does not fit in the file's %d bytes (truncated or corrupt)",
			file, length, size)
	}
	buf := make([]byte, int64(length)+extra)
	if err := readFull(r, buf, prefixLen); err != nil {
		return nil, fmt.Errorf("checkpoint %s: reading the header: %w", file, err)
	}
	return buf, nil
}

// readHeader reads, verifies and decodes a v2 header; it returns where the raw data starts.
func readHeader(r io.ReaderAt, size int64, file string) (*header, int64, error) {
	version, err := readMagic(r, file)
	if err != nil {
		return nil, 0, err
	}
	if version != 2 {
		return nil, 0, fmt.Errorf("checkpoint %s: format v%d: read it with ReadV1", file, version)
	}
	buf, err := readHeaderBytes(r, size, file, sumLen)
	if err != nil {
		return nil, 0, err
	}
	hdr, sum := buf[:len(buf)-sumLen], buf[len(buf)-sumLen:]
	if got := sha256.Sum256(hdr); !bytes.Equal(got[:], sum) {
		return nil, 0, fmt.Errorf("checkpoint %s: header checksum mismatch (corrupt header)", file)
	}
	h := &header{}
	if err := decodeStrict(hdr, h); err != nil {
		return nil, 0, fmt.Errorf("checkpoint %s: header: %w", file, err)
	}
	if h.Meta == nil {
		return nil, 0, fmt.Errorf("checkpoint %s: header has no \"meta\"", file)
	}
	dataStart := prefixLen + int64(len(buf))
	if err := checkVars(h.Vars, size-dataStart, true, file); err != nil {
		return nil, 0, err
	}
	return h, dataStart, nil
}

// checkVars checks the variables' layout against the dataLen bytes of raw data: unique paths,
// supported dtypes, lengths that match the shapes, and data one after the other filling it.
func checkVars(vars []varEntry, dataLen int64, withSum bool, file string) error {
	seen := make(map[string]bool, len(vars))
	var offset int64
	for _, v := range vars {
		if seen[v.Path] {
			return fmt.Errorf("checkpoint %s: variable %q appears twice", file, v.Path)
		}
		seen[v.Path] = true
		if err := checkVar(v, offset, dataLen, withSum); err != nil {
			return fmt.Errorf("checkpoint %s: variable %q: %w", file, v.Path, err)
		}
		offset += v.Length
	}
	if offset != dataLen {
		return fmt.Errorf("checkpoint %s: the header describes %d bytes of data, the file has %d (truncated or corrupt)",
			file, offset, dataLen)
	}
	return nil
}

// checkVar checks one variable that should start at offset of dataLen bytes of raw data.
func checkVar(v varEntry, offset, dataLen int64, withSum bool) error {
	switch {
	case len(v.Path) < 2 || !strings.HasPrefix(v.Path, "/"):
		return errors.New("bad path")
	case !supported(v.DType):
		return fmt.Errorf("unsupported dtype %s", v.DType)
	case v.Offset != offset:
		return fmt.Errorf("offset %d, expected %d", v.Offset, offset)
	case v.Length < 0 || v.Length > dataLen-offset:
		return fmt.Errorf("length %d beyond the end of the file", v.Length)
	case withSum && len(v.SHA256) != 2*sha256.Size:
		return fmt.Errorf("sha256 %q is not 64 hex digits", v.SHA256)
	}
	if n, ok := byteSize(v.DType, v.Dims); !ok || n != v.Length {
		return fmt.Errorf("length %d does not match dtype %s dims %v", v.Length, v.DType, v.Dims)
	}
	return nil
}

// byteSize returns the bytes of a dtype (not packed) with the given dimensions; ok is false for
// a negative dimension or an overflow.
func byteSize(dtype dtypes.DType, dims []int) (n int64, ok bool) {
	size := uint64(dtype.Size())
	for _, d := range dims {
		hi, lo := bits.Mul64(size, uint64(d))
		if d < 0 || hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		size = lo
	}
	return int64(size), true
}

// supported tells whether a dtype can be saved: every dtype stored one or more whole bytes per
// value (the packed sub-byte and 8-bit float types are not).
func supported(dtype dtypes.DType) bool {
	switch dtype {
	case dtypes.Bool, dtypes.Int8, dtypes.Int16, dtypes.Int32, dtypes.Int64,
		dtypes.Uint8, dtypes.Uint16, dtypes.Uint32, dtypes.Uint64,
		dtypes.Float16, dtypes.BFloat16, dtypes.Float32, dtypes.Float64,
		dtypes.Complex64, dtypes.Complex128:
		return true
	}
	return false
}

// readFull reads len(buf) bytes at off; a short read is an error.
func readFull(r io.ReaderAt, buf []byte, off int64) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
