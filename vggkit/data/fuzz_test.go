package data

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime/metrics"
	"testing"

	"github.com/vggkit/vggkit/vggkit/config"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// allocated runs f and returns the bytes it allocated (all goroutines), read from
// runtime/metrics: the same count as MemStats.TotalAlloc without stopping the world
// twice per call, which cost the fuzz targets most of their time.
func allocated(f func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	f()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// checkAlloc fails when a parse allocated far more than its input suggests:
// perByte bytes per input byte, plus 1 MB for buffers and bookkeeping.
func checkAlloc(t *testing.T, got uint64, inputLen int, perByte uint64) {
	t.Helper()
	if limit := 1<<20 + perByte*uint64(inputLen); got > limit {
		t.Fatalf("allocated %d bytes for %d input bytes (limit %d)", got, inputLen, limit)
	}
}

// FuzzIDX parses arbitrary image and label files, raw or gzipped. It must
// never panic, never allocate more than the data can hold (a raw file: its
// size; gzip: what DEFLATE can expand to, read in growing steps), and any
// success must make a valid set.
func FuzzIDX(f *testing.F) {
	px := make([]byte, 3*4*5)
	for i := range px {
		px[i] = byte(i * 7)
	}
	images := idxBytes(idxImagesMagic, []uint32{3, 4, 5}, px)
	labels := idxBytes(idxLabelsMagic, []uint32{3}, []byte{0, 9, 4})
	f.Add(images, labels)
	f.Add(gzipBytes(f, images), gzipBytes(f, labels))
	f.Add(images[:20], labels)                                                                     // truncated
	f.Add(idxBytes(idxImagesMagic, []uint32{4_000_000_000, 28, 28}, px), labels)                   // huge header
	f.Add(gzipBytes(f, idxBytes(idxImagesMagic, []uint32{1 << 31, 1 << 16, 1 << 16}, px)), labels) // huge gzip
	f.Add(idxBytes(idxLabelsMagic, []uint32{3}, px[:3]), images)                                   // swapped magic
	f.Add(images, idxBytes(idxLabelsMagic, []uint32{3}, []byte{0, 10, 4}))                         // label out of range
	f.Add(append(images, 1), labels)                                                               // extra byte
	f.Add(gzipBytes(f, images)[:30], labels)                                                       // cut gzip
	f.Add(idxBytes(idxImagesMagic, []uint32{3, 0, 5}, nil), labels)                                // zero side
	f.Fuzz(func(t *testing.T, imgFile, labFile []byte) {
		var set *Set
		var err error
		got := allocated(func() {
			dims, pixels, ierr := parseIDX("images", bytes.NewReader(imgFile), int64(len(imgFile)), idxImagesMagic)
			ldims, raw, lerr := parseIDX("labels", bytes.NewReader(labFile), int64(len(labFile)), idxLabelsMagic)
			if err = ierr; err == nil {
				if err = lerr; err == nil {
					set, err = idxSet("fuzz", "images", "labels", dims, pixels, ldims, raw, idxKinds["mnist"].classes, 3)
				}
			}
		})
		// Raw data is at most the file; gzip at most maxGzipRatio times it, held
		// in a buffer that doubles (x2) and, as RGB, three times over (x3, +1 grey).
		perByte := uint64(8)
		if bytes.HasPrefix(imgFile, []byte{0x1f, 0x8b}) || bytes.HasPrefix(labFile, []byte{0x1f, 0x8b}) {
			perByte *= maxGzipRatio
		}
		checkAlloc(t, got, len(imgFile)+len(labFile), perByte)
		if err != nil {
			return
		}
		if err := set.Validate(); err != nil {
			t.Fatalf("parsed set is invalid: %v", err)
		}
		if len(imgFile) == 0 || (set.Len() > 0 && set.H*set.W == 0) {
			t.Fatalf("parsed %s from %d bytes", set.Describe(), len(imgFile))
		}
	})
}

// FuzzCIFAR reads arbitrary bytes as a CIFAR-10 or CIFAR-100 file of 2
// records: only an exact size and in-range labels may pass.
func FuzzCIFAR(f *testing.F) {
	rec10 := make([]byte, 2*3073)
	rec10[0], rec10[3073] = 3, 9
	rec100 := make([]byte, 2*3074)
	rec100[0], rec100[1], rec100[3074], rec100[3075] = 19, 99, 0, 42
	f.Add(rec10, false)
	f.Add(rec100, true)
	f.Add(rec10[:3000], false)
	f.Add(append(bytes.Clone(rec10), 0), false)
	f.Add(rec100[:3074], true)
	bad := bytes.Clone(rec10)
	bad[3073] = 10
	f.Add(bad, false)
	f.Fuzz(func(t *testing.T, file []byte, hundred bool) {
		labelBytes, labelAt, classes := 1, 0, 10
		if hundred {
			labelBytes, labelAt, classes = 2, 1, 100
		}
		const want = 2
		s := &Set{Name: "fuzz", H: 32, W: 32, C: 3, Pixels: make([]uint8, want*3072), Labels: make([]int32, want)}
		for i := range classes {
			s.Classes = append(s.Classes, fmt.Sprint(i))
		}
		var err error
		got := allocated(func() {
			err = readCIFARRecords("CIFAR", "fuzz.bin", bytes.NewReader(file), int64(len(file)), labelBytes, labelAt, classes, want, s.Pixels, s.Labels)
		})
		checkAlloc(t, got, len(file), 2)
		if err != nil {
			return
		}
		if len(file) != want*(labelBytes+3072) {
			t.Fatalf("accepted %d bytes for %d records", len(file), want)
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed set is invalid: %v", err)
		}
	})
}

// FuzzSTL10 reads arbitrary label and fold files, with an image file of a fuzzed size,
// as the train split, all of it and fold 0, through the parsers LoadSTL10 runs on the
// files (in memory: no file is written). The image bytes are zeros: the reader checks
// their count only (any byte is a pixel), so the fuzzer mutates the size (whole images
// and bytes over) rather than carrying 27 KB per image, which made it spend its time
// minimising inputs (16 inputs in 60 s).
func FuzzSTL10(f *testing.F) {
	f.Add(uint8(2), uint16(0), []byte{1, 10}, "0 1\n"+"1\n1\n0\n0\n0\n0\n0\n0\n0\n")
	f.Add(uint8(1), uint16(5), []byte{1, 10}, "0\n")
	f.Add(uint8(2), uint16(0), []byte{0, 11}, "")
	f.Add(uint8(2), uint16(0), []byte{3}, "9 9\n")
	f.Add(uint8(2), uint16(0), []byte{3, 4}, "0 2\n"+"1\n1\n0\n0\n0\n0\n0\n0\nx\n")
	f.Add(uint8(0), uint16(0), []byte{}, "\n\n\n\n\n\n\n\n\n\n")
	names := []byte("airplane\nbird\ncar\ncat\ndeer\ndog\nhorse\nmonkey\nship\ntruck\n")
	classes, err := parseSTL10Classes("class_names.txt", names)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, whole uint8, over uint16, labels []byte, folds string) {
		images := make([]byte, int(whole%3)*stl10ImageBytes+int(over)%stl10ImageBytes)
		want := max(1, len(images)/stl10ImageBytes)
		for _, fold := range []int{-1, 0} {
			var s *Set
			var err error
			got := allocated(func() {
				var pixels []uint8
				var n int
				var labs []int32
				var idx [][]int
				if pixels, n, err = parseSTL10Images("train_X.bin", bytes.NewReader(images), int64(len(images)), want); err != nil {
					return
				}
				if labs, err = parseSTL10Labels("train_y.bin", bytes.NewReader(labels), int64(len(labels)), "train_X.bin", n); err != nil {
					return
				}
				s = &Set{Name: "STL-10 train", Classes: classes, H: stl10Side, W: stl10Side, C: 3, Pixels: pixels, Labels: labs}
				if fold >= 0 {
					if idx, err = parseSTL10Folds("fold_indices.txt", []byte(folds), n); err != nil {
						return
					}
					s = s.Subset("fold", idx[fold])
				}
			})
			// The file, its transposition scratch, the labels as int32 and the fold's copy.
			checkAlloc(t, got, len(images)+len(labels)+len(folds), 16)
			if err != nil {
				continue
			}
			if err := s.Validate(); err != nil {
				t.Fatalf("fold %d: parsed set is invalid: %v", fold, err)
			}
		}
	})
}

// FuzzDecode decodes arbitrary bytes as an image (data.Decode: the decoder of image
// folders and vggkit predict), to 16x16 RGB or grey (by the input's length). It must
// never panic, never allocate beyond what the pixel limit allows (lowered here to 2^14
// pixels, so that each input stays cheap), refuse what the limit refuses, and give
// size x size x channels bytes on success.
func FuzzDecode(f *testing.F) {
	const limit = 1 << 14
	f.Setenv(config.EnvMaxPixels, fmt.Sprint(limit))
	src := image.NewNRGBA(image.Rect(0, 0, 9, 5))
	for i := range src.Pix {
		src.Pix[i] = byte(i * 37)
	}
	var b bytes.Buffer
	png.Encode(&b, src)
	f.Add(bytes.Clone(b.Bytes()))
	b.Reset()
	jpeg.Encode(&b, src, nil)
	f.Add(bytes.Clone(b.Bytes()))
	b.Reset()
	gif.Encode(&b, src, nil)
	f.Add(bytes.Clone(b.Bytes()))
	b.Reset()
	bmp.Encode(&b, src)
	f.Add(bytes.Clone(b.Bytes()))
	b.Reset()
	tiff.Encode(&b, src, &tiff.Options{Compression: tiff.Deflate})
	f.Add(bytes.Clone(b.Bytes()))
	f.Add(webp1x1)
	f.Add(pngHeader(30000, 30000)) // over the limit
	f.Add(pngHeader(128, 128))     // at the limit, its data missing
	f.Add([]byte("GIF89a\x00\x10\x00\x10"))
	f.Fuzz(func(t *testing.T, file []byte) {
		channels := 1 + 2*(len(file)%2)
		var pix []uint8
		var err error
		got := allocated(func() { pix, err = Decode(bytes.NewReader(file), 16, channels) })
		// The decoded image (at most 8 bytes a pixel: 16-bit RGBA), its RGB copy and the
		// decoders' buffers, over what the input and the limit allow; x/image/tiff reads
		// a directory entry or strip of more than 10 MB in 10 MB chunks, so a file that
		// claims one costs 10 MB before the read fails.
		if bound := uint64(1<<20 + 10<<20 + 64*len(file) + 40*limit); got > bound {
			t.Fatalf("channels %d: allocated %d bytes for %d input bytes (bound %d)", channels, got, len(file), bound)
		}
		if err != nil {
			return
		}
		if len(pix) != 16*16*channels {
			t.Fatalf("channels %d: %d bytes, want %d", channels, len(pix), 16*16*channels)
		}
		cfg, _, cerr := image.DecodeConfig(bytes.NewReader(file))
		if cerr != nil || int64(cfg.Width)*int64(cfg.Height) > limit {
			t.Fatalf("decoded an image whose header %+v (%v) is over the limit of %d pixels", cfg, cerr, limit)
		}
	})
}

// webp1x1 is a lossless 1x1 WebP (no encoder in Go's libraries to make one).
var webp1x1 = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")

// The seeds decode: the WebP written out by hand above is a valid one.
func TestFuzzDecodeSeedsDecode(t *testing.T) {
	if _, err := Decode(bytes.NewReader(webp1x1), 4, 3); err != nil {
		t.Fatal(err)
	}
}
