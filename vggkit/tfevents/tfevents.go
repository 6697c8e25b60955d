// Package tfevents writes scalar summaries in TensorBoard's event-file format, so that
// `tensorboard --logdir` shows a run's curves. An event file is a TFRecord stream of
// tensorflow.Event protos; the two messages needed are encoded here by hand with
// protowire (no Go module served here writes them without pulling in TensorFlow's protos).
package tfevents

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Writer appends events to one file named as TensorBoard expects
// (events.out.tfevents.<seconds>.<host>...). Each process writes its own file; TensorBoard
// merges the files of a folder into one run.
type Writer struct {
	f    *os.File
	w    *bufio.Writer
	Path string
}

// Create starts a new event file in dir (made if missing) with the file-version event.
func Create(dir string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	now := time.Now()
	path := filepath.Join(dir, fmt.Sprintf("events.out.tfevents.%d.%s.%d.vggkit", now.Unix(), host, os.Getpid()))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	w := &Writer{f: f, w: bufio.NewWriter(f), Path: path}
	ev := protowire.AppendTag(nil, 1, protowire.Fixed64Type)
	ev = protowire.AppendFixed64(ev, math.Float64bits(seconds(now)))
	ev = protowire.AppendTag(ev, 3, protowire.BytesType) // file_version
	ev = protowire.AppendString(ev, "brain.Event:2")
	return w, w.record(ev)
}

// Scalar writes one value for tag at step, stamped now.
func (w *Writer) Scalar(tag string, step int64, value float64) error {
	return w.ScalarAt(tag, step, value, time.Now())
}

// ScalarAt writes one value for tag at step with the given wall time: an Event
// {wall_time 1, step 2, summary 5 {value 1 {tag 1, simple_value 2 (float32)}}}.
func (w *Writer) ScalarAt(tag string, step int64, value float64, at time.Time) error {
	var val []byte
	val = protowire.AppendTag(val, 1, protowire.BytesType)
	val = protowire.AppendString(val, tag)
	val = protowire.AppendTag(val, 2, protowire.Fixed32Type)
	val = protowire.AppendFixed32(val, math.Float32bits(float32(value)))
	summary := protowire.AppendTag(nil, 1, protowire.BytesType)
	summary = protowire.AppendBytes(summary, val)

	ev := protowire.AppendTag(nil, 1, protowire.Fixed64Type)
	ev = protowire.AppendFixed64(ev, math.Float64bits(seconds(at)))
	ev = protowire.AppendTag(ev, 2, protowire.VarintType)
	ev = protowire.AppendVarint(ev, uint64(step))
	ev = protowire.AppendTag(ev, 5, protowire.BytesType)
	ev = protowire.AppendBytes(ev, summary)
	return w.record(ev)
}

// record frames data as TFRecord: length (uint64 LE), its masked CRC-32C, data, the
// data's masked CRC-32C.
func (w *Writer) record(data []byte) error {
	var head [12]byte
	binary.LittleEndian.PutUint64(head[:8], uint64(len(data)))
	binary.LittleEndian.PutUint32(head[8:], MaskedCRC(head[:8]))
	var tail [4]byte
	binary.LittleEndian.PutUint32(tail[:], MaskedCRC(data))
	for _, b := range [][]byte{head[:], data, tail[:]} {
		if _, err := w.w.Write(b); err != nil {
			return fmt.Errorf("%s: %w", w.Path, err)
		}
	}
	return nil
}

// Flush makes what was written visible to TensorBoard.
func (w *Writer) Flush() error { return w.w.Flush() }

// Close flushes and closes the file.
func (w *Writer) Close() error {
	err := w.w.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MaskedCRC is TFRecord's checksum: CRC-32C rotated right by 15 bits plus 0xa282ead8
// (masked so that a CRC of data holding CRCs stays well mixed).
func MaskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
