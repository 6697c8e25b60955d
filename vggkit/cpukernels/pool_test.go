package cpukernels

import (
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Calls from several threads at once (XLA runs independent operations concurrently): one
// fans out to the kept threads, the others run their jobs in turn; all must be right.
func TestConcurrentCallsMatchDefinition(t *testing.T) {
	if !Supported() {
		t.Skip("no AVX-512F")
	}
	const n, h, w, c, k = 3, 6, 6, 16, 64
	rng := rand.New(rand.NewPCG(5, 6))
	x, wt, dy := make([]float32, n*h*w*c), make([]float32, 9*c*k), make([]float32, n*h*w*k)
	for _, s := range [][]float32{x, wt, dy} {
		for i := range s {
			s[i] = rng.Float32()*2 - 1
		}
	}
	wantY := convRef(x, wt, n, h, w, c, k, 3, 3, 1, 1, false)
	wantDW := kernelGradRef(x, dy, n, h, w, c, h, w, k, 3, 1, 1)
	check := func(got []float32, want []float64, what string) string {
		for i := range want {
			if d := math.Abs(float64(got[i]) - want[i]); !(d <= 1e-4*(1+math.Abs(want[i]))) {
				return what + ": element " + strconv.Itoa(i) + " wrong"
			}
		}
		return ""
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 30 {
				if g%2 == 0 {
					y := make([]float32, n*h*w*k)
					if err := ConvForward(x, wt, y, n, h, w, c, h, w, k, 3, 3, 1, 1, false, 3); err != nil {
						errs <- err.Error()
						return
					}
					if e := check(y, wantY, "convolution"); e != "" {
						errs <- e
						return
					}
				} else {
					dw := make([]float32, 9*c*k)
					if err := KernelGrad(x, dy, dw, n, h, w, c, h, w, k, 3, 1, 1, 3); err != nil {
						errs <- err.Error()
						return
					}
					if e := check(dw, wantDW, "kernel gradient"); e != "" {
						errs <- e
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// The kernels' threads are started once and kept: a training step makes dozens of calls,
// and starting and joining a thread in each was a measurable part of a step at batch 32.
func TestKernelThreadsAreKept(t *testing.T) {
	if !Supported() {
		t.Skip("no AVX-512F")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads thread names in /proc")
	}
	x, w, y := make([]float32, 4*4*4*16), make([]float32, 9*16*64), make([]float32, 4*4*4*64)
	call := func() {
		if err := ConvForward(x, w, y, 4, 4, 4, 16, 4, 4, 64, 3, 3, 1, 1, false, 4); err != nil {
			t.Fatal(err)
		}
	}
	call()
	first := kernelThreads(t)
	if len(first) < 3 {
		t.Fatalf("after a call with 4 jobs, %d vggkit-kernel threads live (want the 3 workers kept): %v", len(first), first)
	}
	for range 50 {
		call()
	}
	if later := kernelThreads(t); !slices.Equal(later, first) {
		t.Errorf("workers %v after one call, %v after 50 more: not the same kept threads", first, later)
	}
}

// kernelThreads lists the ids of this process's threads named vggkit-kernel.
func kernelThreads(t *testing.T) []string {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range tasks {
		if b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/comm"); err == nil && strings.TrimSpace(string(b)) == "vggkit-kernel" {
			ids = append(ids, e.Name())
		}
	}
	return ids
}
