package data

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// allocated runs f and returns the bytes it allocated (all goroutines).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
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

// FuzzSTL10 writes arbitrary image, label and fold files and reads them as the
// train split, all of it and fold 0.
func FuzzSTL10(f *testing.F) {
	img := make([]byte, 2*stl10ImageBytes)
	for i := range img {
		img[i] = byte(i)
	}
	f.Add(img, []byte{1, 10}, "0 1\n"+"1\n1\n0\n0\n0\n0\n0\n0\n0\n")
	f.Add(img[:stl10ImageBytes+5], []byte{1, 10}, "0\n")
	f.Add(img, []byte{0, 11}, "")
	f.Add(img, []byte{3}, "9 9\n")
	f.Add(img, []byte{3, 4}, "0 2\n"+"1\n1\n0\n0\n0\n0\n0\n0\nx\n")
	f.Add([]byte{}, []byte{}, "\n\n\n\n\n\n\n\n\n\n")
	names := []byte("airplane\nbird\ncar\ncat\ndeer\ndog\nhorse\nmonkey\nship\ntruck\n")
	f.Fuzz(func(t *testing.T, images, labels []byte, folds string) {
		dir := t.TempDir()
		for name, b := range map[string][]byte{"train_X.bin": images, "train_y.bin": labels, "test_X.bin": nil, "test_y.bin": nil,
			"class_names.txt": names, "fold_indices.txt": []byte(folds)} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		old := stl10Counts
		stl10Counts = map[string]int{"train": max(1, len(images)/stl10ImageBytes), "test": 0, "unlabeled": 0}
		defer func() { stl10Counts = old }()
		for _, fold := range []int{-1, 0} {
			var s *Set
			var err error
			got := allocated(func() { s, err = LoadSTL10(dir, "train", fold) })
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
