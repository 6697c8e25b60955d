package cpukernels

/*
#include "kernels.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// ConvTarget and ConvTransposedTarget are the custom-call names the XLA backend gives the
// convolution with an HWIO kernel and with an HWOI one (an input gradient's).
const (
	ConvTarget           = "vggkit_conv2d"
	ConvTransposedTarget = "vggkit_conv2d_transposed_kernel"
)

// ConvHandler is the XLA_FFI_Handler* to register as ConvTarget (transposed: as
// ConvTransposedTarget).
func ConvHandler(transposed bool) unsafe.Pointer {
	if transposed {
		return C.vggkit_conv_ffi_handler(1)
	}
	return C.vggkit_conv_ffi_handler(0)
}

// ConvFits says whether the convolution kernel takes x [N,H,W,C] to y [N,Ho,Wo,K] (the
// backend keeps XLA's form, or oneDNN's, for the others): maps of 8x8 and below, where it
// was 1.2-1.8x faster than XLA CPU's own convolution and its oneDNN custom call, and output
// channels in multiples of 64 (its tile). On larger maps oneDNN's was as fast or faster.
// (BenchmarkConvForwardSmallMaps against bench/convops.)
func ConvFits(x, y []int) bool {
	return len(x) == 4 && len(y) == 4 && x[1]*x[2] <= 64 && y[3]%64 == 0 && x[3] >= 16
}

// ConvForward computes y [n,ho,wo,k] from x [n,h,w,c] and w [kh,kw,c,k] (or [kh,kw,k,c] when
// transposed) with padding (ph, pw), outside XLA (tests and benchmarks).
func ConvForward(x, w, y []float32, n, h, wd, c, ho, wo, k, kh, kw, ph, pw int, transposed bool, threads int) error {
	if len(x) != n*h*wd*c || len(w) != kh*kw*c*k || len(y) != n*ho*wo*k || len(x) == 0 || len(y) == 0 {
		return fmt.Errorf("cpukernels.ConvForward: slice lengths %d, %d, %d do not match the shapes", len(x), len(w), len(y))
	}
	if !Supported() {
		return fmt.Errorf("cpukernels.ConvForward: this CPU has no AVX-512F")
	}
	tr := 0
	if transposed {
		tr = 1
	}
	msg := C.vggkit_conv_fwd((*C.float)(&x[0]), (*C.float)(&w[0]), (*C.float)(&y[0]), C.int64_t(n), C.int64_t(h),
		C.int64_t(wd), C.int64_t(c), C.int64_t(ho), C.int64_t(wo), C.int64_t(k), C.int64_t(kh), C.int64_t(kw),
		C.int64_t(ph), C.int64_t(pw), C.int(tr), C.int(threads))
	if msg != nil {
		return fmt.Errorf("cpukernels.ConvForward: %s", C.GoString(msg))
	}
	return nil
}
