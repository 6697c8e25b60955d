#ifndef VGGKIT_CPUKERNELS_KERNELS_H_
#define VGGKIT_CPUKERNELS_KERNELS_H_

#include <stddef.h>
#include <stdint.h>

// The most threads a kernel call uses; vggkit_threads gives the default: the CPUs this
// process may run on.
#define VGGKIT_MAX_THREADS 64
int vggkit_threads(void);

// A kernel's share of the work: job -> NULL, or an error message.
typedef void* vggkit_task(void* job);

// Runs fn on the n jobs (job t at jobs + t*stride) and returns when all have run;
// results[t] is fn's result for job t. Within an XLA FFI call (vggkit_ffi_api set), on the
// calling thread and XLA's intra-op threads; otherwise job 0 on the calling thread and the
// others on threads kept across calls (pool.c), or all in turn on the calling thread when
// another call is already fanning out.
void vggkit_run_parallel(vggkit_task* fn, void* jobs, size_t stride, int n, void** results);

// The XLA FFI call this thread is in, set by the handlers around a kernel call (NULL
// outside one): vggkit_run_parallel then fans out on XLA's own threads.
struct XLA_FFI_Api;
struct XLA_FFI_ExecutionContext;
extern _Thread_local const struct XLA_FFI_Api* vggkit_ffi_api;
extern _Thread_local struct XLA_FFI_ExecutionContext* vggkit_ffi_ctx;

// How many fan-outs ran on XLA's threads so far.
long long vggkit_xla_fanouts(void);

// 1 if this CPU runs the kernels (AVX-512F).
int vggkit_kernels_supported(void);

// dw [KH][3][C][K] = kernel gradient of a stride-1 convolution of x [N][H][W][C] with
// padding (ph, pw), given the output gradient dy [N][Ho][Wo][K]. threads <= 0: one per
// CPU. Returns NULL, or a message when the shapes are not supported.
const char* vggkit_kernel_grad(const float* x, const float* dy, float* dw, int64_t N, int64_t H,
                               int64_t W, int64_t C, int64_t Ho, int64_t Wo, int64_t K, int64_t KH,
                               int64_t ph, int64_t pw, int threads);

// The typed XLA FFI handler (XLA_FFI_Handler) that calls vggkit_kernel_grad.
void* vggkit_kernel_grad_ffi_handler(void);

// The FFI version of the XLA that last registered a handler (-1 if none did), and 1 if
// the handlers' version check there passed. XLA's PJRT FFI extension does not report
// failed registrations, so this is how the caller learns of one.
int vggkit_ffi_framework(int* major, int* minor);

// y [N][Ho][Wo][K] = stride-1 convolution of x [N][H][W][C] with padding (ph, pw) and w
// [KH][KW][C][K], or w [KH][KW][K][C] when transposed (an input gradient's kernel).
// K a multiple of 64. threads <= 0: one per CPU. NULL, or why not.
const char* vggkit_conv_fwd(const float* x, const float* w, float* y, int64_t N, int64_t H, int64_t W,
                            int64_t C, int64_t Ho, int64_t Wo, int64_t K, int64_t KH, int64_t KW,
                            int64_t ph, int64_t pw, int transposed, int threads);

// The typed XLA FFI handlers that call vggkit_conv_fwd, with w [KH,KW,C,K] (transposed = 0)
// or [KH,KW,K,C] (1).
void* vggkit_conv_ffi_handler(int transposed);

#endif
