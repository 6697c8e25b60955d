package weights

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/nlpodyssey/gopickle/pytorch"
)

// storageSpan is a storage's element count and element size in bytes.
type storageSpan struct{ count, elem int }

// checkLegacyEnd checks that a legacy (pre-1.6) .pth file holds all of its storages'
// bytes. Such a file ends with the storages, each an 8-byte element count and its data;
// gopickle v0.3.0 reads them with unchecked Reads, so a file cut inside the last storage
// loads without error (upstream: use io.ReadFull in LimitedBufferReader.ReadNext and
// setFromFile). The storages must fill the file's end exactly, each count matching one of
// storages. It runs twice: on the storages the pickle declares, before gopickle allocates
// them (checkDeclaredStorages), and on those the loaded tensors use.
func checkLegacyEnd(f *os.File, storages []storageSpan) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	byCount := map[int][]storageSpan{}
	var total int64
	for _, s := range storages {
		if s.count < 0 || int64(s.count) > st.Size() {
			return fmt.Errorf("a storage declares %d elements: the file has %d bytes: a corrupt file", s.count, st.Size())
		}
		byCount[s.count] = append(byCount[s.count], s)
		total += 8 + int64(s.count)*int64(s.elem)
	}
	pos := st.Size() - total
	buf := make([]byte, 8)
	for range storages {
		if pos < 0 {
			return fmt.Errorf("truncated: %d bytes, its tensors need %d", st.Size(), total)
		}
		if _, err := f.ReadAt(buf, pos); err != nil && err != io.EOF {
			return err
		}
		n := int(binary.LittleEndian.Uint64(buf))
		s := byCount[n]
		if len(s) == 0 {
			return fmt.Errorf("truncated or damaged: %d bytes, its storages do not end the file", st.Size())
		}
		byCount[n] = s[1:]
		pos += 8 + int64(n)*int64(s[0].elem)
	}
	return nil
}

// checkTensorsEnd is checkLegacyEnd on the storages the tensors use, each once.
func checkTensorsEnd(path string, tensors []*pytorch.Tensor) error {
	seen := map[pytorch.StorageInterface]bool{}
	var storages []storageSpan
	for _, t := range tensors {
		if seen[t.Source] {
			continue
		}
		seen[t.Source] = true
		count, elem, ok := storageSize(t.Source)
		if !ok {
			return fmt.Errorf("storage %T: unknown element size", t.Source)
		}
		storages = append(storages, storageSpan{count, elem})
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return checkLegacyEnd(f, storages)
}

// storageSize is a storage's element count and element size in bytes.
func storageSize(s pytorch.StorageInterface) (count, elem int, ok bool) {
	switch s := s.(type) {
	case *pytorch.FloatStorage:
		return s.Size, 4, true
	case *pytorch.DoubleStorage:
		return s.Size, 8, true
	case *pytorch.HalfStorage:
		return s.Size, 2, true
	case *pytorch.BFloat16Storage:
		return s.Size, 2, true
	case *pytorch.LongStorage:
		return s.Size, 8, true
	case *pytorch.IntStorage:
		return s.Size, 4, true
	case *pytorch.ShortStorage:
		return s.Size, 2, true
	case *pytorch.CharStorage:
		return s.Size, 1, true
	case *pytorch.ByteStorage:
		return s.Size, 1, true
	case *pytorch.BoolStorage:
		return s.Size, 1, true
	}
	return 0, 0, false
}
