// Package loader feeds a data.Set to a model: batches are assembled by parallel
// worker goroutines and queued ahead of the consumer (prefetch), so the training loop
// finds the next batch ready when it asks for it.
//
// Everything stays uint8 (HWC), as the rest of vggkit: by default a batch is the
// set's images copied as they are, and resize, normalisation and augmentation happen
// in the compiled graph (vgg.Preprocess). Optionally the workers resize to a square
// size (bilinear, as the graph's resize), random-crop with zero padding and flip on
// the host, still in uint8: the model then receives images already at its input size
// (set vgg.Config.Augment off so the graph does not augment a second time).
//
// The batches are deterministic: the order of an epoch is the permutation drawn from
// rand.New(rand.NewPCG(seed, epoch)) (the one the training loop always used), and each image's augmentation is drawn from (seed, epoch, index)
// alone, so worker count and scheduling change nothing.
package loader

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/vggkit/vggkit/vggkit/data"
)

// Options configures a Loader. The zero value (but for BatchSize) gives the set's
// images in order, in batches, with the last partial batch kept.
type Options struct {
	BatchSize int
	Shuffle   bool   // one permutation per epoch, from (Seed, epoch).
	DropLast  bool   // drop a last partial batch (training: fixed shapes).
	PadLast   bool   // without DropLast: pad a last partial batch with zero images up to BatchSize (Batch.N says how many are real), so no second graph is compiled.
	Seed      uint64 // drives the shuffle and the augmentation.
	Workers   int    // goroutines assembling batches; 0 = GOMAXPROCS.
	Prefetch  int    // batches queued ahead of the consumer; 0 = 4.
	Tensors   bool   // also build the GoMLX input tensors on the workers (Batch.Images, Batch.LabelsT).
	// Device, with Tensors: the workers also copy the images to this backend's device 0,
	// so the copy to the GPU overlaps the step before (measured on an H100: VGG16 bf16
	// training went from 3381 to 4387 img/s once the batch copy left the step's path).
	Device compute.Backend
	// DeviceAfter, when set, holds the device copies back until it is closed: the
	// trainer closes it after its first step, so no copy runs while XLA compiles (a
	// graph build once failed while a copy was in flight; not reproduced since).
	DeviceAfter <-chan struct{}

	// Host-side transforms, in uint8, done by the workers (all off by default: the graph
	// does them, and training uses that path). Size resizes to Size x Size (bilinear,
	// half-pixel centres, as vgg.Preprocess's resize); then Crop takes a random Size x
	// Size crop of the image padded with Size/8 zero pixels on each side (torchvision's
	// RandomCrop(size, padding); the fraction vgg.Augment pads with); Flip mirrors half
	// the images left-right. bench/pipeline measures this path against torchvision's
	// DataLoader, which transforms on the host.
	Size int
	Crop bool
	Flip bool
}

// Batch is one batch. Its slices are owned by the loader and valid until the loop asks
// for the next batch (copy what you keep); the tensors, when asked for, belong to the
// consumer (train.Trainer.TrainStep takes them over). With Tensors, Pixels aliases the
// images tensor's storage.
type Batch struct {
	Epoch, Step int             // the epoch, and the batch's position in it (0-based, skipped ones counted).
	N           int             // real images; less than the batch size only for a last partial batch.
	H, W, C     int             // image size.
	Pixels      []uint8         // N*H*W*C bytes (BatchSize*H*W*C with PadLast).
	Labels      []int32         // N labels (BatchSize with PadLast; padding is label 0).
	Indices     []int           // the N images' indices in the set.
	Images      *tensors.Tensor // uint8 [len(Labels), H, W, C], with Options.Tensors.
	LabelsT     *tensors.Tensor // int32 [len(Labels), 1], with Options.Tensors.
	pix         []uint8         // pooled buffer behind Pixels (nil with Tensors).
}

// Loader produces the batches of a set; it holds no goroutines between iterations and
// can serve any number of (sequential or concurrent) iterations.
type Loader struct {
	set       *data.Set
	opts      Options
	outH      int // output image size (square when resizing).
	outW      int
	transform bool      // host transforms on (else images are copied as they are).
	pad       int       // with Crop: zero padding on each side before the random crop.
	cols      taps      // resize taps along x (set.W -> outW), shared read-only by the workers.
	rows      taps      // resize taps along y (set.H -> outH).
	pool      sync.Pool // *Batch, with buffers, for reuse.
}

// New checks the set and the options and returns a loader.
func New(set *data.Set, opts Options) (*Loader, error) {
	if err := set.Validate(); err != nil {
		return nil, err
	}
	if opts.BatchSize <= 0 {
		return nil, fmt.Errorf("loader: batch size %d, want > 0", opts.BatchSize)
	}
	if opts.Size < 0 || opts.Workers < 0 || opts.Prefetch < 0 {
		return nil, fmt.Errorf("loader: negative size, workers or prefetch in %+v", opts)
	}
	if opts.Workers == 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Prefetch == 0 {
		opts.Prefetch = 4
	}
	l := &Loader{set: set, opts: opts, outH: set.H, outW: set.W}
	if opts.Size > 0 {
		l.outH, l.outW = opts.Size, opts.Size
	}
	if opts.Crop {
		l.pad = max(1, min(l.outH, l.outW)/8)
	}
	l.transform = l.outH != set.H || l.outW != set.W || opts.Crop || opts.Flip
	l.cols = bilinearTaps(set.W, l.outW)
	l.rows = bilinearTaps(set.H, l.outH)
	return l, nil
}

// ImageSize is the size of the images the loader delivers (H, W, C).
func (l *Loader) ImageSize() (h, w, c int) { return l.outH, l.outW, l.set.C }

// BatchesPerEpoch is the number of batches in one epoch.
func (l *Loader) BatchesPerEpoch() int {
	n, bs := l.set.Len(), l.opts.BatchSize
	if l.opts.DropLast {
		return n / bs
	}
	return (n + bs - 1) / bs
}

// Order is the order of the images in an epoch: the identity, or with Shuffle the
// permutation drawn from rand.New(rand.NewPCG(Seed, epoch)) (rand.Rand.Shuffle of the identity).
func (l *Loader) Order(epoch int) []int {
	order := make([]int, l.set.Len())
	for i := range order {
		order[i] = i
	}
	if l.opts.Shuffle {
		rng := rand.New(rand.NewPCG(l.opts.Seed, uint64(epoch)))
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	return order
}

// Epoch yields the batches of one epoch, skipping the first `skip` (a resumed run
// skips the steps it has done, without assembling them).
func (l *Loader) Epoch(epoch, skip int) iter.Seq[*Batch] {
	return l.Epochs(context.Background(), epoch, epoch+1, skip)
}

// Epochs yields the batches of epochs [first, last) as one stream (the workers run
// ahead across epoch boundaries), skipping the first `skip` batches of the first epoch.
// The workers live only while the loop runs: breaking out of it, or cancelling ctx
// (the loop then just ends; check ctx.Err()), stops them and waits for them.
func (l *Loader) Epochs(ctx context.Context, first, last, skip int) iter.Seq[*Batch] {
	return func(yield func(*Batch) bool) {
		ctx, cancel := context.WithCancel(ctx)
		type job struct {
			epoch, step int
			order       []int
			out         chan *Batch // buffered (1): a worker never blocks on it.
		}
		jobs := make(chan job)
		// queue holds the result channels in batch order: the consumer takes them in that
		// order, whichever worker finishes first. Its capacity bounds the batches ahead.
		queue := make(chan chan *Batch, l.opts.Prefetch)
		var wg sync.WaitGroup
		defer func() { cancel(); wg.Wait() }()

		wg.Add(1)
		go func() { // producer: hands out the batches in order.
			defer wg.Done()
			defer close(jobs)
			defer close(queue)
			for e := first; e < last; e++ {
				order := l.Order(e)
				k0 := 0
				if e == first {
					k0 = skip
				}
				for k := k0; k < l.BatchesPerEpoch(); k++ {
					j := job{epoch: e, step: k, order: order, out: make(chan *Batch, 1)}
					select {
					case queue <- j.out:
					case <-ctx.Done():
						return
					}
					select {
					case jobs <- j:
					case <-ctx.Done():
						return
					}
				}
			}
		}()
		for range l.opts.Workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := &scratch{}
				for j := range jobs {
					j.out <- l.assemble(j.epoch, j.step, j.order, s)
				}
			}()
		}

		var prev *Batch
		for out := range queue {
			var b *Batch
			select {
			case b = <-out:
			case <-ctx.Done():
				return
			}
			// select picks at random when both are ready: a batch finished before the
			// cancel must not be yielded after it.
			if ctx.Err() != nil {
				return
			}
			if prev != nil {
				l.recycle(prev) // the consumer has moved on from it.
			}
			prev = b
			if !yield(b) {
				return
			}
		}
	}
}

// assemble builds batch `step` of an epoch.
func (l *Loader) assemble(epoch, step int, order []int, s *scratch) *Batch {
	bs := l.opts.BatchSize
	start := step * bs
	end := min(start+bs, len(order))
	n := end - start
	rows := n
	if l.opts.PadLast {
		rows = bs
	}
	b, _ := l.pool.Get().(*Batch)
	if b == nil {
		b = &Batch{}
	}
	h, w, c := l.outH, l.outW, l.set.C
	img := h * w * c
	*b = Batch{Epoch: epoch, Step: step, N: n, H: h, W: w, C: c,
		Labels: resize(b.Labels, rows), Indices: resize(b.Indices, n), pix: b.pix}
	fill := func(pix []uint8) {
		for k, i := range order[start:end] {
			b.Indices[k] = i
			b.Labels[k] = l.set.Labels[i]
			l.image(pix[k*img:(k+1)*img], i, epoch, s)
		}
		clear(pix[n*img:]) // padding images.
		clear(b.Labels[n:])
	}
	if l.opts.Tensors {
		b.Images = tensors.FromShape(shapes.Make(dtypes.Uint8, rows, h, w, c))
		tensors.MustMutableFlatData(b.Images, func(pix []uint8) { fill(pix); b.Pixels = pix })
		b.LabelsT = tensors.FromFlatDataAndDimensions(b.Labels, rows, 1)
		if l.opts.Device != nil && closed(l.opts.DeviceAfter) {
			// Errors surface when the step uses the tensor (it copies it then).
			_ = b.Images.MaterializeOnDevice(l.opts.Device, false, 0)
			b.Pixels = nil // the host copy may be gone.
		}
	} else {
		b.pix = resize(b.pix, rows*img)
		b.Pixels = b.pix
		fill(b.Pixels)
	}
	return b
}

// image writes image i of the set, transformed for this epoch, into dst.
func (l *Loader) image(dst []uint8, i, epoch int, s *scratch) {
	src := l.set.Image(i)
	if !l.transform {
		copy(dst, src)
		return
	}
	// The image's random draws come from (seed, epoch, index) only.
	var dy, dx int
	var flip bool
	if l.opts.Crop || l.opts.Flip {
		var p rand.PCG
		p.Seed(l.opts.Seed^0x6a09e667f3bcc909, uint64(epoch)<<32|uint64(uint32(i)))
		if l.opts.Crop {
			dy = randN(p.Uint64(), 2*l.pad+1) - l.pad
			dx = randN(p.Uint64(), 2*l.pad+1) - l.pad
		}
		if l.opts.Flip {
			flip = p.Uint64()&1 == 1
		}
	}
	resizeCropFlip(dst, src, l.set.H, l.set.W, l.set.C, l.rows, l.cols, dy, dx, flip, s)
}

// randN maps a uniform 64-bit draw to [0, n) (multiply-shift).
func randN(r uint64, n int) int { return int((r >> 32) * uint64(n) >> 32) }

func (l *Loader) recycle(b *Batch) {
	b.Images, b.LabelsT, b.Pixels = nil, nil, nil
	l.pool.Put(b)
}

// resize returns s with length n, reusing its storage when large enough.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// closed tells whether ch is nil or closed, without blocking.
func closed(ch <-chan struct{}) bool {
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
