package checkpoint

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/core/tensors"
)

// tmpPattern names the temporary files of Save; Lock removes those left by killed saves.
const tmpPattern = ".checkpoint-*.tmp"

// writeAtomic writes the file through a temporary file in dir, fsync, rename and fsync of dir.
func writeAtomic(dir string, hdr []byte, values []*tensors.Tensor) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, tmpPattern)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = writeContents(tmp, hdr, values); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), filepath.Join(dir, File)); err != nil {
		return err
	}
	return syncDir(dir)
}

// writeContents writes magic, header length, header, header checksum and the variables' bytes.
func writeContents(f *os.File, hdr []byte, values []*tensors.Tensor) error {
	w := bufio.NewWriterSize(f, 1<<20)
	sum := sha256.Sum256(hdr)
	w.WriteString(magicV2)
	w.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(hdr))))
	w.Write(hdr)
	w.Write(sum[:])
	for _, t := range values {
		var werr error
		if err := t.ConstBytes(func(b []byte) { _, werr = w.Write(b) }); err != nil {
			return err
		}
		if werr != nil {
			return werr
		}
	}
	return w.Flush()
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
