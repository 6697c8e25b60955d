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

#include "kernelgrad.h"

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

// Tile of 16 output channels x CB input channels x 3 taps, over `rows` rows.
// x: x[iy0][0][c0] (pixel stride C, row stride xrs); dy: dy[oy0][0][k0] (pixel stride K,
// row stride drs); dw: dW[i][0][c0][k0] (tap stride C*K, channel stride K).
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void tile16(
    const float* x, const float* dy, float* dw, int64_t nimg, int64_t xis, int64_t dis, int64_t rows,
    int64_t xrs, int64_t drs, int64_t C, int64_t K, int64_t W, int64_t Wo, int64_t pw, const int CB) {
  __m512 acc[KW][8];
#pragma GCC unroll 3
  for (int j = 0; j < KW; j++)
#pragma GCC unroll 8
    for (int c = 0; c < CB; c++) acc[j][c] = _mm512_loadu_ps(dw + (j * C + c) * K);
  int64_t lo, hi;
  interior(W, Wo, pw, &lo, &hi);
  for (int64_t rr = 0; rr < nimg * rows; rr++) {
    const float* xr = x + (rr / rows) * xis + (rr % rows) * xrs;
    const float* dr = dy + (rr / rows) * dis + (rr % rows) * drs;
    for (int64_t ox = 0; ox < Wo; ox++) {
      if (ox == lo) ox = hi;  // the interior runs below, without bounds checks
      if (ox >= Wo) break;
      __m512 d = _mm512_loadu_ps(dr + ox * K);
#pragma GCC unroll 3
      for (int j = 0; j < KW; j++) {
        int64_t ix = ox + j - pw;
        if (ix < 0 || ix >= W) continue;
#pragma GCC unroll 8
        for (int c = 0; c < CB; c++)
          acc[j][c] = _mm512_fmadd_ps(_mm512_set1_ps(xr[ix * C + c]), d, acc[j][c]);
      }
    }
    const float* xp = xr + (lo - pw) * C;
    for (int64_t ox = lo; ox < hi; ox++, xp += C) {
      __m512 d = _mm512_loadu_ps(dr + ox * K);
#pragma GCC unroll 3
      for (int j = 0; j < KW; j++)
#pragma GCC unroll 8
        for (int c = 0; c < CB; c++)
          acc[j][c] = _mm512_fmadd_ps(_mm512_set1_ps(xp[j * C + c]), d, acc[j][c]);
    }
  }
#pragma GCC unroll 3
  for (int j = 0; j < KW; j++)
#pragma GCC unroll 8
    for (int c = 0; c < CB; c++) _mm512_storeu_ps(dw + (j * C + c) * K, acc[j][c]);
}

// As tile16 with 32 output channels x CB (up to 4) input channels: two dy vectors share
// each broadcast of x, so there are fewer loads per FMA.
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void tile32(
    const float* x, const float* dy, float* dw, int64_t nimg, int64_t xis, int64_t dis, int64_t rows,
    int64_t xrs, int64_t drs, int64_t C, int64_t K, int64_t W, int64_t Wo, int64_t pw, const int CB) {
  __m512 acc[KW][4][2];
#pragma GCC unroll 3
  for (int j = 0; j < KW; j++)
#pragma GCC unroll 4
    for (int c = 0; c < CB; c++) {
      acc[j][c][0] = _mm512_loadu_ps(dw + (j * C + c) * K);
      acc[j][c][1] = _mm512_loadu_ps(dw + (j * C + c) * K + 16);
    }
  int64_t lo, hi;
  interior(W, Wo, pw, &lo, &hi);
  for (int64_t rr = 0; rr < nimg * rows; rr++) {
    const float* xr = x + (rr / rows) * xis + (rr % rows) * xrs;
    const float* dr = dy + (rr / rows) * dis + (rr % rows) * drs;
    for (int64_t ox = 0; ox < Wo; ox++) {
      if (ox == lo) ox = hi;
      if (ox >= Wo) break;
      __m512 d0 = _mm512_loadu_ps(dr + ox * K), d1 = _mm512_loadu_ps(dr + ox * K + 16);
#pragma GCC unroll 3
      for (int j = 0; j < KW; j++) {
        int64_t ix = ox + j - pw;
        if (ix < 0 || ix >= W) continue;
#pragma GCC unroll 4
        for (int c = 0; c < CB; c++) {
          __m512 b = _mm512_set1_ps(xr[ix * C + c]);
          acc[j][c][0] = _mm512_fmadd_ps(b, d0, acc[j][c][0]);
          acc[j][c][1] = _mm512_fmadd_ps(b, d1, acc[j][c][1]);
        }
      }
    }
    const float* xp = xr + (lo - pw) * C;
    for (int64_t ox = lo; ox < hi; ox++, xp += C) {
      __m512 d0 = _mm512_loadu_ps(dr + ox * K), d1 = _mm512_loadu_ps(dr + ox * K + 16);
#pragma GCC unroll 3
      for (int j = 0; j < KW; j++)
#pragma GCC unroll 4
        for (int c = 0; c < CB; c++) {
          __m512 b = _mm512_set1_ps(xp[j * C + c]);
          acc[j][c][0] = _mm512_fmadd_ps(b, d0, acc[j][c][0]);
          acc[j][c][1] = _mm512_fmadd_ps(b, d1, acc[j][c][1]);
        }
    }
  }
#pragma GCC unroll 3
  for (int j = 0; j < KW; j++)
#pragma GCC unroll 4
    for (int c = 0; c < CB; c++) {
      _mm512_storeu_ps(dw + (j * C + c) * K, acc[j][c][0]);
      _mm512_storeu_ps(dw + (j * C + c) * K + 16, acc[j][c][1]);
    }
}

// One instance per channel count, so each tile's accumulators stay in registers.
#define TILE16(CB)                                                                              \
  __attribute__((target("avx512f"))) static void tile16_##CB(                                 \
      const float* x, const float* dy, float* dw, int64_t nimg, int64_t xis, int64_t dis,       \
      int64_t rows, int64_t xrs, int64_t drs, int64_t C, int64_t K, int64_t W, int64_t Wo,      \
      int64_t pw) {                                                                             \
    tile16(x, dy, dw, nimg, xis, dis, rows, xrs, drs, C, K, W, Wo, pw, CB);                                     \
  }
#define TILE32(CB)                                                                              \
  __attribute__((target("avx512f"))) static void tile32_##CB(                                 \
      const float* x, const float* dy, float* dw, int64_t nimg, int64_t xis, int64_t dis,       \
      int64_t rows, int64_t xrs, int64_t drs, int64_t C, int64_t K, int64_t W, int64_t Wo,      \
      int64_t pw) {                                                                             \
    tile32(x, dy, dw, nimg, xis, dis, rows, xrs, drs, C, K, W, Wo, pw, CB);                                     \
  }
TILE16(1) TILE16(2) TILE16(3) TILE16(4) TILE16(5) TILE16(6) TILE16(7) TILE16(8)
TILE32(1) TILE32(2) TILE32(3) TILE32(4)

typedef void tile_fn(const float*, const float*, float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                     int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);
static tile_fn* const tiles16[9] = {0, tile16_1, tile16_2, tile16_3, tile16_4,
                                    tile16_5, tile16_6, tile16_7, tile16_8};
static tile_fn* const tiles32[5] = {0, tile32_1, tile32_2, tile32_3, tile32_4};

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
  const int wide = K % 32 == 0;
  const int64_t kstep = wide ? 32 : 16, cstep = wide ? 4 : 8;
  tile_fn* const* tiles = wide ? tiles32 : tiles16;
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

static int cpu_count(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return 1;
}

int vggkit_kernel_grad_supported(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

#define MAX_THREADS 64

const char* vggkit_kernel_grad(const float* x, const float* dy, float* dw, int64_t N, int64_t H,
                               int64_t W, int64_t C, int64_t Ho, int64_t Wo, int64_t K, int64_t KH,
                               int64_t ph, int64_t pw, int threads) {
  if (K % 16 != 0) return "output channels must be a multiple of 16";
  if (ph < 0 || pw < 0 || Ho != H + 2 * ph - KH + 1 || Wo != W + 2 * pw - KW + 1)
    return "shapes do not match a stride-1 convolution with this padding";
  int64_t size = KH * KW * C * K;
  memset(dw, 0, size * sizeof(float));
  if (threads <= 0) threads = cpu_count();
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (threads > N) threads = (int)N;
  if (threads < 1) threads = 1;
  kg_job jobs[MAX_THREADS];
  pthread_t tids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (int t = 0; t < threads; t++) {
    jobs[t] = (kg_job){x, dy, dw, N * t / threads, N * (t + 1) / threads, H, W, C, Ho, Wo, K, KH, ph,
                       pw};
    if (t > 0) {
      jobs[t].dw = aligned_alloc(64, ((size * sizeof(float) + 63) / 64) * 64);
      if (jobs[t].dw == NULL) {
        jobs[t].n1 = jobs[t].n0;  // no memory: thread 0 takes these images below
        continue;
      }
      memset(jobs[t].dw, 0, size * sizeof(float));
      started[t] = pthread_create(&tids[t], NULL, kg_run, &jobs[t]) == 0;
    }
  }
  // Images of threads that could not start run here, after thread 0's own.
  kg_run(&jobs[0]);
  for (int t = 1; t < threads; t++) {
    if (started[t]) {
      pthread_join(tids[t], NULL);
    } else {
      kg_job rest = jobs[0];
      rest.n0 = N * t / threads;
      rest.n1 = N * (t + 1) / threads;
      kg_run(&rest);
    }
  }
  for (int t = 1; t < threads; t++) {
    if (jobs[t].dw == NULL) continue;
    if (started[t])
      for (int64_t e = 0; e < size; e++) dw[e] += jobs[t].dw[e];
    free(jobs[t].dw);
  }
  return NULL;
}
