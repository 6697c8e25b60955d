// The XLA FFI handler around vggkit_kernel_grad: operands x [N,H,W,C] and dy [N,Ho,Wo,K],
// result dW [KH,3,C,K], all f32 and row-major; the padding follows from the shapes.

#include <stdio.h>

#include "kernelgrad.h"
#include "xla/ffi/api/c_api.h"

// The XLA FFI version of the framework that last registered the handler (-1: none yet).
static int framework_major = -1, framework_minor = -1;

static XLA_FFI_Error* fail(const XLA_FFI_Api* api, XLA_FFI_Error_Code code, const char* msg) {
  XLA_FFI_Error_Create_Args args = {XLA_FFI_Error_Create_Args_STRUCT_SIZE, NULL, msg, code};
  return api->XLA_FFI_Error_Create(&args);
}

static XLA_FFI_Buffer* buffer4(void* p) {
  XLA_FFI_Buffer* b = p;
  return b->dtype == XLA_FFI_DataType_F32 && b->rank == 4 ? b : NULL;
}

static XLA_FFI_Error* kernel_grad_ffi(XLA_FFI_CallFrame* frame) {
  // XLA asks for the handler's FFI version when it is registered, and drops the handler
  // if the version is newer than its own. The handler uses only what FFI 0.1 has (call
  // frame, buffers, errors), so it reports the framework's version where that lies
  // between 0.1 and the headers' version (xla-cpu-pjrt 0.0.1 has 0.2, the headers 0.3).
  if (frame->extension_start != NULL && frame->extension_start->type == XLA_FFI_Extension_Metadata) {
    XLA_FFI_Metadata* m = ((XLA_FFI_Metadata_Extension*)frame->extension_start)->metadata;
    int major = frame->api->api_version.major_version, minor = frame->api->api_version.minor_version;
    framework_major = major;
    framework_minor = minor;
    if (major != XLA_FFI_API_MAJOR || minor < 1 || minor > XLA_FFI_API_MINOR) {
      major = XLA_FFI_API_MAJOR;
      minor = XLA_FFI_API_MINOR;
    }
    m->api_version.major_version = major;
    m->api_version.minor_version = minor;
    m->traits = 0;
    return NULL;
  }
  if (frame->stage != XLA_FFI_ExecutionStage_EXECUTE) return NULL;
  const XLA_FFI_Api* api = frame->api;
  if (frame->args.size != 2 || frame->rets.size != 1 || frame->args.types[0] != XLA_FFI_ArgType_BUFFER ||
      frame->args.types[1] != XLA_FFI_ArgType_BUFFER || frame->rets.types[0] != XLA_FFI_RetType_BUFFER)
    return fail(api, XLA_FFI_Error_Code_INVALID_ARGUMENT,
                "vggkit kernel gradient: want 2 buffer operands and 1 buffer result");
  XLA_FFI_Buffer *x = buffer4(frame->args.args[0]), *dy = buffer4(frame->args.args[1]),
                 *dw = buffer4(frame->rets.rets[0]);
  if (x == NULL || dy == NULL || dw == NULL)
    return fail(api, XLA_FFI_Error_Code_INVALID_ARGUMENT,
                "vggkit kernel gradient: operands and result must be f32 of rank 4");
  int64_t N = x->dims[0], H = x->dims[1], W = x->dims[2], C = x->dims[3];
  int64_t Ho = dy->dims[1], Wo = dy->dims[2], K = dy->dims[3], KH = dw->dims[0];
  int64_t twoPh = Ho - H + KH - 1, twoPw = Wo - W + 2;
  if (dy->dims[0] != N || dw->dims[1] != 3 || dw->dims[2] != C || dw->dims[3] != K || twoPh % 2 ||
      twoPw % 2) {
    static _Thread_local char msg[256];
    snprintf(msg, sizeof msg,
             "vggkit kernel gradient: shapes x [%ld,%ld,%ld,%ld], dy [%ld,%ld,%ld,%ld], dW "
             "[%ld,%ld,%ld,%ld] do not fit a stride-1 3-wide convolution with symmetric padding",
             (long)N, (long)H, (long)W, (long)C, (long)dy->dims[0], (long)Ho, (long)Wo, (long)K,
             (long)KH, (long)dw->dims[1], (long)dw->dims[2], (long)dw->dims[3]);
    return fail(api, XLA_FFI_Error_Code_INVALID_ARGUMENT, msg);
  }
  const char* err = vggkit_kernel_grad(x->data, dy->data, dw->data, N, H, W, C, Ho, Wo, K, KH,
                                       twoPh / 2, twoPw / 2, 0);
  if (err != NULL) return fail(api, XLA_FFI_Error_Code_INVALID_ARGUMENT, err);
  return NULL;
}

void* vggkit_kernel_grad_ffi_handler(void) { return (void*)kernel_grad_ffi; }

int vggkit_kernel_grad_ffi_framework(int* major, int* minor) {
  *major = framework_major;
  *minor = framework_minor;
  return framework_major == XLA_FFI_API_MAJOR && framework_minor >= 1 &&
         framework_minor <= XLA_FFI_API_MINOR;
}
