#define _GNU_SOURCE  // sched_getaffinity, CPU_COUNT
// The kernel gradient of a 3-wide 2D convolution (NHWC input, HWIO kernel, stride 1,
// symmetric padding), for XLA CPU as a typed-FFI custom call. See kernelgrad.go for why.
//
//   dW[i][j][c][k] = sum over n, oy, ox of x[n][oy+i-ph][ox+j-pw][c] * dy[n][oy][ox][k]
//
// AVX-512: a register tile holds the 3 column taps j of a few input channels c times 16 or
// 32 output channels k, and runs over a block of rows of one image, so each dy vector
// feeds 24 FMAs and the accumulators leave the registers once per block. Images are split
// among threads, each with its own partial sum, added at the end.

#include "kernels.h"

#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define KW 3

typedef struct {
  const float *x, *dy;
  float *dw;  // [KH][KW][C][K], accumulated into
  int64_t n0, n1, H, W, C, Ho, Wo, K, KH, ph, pw;
} kg_job;

// The columns ox whose three taps all fall inside the row: [*lo, *hi).
static inline void interior(int64_t W, int64_t Wo, int64_t pw, int64_t* lo, int64_t* hi) {
  *lo = pw < Wo ? pw : Wo;
  *hi = W + pw - (KW - 1);
  if (*hi > Wo) *hi = Wo;
  if (*hi < *lo) *hi = *lo;
}

// Tile of 16*KV output channels x CB input channels x 3 taps (3*CB*KV = 24 accumulators
// of the 32 registers), over `nimg` images of `rows` rows. Per pixel: KV dy loads and 3*CB
// broadcasts of x feed 24 FMAs; wider KV means fewer loads per FMA.
// x: x[iy0][0][c0] (pixel stride C, row stride xrs, image stride xis); dy: dy[oy0][0][k0]
// (pixel stride K, row stride drs, image stride dis); dw: dW[i][0][c0][k0] (tap stride
// C*K, channel stride K).
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void tile(
    const float* x, const float* dy, float* dw, int64_t nimg, int64_t xis, int64_t dis, int64_t rows,
    int64_t xrs, int64_t drs, int64_t C, int64_t K, int64_t W, int64_t Wo, int64_t pw, const int KV,
    const int CB) {
  __m512 acc[KW][8][4];
#pragma GCC unroll 3
  for (int j = 0; j < KW; j++)
#pragma GCC unroll 8
    for (int c = 0; c < CB; c++)
#pragma GCC unroll 4
      for (int v = 0; v < KV; v++) acc[j][c][v] = _mm512_loadu_ps(dw + (j * C + c) * K + 16 * v);
  int64_t lo, hi;
  interior(W, Wo, pw, &lo, &hi);
  for (int64_t rr = 0; rr < nimg * rows; rr++) {
    const float* xr = x + (rr / rows) * xis + (rr % rows) * xrs;
    const float* dr = dy + (rr / rows) * dis + (rr % rows) * drs;
    for (int64_t ox = 0; ox < Wo; ox++) {
      if (ox == lo) ox = hi;  // the interior runs below, without bounds checks
      if (ox >= Wo) break;
      __m512 d[4];
#pragma GCC unroll 4
      for (int v = 0; v < KV; v++) d[v] = _mm512_loadu_ps(dr + ox * K + 16 * v);
#pragma GCC unroll 3
      for (int j = 0; j < KW; j++) {
        int64_t ix = ox + j - pw;
        if (ix < 0 || ix >= W) continue;
#pragma GCC unroll 8
        for (int c = 0; c < CB; c++) {
          __m512 b = _mm512_set1_ps(xr[ix * C + c]);
#pragma GCC unroll 4
          for (int v = 0; v < KV; v++) acc[j][c][v] = _mm512_fmadd_ps(b, d[v], acc[j][c][v]);
        }
      }
    }
    const float* xp = xr + (lo - pw) * C;
    for (int64_t ox = lo; ox < hi; ox++, xp += C) {
      __m512 d[4];
#pragma GCC unroll 4
      for (int v = 0; v < KV; v++) d[v] = _mm512_loadu_ps(dr + ox * K + 16 * v);
#pragma GCC unroll 3
      for (int j = 0; j < KW; j++)
#pragma GCC unroll 8
        for (int c = 0; c < CB; c++) {
          __m512 b = _mm512_set1_ps(xp[j * C + c]);
#pragma GCC unroll 4
          for (int v = 0; v < KV; v++) acc[j][c][v] = _mm512_fmadd_ps(b, d[v], acc[j][c][v]);
        }
    }
  }
#pragma GCC unroll 3
  for (int j = 0; j < KW; j++)
#pragma GCC unroll 8
    for (int c = 0; c < CB; c++)
#pragma GCC unroll 4
      for (int v = 0; v < KV; v++) _mm512_storeu_ps(dw + (j * C + c) * K + 16 * v, acc[j][c][v]);
}

// One instance per width and channel count, so each tile's accumulators stay in registers.
#define TILE(KV, CB)                                                                           \
  __attribute__((target("avx512f"))) static void tile##KV##_##CB(                             \
      const float* x, const float* dy, float* dw, int64_t nimg, int64_t xis, int64_t dis,       \
      int64_t rows, int64_t xrs, int64_t drs, int64_t C, int64_t K, int64_t W, int64_t Wo,      \
      int64_t pw) {                                                                             \
    tile(x, dy, dw, nimg, xis, dis, rows, xrs, drs, C, K, W, Wo, pw, KV, CB);                   \
  }
TILE(1, 1) TILE(1, 2) TILE(1, 3) TILE(1, 4) TILE(1, 5) TILE(1, 6) TILE(1, 7) TILE(1, 8)
TILE(2, 1) TILE(2, 2) TILE(2, 3) TILE(2, 4)
TILE(4, 1) TILE(4, 2)

typedef void tile_fn(const float*, const float*, float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                     int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);
// tiles[KV][CB], CB up to 24 / (3 KV).
static tile_fn* const tiles1[9] = {0, tile1_1, tile1_2, tile1_3, tile1_4,
                                   tile1_5, tile1_6, tile1_7, tile1_8};
static tile_fn* const tiles2[5] = {0, tile2_1, tile2_2, tile2_3, tile2_4};
static tile_fn* const tiles4[3] = {0, tile4_1, tile4_2};

// A block is a run of rows of one image, or several whole images (small maps), that the
// tiles sweep once per tap row and channel block; the accumulators leave the registers
// once per sweep. Rows: x and dy within a quarter of L2 (2 MB here). Whole images: up to
// twice dW's size (to 3/4 of L2), as each block reads and writes all of dW once, which
// dominates on small maps with many channels.
static void block_shape(const kg_job* a, int64_t* rows, int64_t* images) {
  const int64_t row_budget = 512 << 10;
  int64_t image_budget = 2 * a->KH * KW * a->C * a->K * (int64_t)sizeof(float);
  if (image_budget < row_budget) image_budget = row_budget;
  if (image_budget > (3 << 19)) image_budget = 3 << 19;
  int64_t row_bytes = (a->W * a->C + a->Wo * a->K) * (int64_t)sizeof(float);
  if (row_bytes < 1) row_bytes = 1;
  *rows = row_budget / row_bytes;
  *images = 1;
  if (*rows < 1) *rows = 1;
  if (*rows >= a->Ho) {
    *rows = a->Ho;
    *images = image_budget / (a->Ho * row_bytes);
    if (*images < 1) *images = 1;
  }
}

static void* kg_run(void* arg) {
  const kg_job* a = arg;
  const int64_t H = a->H, W = a->W, C = a->C, Ho = a->Ho, Wo = a->Wo, K = a->K;
  const int kv = K % 64 == 0 ? 4 : K % 32 == 0 ? 2 : 1;
  const int64_t kstep = 16 * kv, cstep = 8 / kv;
  tile_fn* const* tiles = kv == 4 ? tiles4 : kv == 2 ? tiles2 : tiles1;
  int64_t R, NB;
  block_shape(a, &R, &NB);
  for (int64_t n = a->n0; n < a->n1; n += NB) {
    const int64_t nb = a->n1 - n < NB ? a->n1 - n : NB;
    const float* xn = a->x + n * H * W * C;
    const float* dn = a->dy + n * Ho * Wo * K;
    for (int64_t oy0 = 0; oy0 < Ho; oy0 += R) {
      int64_t oy1 = oy0 + R < Ho ? oy0 + R : Ho;
      for (int64_t i = 0; i < a->KH; i++) {
        // Output rows whose input row oy+i-ph exists.
        int64_t r0 = a->ph - i > oy0 ? a->ph - i : oy0;
        int64_t r1 = H + a->ph - i < oy1 ? H + a->ph - i : oy1;
        if (r1 <= r0) continue;
        const float* xs = xn + (r0 + i - a->ph) * W * C;
        const float* ds = dn + r0 * Wo * K;
        float* dwi = a->dw + i * KW * C * K;
        for (int64_t k0 = 0; k0 < K; k0 += kstep)
          for (int64_t c0 = 0; c0 < C; c0 += cstep) {
            int64_t cb = C - c0 < cstep ? C - c0 : cstep;
            tiles[cb](xs + c0, ds + k0, dwi + c0 * K + k0, nb, H * W * C, Ho * Wo * K, r1 - r0, W * C,
                      Wo * K, C, K, W, Wo, a->pw);
          }
      }
    }
  }
  return NULL;
}

int vggkit_threads(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return 1;
}

int vggkit_kernels_supported(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}


// The other threads' partial sums live in buffers kept across calls: freshly allocated ones
// are mapped and page-faulted on every call (they are above malloc's mmap threshold), which
// cost more than the sums. A call that finds them in use allocates its own.
static pthread_mutex_t partials_mu = PTHREAD_MUTEX_INITIALIZER;
static float* partials[VGGKIT_MAX_THREADS];
static int64_t partials_cap[VGGKIT_MAX_THREADS];

static float* partial(int t, int64_t size, int cached) {
  if (!cached) return aligned_alloc(64, ((size * sizeof(float) + 63) / 64) * 64);
  if (partials_cap[t] < size) {
    free(partials[t]);
    partials[t] = aligned_alloc(64, ((size * sizeof(float) + 63) / 64) * 64);
    partials_cap[t] = partials[t] != NULL ? size : 0;
  }
  return partials[t];
}

const char* vggkit_kernel_grad(const float* x, const float* dy, float* dw, int64_t N, int64_t H,
                               int64_t W, int64_t C, int64_t Ho, int64_t Wo, int64_t K, int64_t KH,
                               int64_t ph, int64_t pw, int threads) {
  if (K % 16 != 0) return "output channels must be a multiple of 16";
  if (ph < 0 || pw < 0 || Ho != H + 2 * ph - KH + 1 || Wo != W + 2 * pw - KW + 1)
    return "shapes do not match a stride-1 convolution with this padding";
  int64_t size = KH * KW * C * K;
  memset(dw, 0, size * sizeof(float));
  if (threads <= 0) threads = vggkit_threads();
  if (threads > VGGKIT_MAX_THREADS) threads = VGGKIT_MAX_THREADS;
  if (threads > N) threads = (int)N;
  if (threads < 1) threads = 1;
  const int cached = threads > 1 && pthread_mutex_trylock(&partials_mu) == 0;
  kg_job jobs[VGGKIT_MAX_THREADS];
  void* results[VGGKIT_MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    jobs[t] = (kg_job){x, dy, dw, N * t / threads, N * (t + 1) / threads, H, W, C, Ho, Wo, K, KH, ph,
                       pw};
    if (t > 0 && (jobs[t].dw = partial(t, size, cached)) == NULL) {
      threads = t;  // no memory for this one's partial sum: the first t jobs take all images
      jobs[t - 1].n1 = N;
      break;
    }
    if (t > 0) memset(jobs[t].dw, 0, size * sizeof(float));
  }
  vggkit_run_parallel(kg_run, jobs, sizeof(kg_job), threads, results);
  for (int t = 1; t < threads; t++)
    for (int64_t e = 0; e < size; e++) dw[e] += jobs[t].dw[e];
  if (cached) {
    pthread_mutex_unlock(&partials_mu);
  } else {
    for (int t = 1; t < threads; t++) free(jobs[t].dw);
  }
  return NULL;
}
