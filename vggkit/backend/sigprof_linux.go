//go:build linux && cgo

package backend

/*
#include <signal.h>
#include <pthread.h>
static void vggkit_sigprof(int block) {
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGPROF);
	pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &s, NULL);
}
*/
import "C"

import "runtime"

// withoutSIGPROF runs f (which starts XLA's threads) with SIGPROF blocked on its thread, so
// that the threads it starts inherit the block: Go's CPU profiler (vggkit train
// -cpuprofile) then samples only Go's threads. Its signals in XLA's threads corrupted
// glibc's heap (the run aborted with "corrupted size vs. prev_size").
func withoutSIGPROF(f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	C.vggkit_sigprof(1)
	defer C.vggkit_sigprof(0)
	f()
}
