// The kernels' threads. Called by XLA (through ffi.c), a kernel fans out on XLA's own
// intra-op threads (XLA FFI's thread pool); called directly (tests, benchmarks), on threads
// of its own, started once and kept: a training step makes a few dozen kernel calls, and
// at batch 32 a thread's creation and its join were a measurable part of each.

#define _GNU_SOURCE  // pthread_setname_np
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels.h"
#include "xla/ffi/api/c_api.h"

_Thread_local const XLA_FFI_Api* vggkit_ffi_api;
_Thread_local XLA_FFI_ExecutionContext* vggkit_ffi_ctx;
static atomic_llong xla_fanouts;

long long vggkit_xla_fanouts(void) { return atomic_load(&xla_fanouts); }

// A fan-out on XLA's threads: whoever runs (the caller, or a task XLA's pool picks up)
// claims jobs by number until none is left, so no job waits for a busy thread and the
// caller waits only for jobs already running. Tasks XLA starts after the last job was
// claimed do nothing; the round is freed by whoever holds the last reference.
typedef struct {
  atomic_int next, done, refs;
  vggkit_task* fn;
  char* jobs;
  size_t stride;
  int n;
  void** results;
} xla_round;

static void claim_jobs(xla_round* r) {
  for (int i; (i = atomic_fetch_add(&r->next, 1)) < r->n;) {
    r->results[i] = r->fn(r->jobs + (size_t)i * r->stride);
    atomic_fetch_add_explicit(&r->done, 1, memory_order_release);
  }
}

static void release(xla_round* r) {
  if (atomic_fetch_sub(&r->refs, 1) == 1) free(r);
}

static void xla_task(void* data) {
  claim_jobs(data);
  release(data);
}

// Runs the jobs on XLA's intra-op threads (XLA FFI's thread pool); 0 if that pool is not
// there (the caller then uses vggkit's own threads).
static int run_on_xla(vggkit_task* fn, void* jobs, size_t stride, int n, void** results) {
  const XLA_FFI_Api* api = vggkit_ffi_api;
  if (api == NULL || api->struct_size < offsetof(XLA_FFI_Api, XLA_FFI_ThreadPool_Schedule) + sizeof(void*) ||
      api->XLA_FFI_ThreadPool_Schedule == NULL)
    return 0;
  xla_round* r = malloc(sizeof *r);
  if (r == NULL) return 0;
  *r = (xla_round){.fn = fn, .jobs = jobs, .stride = stride, .n = n, .results = results};
  atomic_init(&r->next, 0);
  atomic_init(&r->done, 0);
  atomic_init(&r->refs, n);  // the caller's and n-1 tasks'
  for (int t = 1; t < n; t++) {
    XLA_FFI_ThreadPool_Schedule_Args args = {XLA_FFI_ThreadPool_Schedule_Args_STRUCT_SIZE, NULL, vggkit_ffi_ctx,
                                             xla_task, r};
    XLA_FFI_Error* err = api->XLA_FFI_ThreadPool_Schedule(&args);
    if (err != NULL) {
      XLA_FFI_Error_Destroy_Args d = {XLA_FFI_Error_Destroy_Args_STRUCT_SIZE, NULL, err};
      api->XLA_FFI_Error_Destroy(&d);
      atomic_fetch_sub(&r->refs, n - t);  // the tasks not scheduled
      if (t == 1) {
        release(r);
        return 0;
      }
      break;
    }
  }
  atomic_fetch_add(&xla_fanouts, 1);
  claim_jobs(r);
  for (int spins = 0; atomic_load_explicit(&r->done, memory_order_acquire) < n; spins++) {
    if (spins < 4096)
      _mm_pause();
    else
      sched_yield();
  }
  release(r);
  return 1;
}

static pthread_mutex_t dispatch_mu = PTHREAD_MUTEX_INITIALIZER;  // one fan-out at a time
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;           // guards what follows
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER, done_cv = PTHREAD_COND_INITIALIZER;
static int workers;        // started so far, ids 1..workers
static uint64_t round_no;  // bumped for each fan-out
static int pending;        // jobs of this round not finished yet
static vggkit_task* task;
static char* jobs_base;
static size_t job_stride;
static int round_jobs;
static void** round_results;

static void* worker(void* arg) {
  const int id = (int)(intptr_t)arg;
  pthread_setname_np(pthread_self(), "vggkit-kernel");  // in top, perf and /proc
  uint64_t seen = 0;
  pthread_mutex_lock(&mu);
  for (;;) {
    while (round_no == seen) pthread_cond_wait(&work_cv, &mu);
    seen = round_no;
    if (id >= round_jobs) continue;
    vggkit_task* fn = task;
    void* job = jobs_base + (size_t)id * job_stride;
    pthread_mutex_unlock(&mu);
    void* r = fn(job);
    pthread_mutex_lock(&mu);
    round_results[id] = r;
    if (--pending == 0) pthread_cond_signal(&done_cv);
  }
  return NULL;
}

void vggkit_run_parallel(vggkit_task* fn, void* jobs, size_t stride, int n, void** results) {
  // Within an XLA call, XLA's own threads: its pool's idle threads spin on the cores before
  // they sleep, and kept threads of vggkit's own then waited for a core (32 px, width 1/4,
  // batch 32: 2,060 img/s with vggkit's threads, 2,500-2,700 on XLA's).
  if (n >= 2 && run_on_xla(fn, jobs, stride, n, results)) return;
  // Another call is fanning out (XLA runs independent operations at once): its threads
  // already fill the cores, so this one runs its jobs in turn.
  if (n < 2 || pthread_mutex_trylock(&dispatch_mu) != 0) {
    for (int t = 0; t < n; t++) results[t] = fn((char*)jobs + (size_t)t * stride);
    return;
  }
  pthread_mutex_lock(&mu);
  while (workers < n - 1 && workers < VGGKIT_MAX_THREADS - 1) {
    pthread_t tid;
    if (pthread_create(&tid, NULL, worker, (void*)(intptr_t)(workers + 1)) != 0) break;
    pthread_detach(tid);
    workers++;
  }
  const int fanned = n - 1 < workers ? n : workers + 1;  // jobs [0, fanned) in parallel
  task = fn;
  jobs_base = jobs;
  job_stride = stride;
  round_jobs = fanned;
  round_results = results;
  pending = fanned - 1;
  round_no++;
  pthread_cond_broadcast(&work_cv);
  pthread_mutex_unlock(&mu);
  results[0] = fn(jobs);
  for (int t = fanned; t < n; t++) results[t] = fn((char*)jobs + (size_t)t * stride);  // no thread
  pthread_mutex_lock(&mu);
  while (pending > 0) pthread_cond_wait(&done_cv, &mu);
  pthread_mutex_unlock(&mu);
  pthread_mutex_unlock(&dispatch_mu);
}
