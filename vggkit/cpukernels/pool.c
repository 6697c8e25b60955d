// The kernels' threads: started once and kept, instead of one pthread_create and join per
// call. A training step makes a few dozen kernel calls; at batch 32 a thread's creation
// and its join were a measurable part of each.

#define _GNU_SOURCE  // pthread_setname_np
#include <pthread.h>
#include <stdint.h>

#include "kernels.h"

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
