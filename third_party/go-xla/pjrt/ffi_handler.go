package pjrt

// vggkit patch (see third_party/README.md): registration of typed XLA FFI custom-call
// handlers through the plugin's PJRT FFI extension, so that a program can call a kernel
// of its own (here: vggkit's CPU kernel gradient of a convolution) as a custom call.

/*
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pjrt_c_api.h"

// The FFI extension's layout (xla/pjrt/c/pjrt_c_api_ffi_extension.h, extension
// version 2 and later), declared here because go-xla's header copy does not have it.
// Only register_handler is called; the fields before it are kept as opaque pointers.
typedef struct {
	size_t struct_size;
	const char* target_name;
	size_t target_name_size;
	void* handler;
	const char* platform_name;
	size_t platform_name_size;
	int traits;
} vggkit_PJRT_FFI_Register_Handler_Args;

typedef PJRT_Error* vggkit_PJRT_FFI_Register_Handler(vggkit_PJRT_FFI_Register_Handler_Args* args);

typedef struct {
	PJRT_Extension_Base base;
	void* type_register;
	void* user_data_add;
	vggkit_PJRT_FFI_Register_Handler* register_handler;
} vggkit_PJRT_FFI_Extension;

// vggkit_ffi_extension returns the plugin's FFI extension, or NULL if it has none or one
// too old to register handlers.
static vggkit_PJRT_FFI_Extension* vggkit_ffi_extension(const PJRT_Api* api) {
	for (PJRT_Extension_Base* e = api->extension_start; e != NULL; e = e->next) {
		if (e->type == PJRT_Extension_Type_FFI) {
			vggkit_PJRT_FFI_Extension* ffi = (vggkit_PJRT_FFI_Extension*)e;
			if (e->struct_size < sizeof(vggkit_PJRT_FFI_Extension) || ffi->register_handler == NULL) {
				return NULL;
			}
			return ffi;
		}
	}
	return NULL;
}

static PJRT_Error* vggkit_register_ffi_handler(const PJRT_Api* api, vggkit_PJRT_FFI_Extension* ffi,
		const char* target, const char* platform, void* handler) {
	vggkit_PJRT_FFI_Register_Handler_Args args = {0};
	args.struct_size = offsetof(vggkit_PJRT_FFI_Register_Handler_Args, traits) + sizeof(int);
	args.target_name = target;
	args.target_name_size = strlen(target);
	args.handler = handler;
	args.platform_name = platform;
	args.platform_name_size = strlen(platform);
	return ffi->register_handler(&args);
}
*/
import "C"

import (
	"unsafe"

	"github.com/pkg/errors"
)

// RegisterFFIHandler registers handler (an XLA_FFI_Handler*: a C function taking an
// XLA_FFI_CallFrame*) as the typed-FFI custom-call target `target` for `platform` ("host"
// for the CPU plugin), through the plugin's PJRT FFI extension. XLA's registry is
// process-wide: register each target once, before compiling programs that call it.
func (plugin *Plugin) RegisterFFIHandler(target, platform string, handler unsafe.Pointer) error {
	ffi := C.vggkit_ffi_extension(plugin.api)
	if ffi == nil {
		return errors.Errorf("PJRT plugin %q has no FFI extension that can register handlers", plugin.name)
	}
	cTarget, cPlatform := C.CString(target), C.CString(platform)
	defer C.free(unsafe.Pointer(cTarget))
	defer C.free(unsafe.Pointer(cPlatform))
	if err := toError(plugin, C.vggkit_register_ffi_handler(plugin.api, ffi, cTarget, cPlatform, handler)); err != nil {
		return errors.WithMessagef(err, "registering FFI handler %q for platform %q", target, platform)
	}
	return nil
}
