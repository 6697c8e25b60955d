package weights

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
)

// Formats Read recognises.
const (
	FormatPthZip      = "pth (zip)"    // torch.save since PyTorch 1.6.
	FormatPthLegacy   = "pth (legacy)" // torch.save before 1.6, and torchvision's own hub files.
	FormatSafetensors = "safetensors"
)

// raw is a tensor as read, row-major in PyTorch's layout: floating point as float32,
// integers (num_batches_tracked) as int64.
type raw struct {
	dims []int
	f32  []float32
	i64  []int64
}

func (r raw) size() int {
	n := 1
	for _, d := range r.dims {
		n *= d
	}
	return n
}

// Read reads a state dict: a torchvision .pth file (zip or legacy format) or a
// safetensors file, told apart by content. The tensors keep their names and PyTorch's
// layout (conv weights [Cout,Cin,kH,kW], Linear [out,in]); floating point comes as
// float32, integers as int64.
func Read(path string) (map[string]*tensors.Tensor, string, error) {
	rs, format, err := readRaw(path)
	if err != nil {
		return nil, "", err
	}
	out := make(map[string]*tensors.Tensor, len(rs))
	for name, r := range rs {
		if r.i64 != nil {
			out[name] = tensors.FromFlatDataAndDimensions(r.i64, r.dims...)
		} else {
			out[name] = tensors.FromFlatDataAndDimensions(r.f32, r.dims...)
		}
	}
	return out, format, nil
}

func readRaw(path string) (map[string]raw, string, error) {
	format, err := sniff(path)
	if err != nil {
		return nil, "", err
	}
	var rs map[string]raw
	if format == FormatSafetensors {
		rs, err = readSafetensors(path)
	} else {
		rs, err = readPth(path, format == FormatPthLegacy)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s (%s): %w", path, format, err)
	}
	if len(rs) == 0 {
		return nil, "", fmt.Errorf("%s (%s): holds no tensors", path, format)
	}
	return rs, format, nil
}

// sniff tells the format from the first bytes: a zip's "PK\x03\x04", a pickle's
// protocol opcode (0x80), or safetensors' 8-byte header length followed by '{'.
func sniff(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 9)
	n, err := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return FormatPthZip, nil
	case n >= 2 && head[0] == 0x80:
		return FormatPthLegacy, nil
	case n == 9 && head[8] == '{':
		return FormatSafetensors, nil
	case err != nil && n < 9:
		return "", fmt.Errorf("%s: %d bytes: too short for a .pth or safetensors file", path, n)
	}
	ext := strings.ToLower(filepath.Ext(path))
	return "", fmt.Errorf("%s (%s): neither a PyTorch .pth (zip or legacy pickle) nor a safetensors file (first bytes % x)", path, ext, head)
}

// sortedNames is for messages and deterministic order.
func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
