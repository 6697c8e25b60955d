// Package cpukernels holds vggkit's own CPU kernels (AVX-512, in C), which XLA programs
// call as typed FFI custom calls (vggkit's go-xla patch emits them; vggkit/backend
// registers them):
//
//   - the kernel gradient of a 3x3 convolution (kernelgrad.c): XLA CPU lowers it to two
//     transposes and a convolution whose window is the whole feature map, 2.5-4x slower
//     than PyTorch's oneDNN kernel on VGG's large early maps with few channels;
//   - the convolution itself on maps of 8x8 and below (convfwd.c), forward and input
//     gradient: there XLA CPU's own convolution and its oneDNN custom call were 1.3-1.8x
//     slower than PyTorch.
//
// (bench/convops.) ffi.c holds the handlers XLA calls.
package cpukernels

/*
#cgo CFLAGS: -O3 -I${SRCDIR}/../../third_party/xla-ffi
#cgo LDFLAGS: -lpthread
#include "kernels.h"
#include "xla/ffi/api/c_api.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// XLAFanOuts is how many kernel calls so far split their work over XLA's own threads (as
// they do when XLA calls them; called directly, they use threads of their own).
func XLAFanOuts() int64 { return int64(C.vggkit_xla_fanouts()) }

// KernelGradTarget is the custom-call name the XLA backend gives the kernel gradient.
const KernelGradTarget = "vggkit_conv2d_kernel_grad"

// Supported reports whether this CPU runs the kernels (AVX-512F).
func Supported() bool { return C.vggkit_kernels_supported() != 0 }

// KernelGradHandler is the XLA_FFI_Handler* to register as KernelGradTarget.
func KernelGradHandler() unsafe.Pointer { return C.vggkit_kernel_grad_ffi_handler() }

// CheckRegistered returns an error unless XLA took vggkit's handlers when they were
// registered: its PJRT FFI extension drops handlers it rejects without an error, and the
// version check (the one way registration fails short of a duplicate name) is seen here.
func CheckRegistered() error {
	var major, minor C.int
	if C.vggkit_ffi_framework(&major, &minor) != 0 {
		return nil
	}
	if major < 0 {
		return fmt.Errorf("the PJRT plugin did not query vggkit's handlers (%s, %s): not registered", KernelGradTarget, ConvTarget)
	}
	return fmt.Errorf("the PJRT plugin's XLA FFI version %d.%d is outside what vggkit's handlers support (0.1 to %d.%d)",
		major, minor, C.XLA_FFI_API_MAJOR, C.XLA_FFI_API_MINOR)
}

// KernelGradFits says whether the kernel takes x [N,H,W,C] and dy [N,Ho,Wo,K] (the
// backend keeps XLA's form for the others): K a multiple of 16, one AVX-512 vector, and at
// most 256x256 channel pairs. Above that (VGG's 512-channel layers) XLA's own form was as
// fast or up to 1.3x faster (bench/convops -wgrad-only, VGGKIT_CPUKERNELS=0 against 1),
// where this kernel re-reads dy once per few input channels.
func KernelGradFits(x, dy []int) bool {
	return len(x) == 4 && len(dy) == 4 && dy[3]%16 == 0 && x[3]*dy[3] <= maxChannelPairs
}

const maxChannelPairs = 256 * 256

// KernelGrad computes dw [kh,3,c,k] from x [n,h,w,c] and dy [n,ho,wo,k] with padding
// (ph, pw), outside XLA (for tests and benchmarks). threads <= 0: one per CPU.
func KernelGrad(x, dy, dw []float32, n, h, w, c, ho, wo, k, kh, ph, pw, threads int) error {
	if len(x) != n*h*w*c || len(dy) != n*ho*wo*k || len(dw) != kh*3*c*k || len(x) == 0 || len(dy) == 0 {
		return fmt.Errorf("cpukernels.KernelGrad: slice lengths %d, %d, %d do not match the shapes", len(x), len(dy), len(dw))
	}
	if !Supported() {
		return fmt.Errorf("cpukernels.KernelGrad: this CPU has no AVX-512F")
	}
	msg := C.vggkit_kernel_grad((*C.float)(&x[0]), (*C.float)(&dy[0]), (*C.float)(&dw[0]),
		C.int64_t(n), C.int64_t(h), C.int64_t(w), C.int64_t(c), C.int64_t(ho), C.int64_t(wo), C.int64_t(k),
		C.int64_t(kh), C.int64_t(ph), C.int64_t(pw), C.int(threads))
	if msg != nil {
		return fmt.Errorf("cpukernels.KernelGrad: %s", C.GoString(msg))
	}
	return nil
}
