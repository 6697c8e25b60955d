// Package checkpoint saves and loads a GoMLX model.Store with its metadata in one file,
// checkpoint format v2:
//
//	"VGGKIT-CHECKPOINT-2\n"                       magic, 20 bytes
//	uint64, little endian                         length N of the JSON header
//	{"meta": <meta>, "vars": [{path, dtype, dims, trainable, offset, length, sha256}]}   N bytes
//	SHA-256 of the N header bytes                 32 bytes
//	the variables' raw bytes, one after the other in the order of "vars"
//
// Offsets count from the start of the raw data; sha256 is the hex SHA-256 of a variable's bytes.
// Every read verifies both checksums and decodes the JSON strictly (an unknown or renamed
// field is an error), and no float variable may hold NaN or Inf, neither when saved nor when
// loaded. Format v1 (the same layout without checksums, the metadata fields inline in the
// header) is read by [ReadV1].
//
// Save is not safe against a concurrent Save to the same directory: the process that saves
// should hold [Lock] on it, which also removes the temporary files of saves that were killed.
package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/ml/model"
)

// File is the name of the checkpoint file inside a checkpoint directory.
const File = "checkpoint.vggkit"

// Save writes meta (JSON-encoded as a whole) and every variable of store to dir/File (creating
// dir), through a temporary file in dir, fsync, rename and fsync of dir: a crash leaves either the
// previous checkpoint or the new one. A float variable holding NaN or Inf is refused, before
// anything is written, with an error naming the variable and the first bad index.
func Save(dir string, meta any, store *model.Store) error {
	file := filepath.Join(dir, File)
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("checkpoint %s: encoding the metadata: %w", file, err)
	}
	values, entries, err := snapshot(store)
	if err != nil {
		return fmt.Errorf("checkpoint %s: not saved: %w", file, err)
	}
	hdr, err := json.Marshal(header{Meta: metaJSON, Vars: entries})
	if err != nil {
		return fmt.Errorf("checkpoint %s: encoding the header: %w", file, err)
	}
	if err := writeAtomic(dir, hdr, values); err != nil {
		return fmt.Errorf("checkpoint %s: %w", file, err)
	}
	return nil
}

// ReadMeta reads only the header of a checkpoint (a directory holding File, or the file itself),
// verifies its checksum and decodes the metadata into meta strictly: a field meta does not have
// is an error naming it. A nil meta only checks the header.
func ReadMeta(path string, meta any) error {
	f, size, file, err := open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return readMeta(f, size, file, meta)
}

func readMeta(r io.ReaderAt, size int64, file string, meta any) error {
	h, _, err := readHeader(r, size, file)
	if err != nil {
		return err
	}
	return decodeMeta(h.Meta, meta, file)
}

// Load reads a checkpoint (a directory holding File, or the file itself): it verifies the
// header's and every variable's checksum, refuses NaN and Inf, decodes the metadata strictly
// into meta (nil skips it) and restores every variable into store. A variable the store already
// has must have the checkpoint's shape and gets its value; a missing one is created with the
// saved Trainable. On error the store is unchanged (meta may be filled).
func Load(path string, meta any, store *model.Store) error {
	f, size, file, err := open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return load(f, size, file, meta, store)
}

func load(r io.ReaderAt, size int64, file string, meta any, store *model.Store) error {
	h, dataStart, err := readHeader(r, size, file)
	if err != nil {
		return err
	}
	if err := decodeMeta(h.Meta, meta, file); err != nil {
		return err
	}
	return restore(r, dataStart, h.Vars, true, file, store)
}

// Exists tells whether path is a checkpoint file or a directory holding File.
// It does not read the file: Version does.
func Exists(path string) bool {
	st, err := os.Stat(resolve(path))
	return err == nil && st.Mode().IsRegular()
}

// Version returns the format version of a checkpoint (1 or 2), or an error when path is not one.
func Version(path string) (int, error) {
	f, _, file, err := open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return readMagic(f, file)
}

// resolve maps a checkpoint directory to its File; any other path is returned as is.
func resolve(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return filepath.Join(path, File)
	}
	return path
}

// open opens a checkpoint file, returning it with its size and name.
func open(path string) (*os.File, int64, string, error) {
	file := resolve(path)
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, file, fmt.Errorf("checkpoint: %w", err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err != nil {
		f.Close()
		return nil, 0, file, fmt.Errorf("checkpoint %s: %w", file, err)
	}
	return f, st.Size(), file, nil
}

// decodeMeta decodes the metadata strictly into meta; a nil meta skips it.
func decodeMeta(raw json.RawMessage, meta any, file string) error {
	if meta == nil {
		return nil
	}
	if err := decodeStrict(raw, meta); err != nil {
		return fmt.Errorf("checkpoint %s: metadata: %w", file, err)
	}
	return nil
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}
