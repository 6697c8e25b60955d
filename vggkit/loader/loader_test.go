package loader

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/data"
)

// randomSet is n random images of size x size x 3 with labels i%10.
func randomSet(n, size int) *data.Set {
	rng := rand.New(rand.NewPCG(3, 4))
	s := &data.Set{Name: "random", Classes: make([]string, 10), H: size, W: size, C: 3,
		Pixels: make([]uint8, n*size*size*3), Labels: make([]int32, n)}
	for i := range s.Pixels {
		s.Pixels[i] = uint8(rng.Uint32())
	}
	for i := range s.Labels {
		s.Labels[i] = int32(i % 10)
	}
	return s
}

func mustNew(t testing.TB, set *data.Set, o Options) *Loader {
	t.Helper()
	l, err := New(set, o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// copied is a batch copied out of the loader (which reuses its buffers).
type copied struct {
	epoch, step, n int
	pixels         []uint8
	labels         []int32
	indices        []int
}

func collect(l *Loader, first, last, skip int) []copied {
	var out []copied
	for b := range l.Epochs(context.Background(), first, last, skip) {
		out = append(out, copied{b.Epoch, b.Step, b.N, slices.Clone(b.Pixels), slices.Clone(b.Labels), slices.Clone(b.Indices)})
	}
	return out
}

// The same seed gives the same batches, augmentation included, with 1 or 4 workers and
// any prefetch depth; the order is the permutation drawn from PCG(seed, epoch).
func TestDeterministicAcrossWorkers(t *testing.T) {
	set := randomSet(50, 12)
	base := Options{BatchSize: 8, Shuffle: true, DropLast: true, Seed: 42, Size: 16, Crop: true, Flip: true}
	o1, o4 := base, base
	o1.Workers, o1.Prefetch = 1, 1
	o4.Workers, o4.Prefetch = 4, 7
	a := collect(mustNew(t, set, o1), 0, 3, 0)
	b := collect(mustNew(t, set, o4), 0, 3, 0)
	if len(a) != 3*6 || len(b) != len(a) {
		t.Fatalf("got %d and %d batches, want 18", len(a), len(b))
	}
	for i := range a {
		if a[i].epoch != b[i].epoch || a[i].step != b[i].step || !slices.Equal(a[i].indices, b[i].indices) ||
			!bytes.Equal(a[i].pixels, b[i].pixels) || !slices.Equal(a[i].labels, b[i].labels) {
			t.Fatalf("batch %d differs between 1 and 4 workers", i)
		}
	}
	// Another seed changes the order and the augmentation.
	o4.Seed = 43
	c := collect(mustNew(t, set, o4), 0, 1, 0)
	if slices.Equal(a[0].indices, c[0].indices) || bytes.Equal(a[0].pixels, c[0].pixels) {
		t.Fatal("seed 43 gave the same first batch as seed 42")
	}
	// Epochs differ; the order is the permutation of PCG(seed, epoch), computed here by
	// hand, in batches of 8 with the last 2 images dropped.
	for e := range 3 {
		order := make([]int, set.Len())
		for i := range order {
			order[i] = i
		}
		rng := rand.New(rand.NewPCG(42, uint64(e)))
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		if got := mustNew(t, set, o1).Order(e); !slices.Equal(got, order) {
			t.Fatalf("epoch %d: Order %v, want %v", e, got, order)
		}
		for k := range 6 {
			want := order[k*8 : (k+1)*8]
			labels := make([]int32, len(want))
			for j, i := range want {
				labels[j] = set.Labels[i]
			}
			got := a[e*6+k]
			if got.epoch != e || got.step != k || !slices.Equal(got.indices, want) || !slices.Equal(got.labels, labels) {
				t.Fatalf("epoch %d batch %d: indices %v, want %v", e, k, got.indices, want)
			}
		}
	}
	if slices.Equal(a[0].indices, a[6].indices) {
		t.Fatal("epochs 0 and 1 start with the same batch")
	}
	// Skipping resumes mid-epoch with the same batches.
	s := collect(mustNew(t, set, o1), 1, 3, 4)
	if len(s) != 2+6 || s[0].epoch != 1 || s[0].step != 4 || !bytes.Equal(s[0].pixels, a[6+4].pixels) {
		t.Fatalf("skip 4 of epoch 1: got %d batches starting at %d/%d", len(s), s[0].epoch, s[0].step)
	}
}

// Every image appears exactly once per epoch; drop-last drops only the remainder and
// keeping it yields a partial last batch (padded on request).
func TestCoverageAndPartialBatch(t *testing.T) {
	set := randomSet(23, 4)
	for _, dropLast := range []bool{false, true} {
		l := mustNew(t, set, Options{BatchSize: 5, Shuffle: true, DropLast: dropLast, Seed: 1, Workers: 3})
		seen := make([]int, set.Len())
		var sizes []int
		for _, b := range collect(l, 0, 1, 0) {
			sizes = append(sizes, b.n)
			for k, i := range b.indices {
				seen[i]++
				if !bytes.Equal(b.pixels[k*48:(k+1)*48], set.Image(i)) || b.labels[k] != set.Labels[i] {
					t.Fatalf("image %d: pixels or label not the set's", i)
				}
			}
		}
		want := []int{5, 5, 5, 5, 3}
		if dropLast {
			want = want[:4]
		}
		if !slices.Equal(sizes, want) || l.BatchesPerEpoch() != len(want) {
			t.Fatalf("dropLast=%v: batch sizes %v, want %v", dropLast, sizes, want)
		}
		for i, n := range seen {
			if n != 1 && !(dropLast && n == 0) {
				t.Fatalf("dropLast=%v: image %d seen %d times", dropLast, i, n)
			}
		}
	}
	// Evaluation: in order, last batch padded with zeros to the batch size, as tensors.
	l := mustNew(t, set, Options{BatchSize: 5, PadLast: true, Tensors: true})
	var n int
	for b := range l.Epoch(0, 0) {
		if b.Images.Shape().Dimensions[0] != 5 || b.LabelsT.Shape().Dimensions[0] != 5 {
			t.Fatalf("batch %d: tensors %s %s, want batch 5", b.Step, b.Images.Shape(), b.LabelsT.Shape())
		}
		flat := tensors.MustCopyFlatData[uint8](b.Images)
		for k := range 5 {
			img := flat[k*48 : (k+1)*48]
			if k < b.N {
				if !bytes.Equal(img, set.Image(n)) || b.Indices[k] != n {
					t.Fatalf("image %d is not in order", n)
				}
				n++
			} else if slices.Max(img) != 0 {
				t.Fatalf("padding image %d of the last batch is not zero", k)
			}
		}
	}
	if n != set.Len() {
		t.Fatalf("eval saw %d images, want %d", n, set.Len())
	}
}

// Breaking out of the loop, or cancelling the context, stops every goroutine.
func TestNoGoroutineLeak(t *testing.T) {
	set := randomSet(64, 8)
	before := runtime.NumGoroutine()
	l := mustNew(t, set, Options{BatchSize: 4, Shuffle: true, Workers: 4, Prefetch: 3, Size: 16, Crop: true, Flip: true})
	for range 3 {
		k := 0
		for range l.Epochs(context.Background(), 0, 100, 0) {
			if k++; k == 5 {
				break
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k := 0
	for range l.Epochs(ctx, 0, 100, 0) {
		if k++; k == 3 {
			cancel()
		}
	}
	if k != 3 {
		t.Fatalf("the loop yielded %d batches, want 3: none after the cancel", k)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after the loops, %d before", n, before)
	}
}

// resizeRef is the graph's bilinear resize (half-pixel centres, edge clamp) in float64.
func resizeRef(src []uint8, h, w, c, size int) []float64 {
	sample := func(o, in int) (int, int, float64) {
		x := (float64(o)+0.5)*float64(in)/float64(size) - 0.5
		x = math.Max(0, math.Min(x, float64(in-1)))
		i0 := int(x)
		i1 := min(i0+1, in-1)
		return i0, i1, x - float64(i0)
	}
	out := make([]float64, size*size*c)
	for y := range size {
		y0, y1, fy := sample(y, h)
		for x := range size {
			x0, x1, fx := sample(x, w)
			for k := range c {
				p := func(yy, xx int) float64 { return float64(src[(yy*w+xx)*c+k]) }
				out[(y*size+x)*c+k] = (1-fy)*((1-fx)*p(y0, x0)+fx*p(y0, x1)) + fy*((1-fx)*p(y1, x0)+fx*p(y1, x1))
			}
		}
	}
	return out
}

func hostResize(src []uint8, h, w, c, size, dy, dx int, flip bool) []uint8 {
	dst := make([]uint8, size*size*c)
	resizeCropFlip(dst, src, h, w, c, bilinearTaps(h, size), bilinearTaps(w, size), dy, dx, flip, &scratch{})
	return dst
}

func TestResize(t *testing.T) {
	// A constant image stays constant, at any size, up or down.
	for _, size := range []int{1, 5, 8, 13, 40} {
		src := bytes.Repeat([]byte{7, 200, 255}, 8*8)
		got := hostResize(src, 8, 8, 3, size, 0, 0, false)
		for i, v := range got {
			if v != src[i%3] {
				t.Fatalf("size %d: constant image changed: byte %d = %d", size, i, v)
			}
		}
	}
	// A 2x2 gray image to 4x4, by hand: centres at -0.25, 0.25, 0.75, 1.25 in input
	// pixels, so rows/columns mix the two inputs 1:0, 3/4:1/4, 1/4:3/4, 0:1.
	src := []uint8{0, 100, 200, 40}
	// Top row 0, 25, 75, 100; bottom row 200, 160, 80, 40; the middle rows mix them
	// 3:1 and 1:3 (58.75, 76.25, 126.25 and 78.75 round to the nearest).
	want := []uint8{0, 25, 75, 100, 50, 59, 76, 85, 150, 126, 79, 55, 200, 160, 80, 40}
	if got := hostResize(src, 2, 2, 1, 4, 0, 0, false); !bytes.Equal(got, want) {
		t.Fatalf("2x2 -> 4x4: got %v, want %v", got, want)
	}
	// Random images, up (96 -> 224, STL-10 to VGG) and down: within 1 of the float resize.
	set := randomSet(2, 96)
	for _, size := range []int{224, 100, 64, 32} {
		got := hostResize(set.Image(1), 96, 96, 3, size, 0, 0, false)
		ref := resizeRef(set.Image(1), 96, 96, 3, size)
		for i := range got {
			if math.Abs(float64(got[i])-ref[i]) > 1 {
				t.Fatalf("size %d: byte %d = %d, float resize %.2f", size, i, got[i], ref[i])
			}
		}
	}
}

// Flipping twice is the identity; a crop shifts the resized image and fills with zeros.
func TestCropFlip(t *testing.T) {
	set := randomSet(1, 9)
	img := set.Image(0)
	const size = 9
	flipped := hostResize(img, size, size, 3, size, 0, 0, true)
	if bytes.Equal(flipped, img) {
		t.Fatal("flip changed nothing")
	}
	back := make([]uint8, len(img))
	resizeCropFlip(back, flipped, size, size, 3, bilinearTaps(size, size), bilinearTaps(size, size), 0, 0, true, &scratch{})
	if !bytes.Equal(back, img) {
		t.Fatal("flip twice is not the identity")
	}
	for _, d := range [][2]int{{2, -3}, {-1, 0}, {0, 4}} {
		dy, dx := d[0], d[1]
		got := hostResize(img, size, size, 3, size, dy, dx, false)
		for y := range size {
			for x := range size {
				for k := range 3 {
					var want uint8
					if Y, X := y+dy, x+dx; Y >= 0 && Y < size && X >= 0 && X < size {
						want = img[(Y*size+X)*3+k]
					}
					if g := got[(y*size+x)*3+k]; g != want {
						t.Fatalf("crop (%d,%d) at (%d,%d,%d): %d, want %d", dy, dx, y, x, k, g, want)
					}
				}
			}
		}
	}
	// Through the loader: host augmentation draws differ between images and epochs.
	l := mustNew(t, randomSet(16, 12), Options{BatchSize: 16, Size: 12, Crop: true, Flip: true, Seed: 5})
	e0, e1 := collect(l, 0, 1, 0)[0], collect(l, 1, 2, 0)[0]
	if bytes.Equal(e0.pixels, e1.pixels) {
		t.Fatal("augmentation is the same in epochs 0 and 1")
	}
	if fmt.Sprint(l.ImageSize()) != "12 12 3" {
		t.Fatalf("ImageSize %v", fmt.Sprint(l.ImageSize()))
	}
}
