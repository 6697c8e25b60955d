// The XLA FFI handlers around the kernels: the kernel gradient (operands x [N,H,W,C] and dy
// [N,Ho,Wo,K], result dW [KH,3,C,K]) and the convolution (operands x [N,H,W,C] and w
// [KH,KW,C,K], or [KH,KW,K,C] transposed, result y [N,Ho,Wo,K]); all f32, row-major, the
// padding following from the shapes.

#include <stdio.h>

#include "kernels.h"
#include "xla/ffi/api/c_api.h"

// The XLA FFI version of the framework that last registered a handler (-1: none yet).
static int framework_major = -1, framework_minor = -1;

static XLA_FFI_Error* fail(const XLA_FFI_Api* api, XLA_FFI_Error_Code code, const char* msg) {
  XLA_FFI_Error_Create_Args args = {XLA_FFI_Error_Create_Args_STRUCT_SIZE, NULL, msg, code};
  return api->XLA_FFI_Error_Create(&args);
}

// XLA asks for a handler's FFI version when it is registered, and drops the handler if the
// version is newer than its own. The handlers use only what FFI 0.1 has (call frame,
// buffers, errors), so they report the framework's version where that lies between 0.1 and
// the headers' version (xla-cpu-pjrt 0.0.1 has 0.2, the headers 0.3). Returns 1 if frame
// was that query.
static int metadata(XLA_FFI_CallFrame* frame) {
  if (frame->extension_start == NULL || frame->extension_start->type != XLA_FFI_Extension_Metadata)
    return 0;
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
  return 1;
}

static XLA_FFI_Buffer* buffer4(void* p) {
  XLA_FFI_Buffer* b = p;
  return b->dtype == XLA_FFI_DataType_F32 && b->rank == 4 ? b : NULL;
}

// operands checks the call's arity and types; NULL if fine.
static XLA_FFI_Error* operands(XLA_FFI_CallFrame* frame, const char* what, XLA_FFI_Buffer** a,
                               XLA_FFI_Buffer** b, XLA_FFI_Buffer** out) {
  static _Thread_local char msg[160];
  if (frame->args.size != 2 || frame->rets.size != 1 || frame->args.types[0] != XLA_FFI_ArgType_BUFFER ||
      frame->args.types[1] != XLA_FFI_ArgType_BUFFER || frame->rets.types[0] != XLA_FFI_RetType_BUFFER) {
    snprintf(msg, sizeof msg, "vggkit %s: want 2 buffer operands and 1 buffer result", what);
    return fail(frame->api, XLA_FFI_Error_Code_INVALID_ARGUMENT, msg);
  }
  *a = buffer4(frame->args.args[0]);
  *b = buffer4(frame->args.args[1]);
  *out = buffer4(frame->rets.rets[0]);
  if (*a == NULL || *b == NULL || *out == NULL) {
    snprintf(msg, sizeof msg, "vggkit %s: operands and result must be f32 of rank 4", what);
    return fail(frame->api, XLA_FFI_Error_Code_INVALID_ARGUMENT, msg);
  }
  return NULL;
}

static XLA_FFI_Error* shape_error(const XLA_FFI_Api* api, const char* what, const int64_t* a,
                                  const int64_t* b, const int64_t* c) {
  static _Thread_local char msg[320];
  snprintf(msg, sizeof msg,
           "vggkit %s: shapes [%ld,%ld,%ld,%ld], [%ld,%ld,%ld,%ld] -> [%ld,%ld,%ld,%ld] do not fit a "
           "stride-1 convolution with symmetric padding",
           what, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)b[0], (long)b[1], (long)b[2],
           (long)b[3], (long)c[0], (long)c[1], (long)c[2], (long)c[3]);
  return fail(api, XLA_FFI_Error_Code_INVALID_ARGUMENT, msg);
}

static XLA_FFI_Error* kernel_grad_ffi(XLA_FFI_CallFrame* frame) {
  if (metadata(frame) || frame->stage != XLA_FFI_ExecutionStage_EXECUTE) return NULL;
  const XLA_FFI_Api* api = frame->api;
  XLA_FFI_Buffer *x, *dy, *dw;
  XLA_FFI_Error* e = operands(frame, "kernel gradient", &x, &dy, &dw);
  if (e != NULL) return e;
  int64_t N = x->dims[0], H = x->dims[1], W = x->dims[2], C = x->dims[3];
  int64_t Ho = dy->dims[1], Wo = dy->dims[2], K = dy->dims[3], KH = dw->dims[0];
  int64_t twoPh = Ho - H + KH - 1, twoPw = Wo - W + 2;
  if (dy->dims[0] != N || dw->dims[1] != 3 || dw->dims[2] != C || dw->dims[3] != K || twoPh % 2 ||
      twoPw % 2)
    return shape_error(api, "kernel gradient", x->dims, dy->dims, dw->dims);
  vggkit_ffi_api = api;
  vggkit_ffi_ctx = frame->ctx;
  const char* err = vggkit_kernel_grad(x->data, dy->data, dw->data, N, H, W, C, Ho, Wo, K, KH,
                                       twoPh / 2, twoPw / 2, 0);
  vggkit_ffi_api = NULL;
  return err != NULL ? fail(api, XLA_FFI_Error_Code_INVALID_ARGUMENT, err) : NULL;
}

static XLA_FFI_Error* conv_ffi(XLA_FFI_CallFrame* frame, int transposed) {
  if (metadata(frame) || frame->stage != XLA_FFI_ExecutionStage_EXECUTE) return NULL;
  const XLA_FFI_Api* api = frame->api;
  XLA_FFI_Buffer *x, *w, *y;
  XLA_FFI_Error* e = operands(frame, "convolution", &x, &w, &y);
  if (e != NULL) return e;
  int64_t N = x->dims[0], H = x->dims[1], W = x->dims[2], C = x->dims[3];
  int64_t Ho = y->dims[1], Wo = y->dims[2], K = y->dims[3], KH = w->dims[0], KW = w->dims[1];
  int64_t wc = w->dims[transposed ? 3 : 2], wk = w->dims[transposed ? 2 : 3];
  int64_t twoPh = Ho - H + KH - 1, twoPw = Wo - W + KW - 1;
  if (y->dims[0] != N || wc != C || wk != K || twoPh % 2 || twoPw % 2)
    return shape_error(api, "convolution", x->dims, w->dims, y->dims);
  vggkit_ffi_api = api;
  vggkit_ffi_ctx = frame->ctx;
  const char* err = vggkit_conv_fwd(x->data, w->data, y->data, N, H, W, C, Ho, Wo, K, KH, KW,
                                    twoPh / 2, twoPw / 2, transposed, 0);
  vggkit_ffi_api = NULL;
  return err != NULL ? fail(api, XLA_FFI_Error_Code_INVALID_ARGUMENT, err) : NULL;
}

static XLA_FFI_Error* conv_hwio_ffi(XLA_FFI_CallFrame* frame) { return conv_ffi(frame, 0); }
static XLA_FFI_Error* conv_hwoi_ffi(XLA_FFI_CallFrame* frame) { return conv_ffi(frame, 1); }

void* vggkit_kernel_grad_ffi_handler(void) { return (void*)kernel_grad_ffi; }

void* vggkit_conv_ffi_handler(int transposed) {
  return transposed ? (void*)conv_hwoi_ffi : (void*)conv_hwio_ffi;
}

int vggkit_ffi_framework(int* major, int* minor) {
  *major = framework_major;
  *minor = framework_minor;
  return framework_major == XLA_FFI_API_MAJOR && framework_minor >= 1 &&
         framework_minor <= XLA_FFI_API_MINOR;
}
