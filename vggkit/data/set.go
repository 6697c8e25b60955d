// Package data holds image classification datasets as uint8 pixels on the host
// (STL-10, CIFAR, the MNIST family, image folders, the embedded Shapes10 set): their
// readers, their downloads (which files, from where, how they are laid out), and the
// one image decoder (ReadImage) that training and serving share. Feeding a set to a
// model in batches is the loader's job (vggkit/loader).
//
// Images stay uint8 in HWC order until they are inside the compiled graph: the
// STL-10 train split is 138 MB as uint8 and would be 3 GB as float32 at 224 px.
//
// Files are checked before they cost memory or time (open.go): a path that is not a
// regular file is refused before it is opened, sizes are checked against the file
// before allocating, and an image declaring more pixels than config's
// VGGKIT_MAX_IMAGE_PIXELS (50 million) is refused from its header. The parsers work
// on io.Readers and bytes, which the fuzz targets (fuzz_test.go) feed directly.
package data

import (
	"fmt"
	"slices"
	"strings"
)

// Set is one split of a dataset: N images of H x W x C uint8 pixels (row-major HWC,
// channels RGB) with a label in [0, len(Classes)) each, or -1 where the split is unlabeled.
type Set struct {
	Name    string   // e.g. "STL-10 train" or "Shapes10 (embedded) test".
	Classes []string // class names, index = label.
	H, W, C int
	Pixels  []uint8 // N*H*W*C bytes.
	Labels  []int32 // N labels.
}

// Len is the number of images.
func (s *Set) Len() int { return len(s.Labels) }

// ImageBytes is the size of one image in bytes.
func (s *Set) ImageBytes() int { return s.H * s.W * s.C }

// Image returns image i's pixels (HWC); the slice aliases the set's storage.
func (s *Set) Image(i int) []uint8 {
	n := s.ImageBytes()
	return s.Pixels[i*n : (i+1)*n]
}

// Validate checks that sizes and labels are consistent.
func (s *Set) Validate() error {
	if s.H <= 0 || s.W <= 0 || s.C <= 0 {
		return fmt.Errorf("dataset %q: bad image size %dx%dx%d", s.Name, s.H, s.W, s.C)
	}
	if len(s.Pixels) != s.Len()*s.ImageBytes() {
		return fmt.Errorf("dataset %q: %d pixel bytes for %d images of %d bytes", s.Name, len(s.Pixels), s.Len(), s.ImageBytes())
	}
	for i, l := range s.Labels {
		if l < -1 || int(l) >= len(s.Classes) {
			return fmt.Errorf("dataset %q: image %d has label %d, want 0..%d", s.Name, i, l, len(s.Classes)-1)
		}
	}
	return nil
}

// CountsPerClass returns how many images each class has.
func (s *Set) CountsPerClass() []int {
	counts := make([]int, len(s.Classes))
	for _, l := range s.Labels {
		if l >= 0 {
			counts[l]++
		}
	}
	return counts
}

// Subset returns a new set with the images at the given indices (copied).
func (s *Set) Subset(name string, indices []int) *Set {
	n := s.ImageBytes()
	out := &Set{Name: name, Classes: s.Classes, H: s.H, W: s.W, C: s.C,
		Pixels: make([]uint8, 0, len(indices)*n), Labels: make([]int32, 0, len(indices))}
	for _, i := range indices {
		out.Pixels = append(out.Pixels, s.Image(i)...)
		out.Labels = append(out.Labels, s.Labels[i])
	}
	return out
}

// OnlyClasses keeps the images of the named classes, relabelled in the order given (a
// new task from part of a dataset: pretrain on some classes, fine-tune on the others).
func (s *Set) OnlyClasses(names []string) (*Set, error) {
	newLabel := map[int32]int32{}
	for i, name := range names {
		j := slices.Index(s.Classes, name)
		if j < 0 {
			return nil, fmt.Errorf("%s has no class %q (its classes: %s)", s.Name, name, strings.Join(s.Classes, ", "))
		}
		if _, dup := newLabel[int32(j)]; dup {
			return nil, fmt.Errorf("class %q named twice", name)
		}
		newLabel[int32(j)] = int32(i)
	}
	var idx []int
	for i, l := range s.Labels {
		if _, ok := newLabel[l]; ok {
			idx = append(idx, i)
		}
	}
	out := s.Subset(fmt.Sprintf("%s (%d classes)", s.Name, len(names)), idx)
	out.Classes = append([]string(nil), names...)
	for i, l := range out.Labels {
		out.Labels[i] = newLabel[l]
	}
	return out, nil
}

// Head returns the first n images (or all, if n <= 0 or n >= Len) as a subset.
func (s *Set) Head(n int) *Set {
	if n <= 0 || n >= s.Len() {
		return s
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return s.Subset(fmt.Sprintf("%s (first %d)", s.Name, n), idx)
}

// Describe is a one-line description: name, count, size, classes.
func (s *Set) Describe() string {
	return fmt.Sprintf("%s: %d images of %dx%dx%d, %d classes (%s)", s.Name, s.Len(), s.H, s.W, s.C,
		len(s.Classes), strings.Join(s.Classes, ", "))
}
