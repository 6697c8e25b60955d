// A stride-1 3x3 2D convolution (NHWC input, HWIO kernel, symmetric padding) for the small
// maps deep in VGG (8x8 and below), where XLA CPU's own convolution and its oneDNN custom
// call were 1.3-1.8x slower than PyTorch (bench/convops). See convfwd.go.
//
//   y[n][oy][ox][k] = sum over i, j, c of xp[n][oy+i][ox+j][c] * w[i][j][c][k]
//
// xp is x zero-padded (copied once per call). AVX-512: a register tile holds 6 output
// pixels x 64 output channels (24 accumulators); per (tap, channel) 4 kernel vectors and 6
// broadcasts feed 24 FMAs. The kernel goes in blocks of 16 input channels x 64 output
// channels, packed so each block stays in L1 while every pixel passes over it. Pixels run
// over the whole batch as one list; threads split the output channels, then the pixels.

#include "kernels.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PT 6  // pixels per tile

#define CB 16  // input channels per block: a block's packed kernel (9 x 16 x 64 floats) stays in L1

typedef struct {
  const float *xp, *w;
  float* y;
  int64_t p0, p1;  // tiles [p0, p1) of the plan
  int64_t k0, k1;  // output channels [k0, k1), whole blocks of 64
  int64_t Hp, Wp, C, Ho, Wo, K, KH, KW;
  int transposed;
  const struct cf_tilespec* tiles;  // this thread's: [p0, p1) index tiles here
  const struct cf_class* classes;
} cf_job;

// A tile: up to PT output pixels (flat indices into N*Ho*Wo) whose windows have the same
// taps inside the map, i in [i0, i1) and j in [j0, j1): the taps that fall on padding are
// skipped (on 4x4 maps they are 31 % of the work, on 2x2 maps 56 %).
struct cf_tilespec {
  int64_t xoff[PT], yoff[PT];  // the pixels' window corners in xp, and their offsets in y
  int32_t n, cls;              // pixels; index of their taps in the plan's classes
};

// The taps of a class of pixels: offsets of each tap's input in xp (from the window corner)
// and the tap's index in the kernel.
struct cf_class {
  int64_t nt, toff[64], tidx[64];
};

// Tile of P pixels x 64 output channels over one block of cb input channels: adds to y
// (or starts it, on the first block). xb[p]: the pixel's window corner in xp, at the
// block's first channel; wb: the packed block, [tap][cb][64].
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void cf_tile(
    const float* const* xb, const float* wb, float* const* yb, const int64_t* toff, const int64_t* tidx,
    int64_t ntaps, int64_t cb, int first, const int P) {
  __m512 acc[PT][4];
#pragma GCC unroll 6
  for (int p = 0; p < P; p++)
#pragma GCC unroll 4
    for (int v = 0; v < 4; v++)
      acc[p][v] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(yb[p] + 16 * v);
  for (int64_t t = 0; t < ntaps; t++) {
    const float* wt = wb + tidx[t] * cb * 64;
    const int64_t off = toff[t];
    for (int64_t c = 0; c < cb; c++, wt += 64) {
      __m512 w0 = _mm512_load_ps(wt), w1 = _mm512_load_ps(wt + 16), w2 = _mm512_load_ps(wt + 32),
             w3 = _mm512_load_ps(wt + 48);
#pragma GCC unroll 6
      for (int p = 0; p < P; p++) {
        __m512 b = _mm512_set1_ps(xb[p][off + c]);
        acc[p][0] = _mm512_fmadd_ps(b, w0, acc[p][0]);
        acc[p][1] = _mm512_fmadd_ps(b, w1, acc[p][1]);
        acc[p][2] = _mm512_fmadd_ps(b, w2, acc[p][2]);
        acc[p][3] = _mm512_fmadd_ps(b, w3, acc[p][3]);
      }
    }
  }
#pragma GCC unroll 6
  for (int p = 0; p < P; p++)
#pragma GCC unroll 4
    for (int v = 0; v < 4; v++) _mm512_storeu_ps(yb[p] + 16 * v, acc[p][v]);
}

#define CF_TILE(P)                                                                              \
  __attribute__((target("avx512f"))) static void cf_tile_##P(                                  \
      const float* const* xb, const float* wb, float* const* yb, const int64_t* toff,            \
      const int64_t* tidx, int64_t ntaps, int64_t cb, int first) {                               \
    cf_tile(xb, wb, yb, toff, tidx, ntaps, cb, first, P);                                        \
  }
CF_TILE(1) CF_TILE(2) CF_TILE(3) CF_TILE(4) CF_TILE(5) CF_TILE(6)
typedef void cf_fn(const float* const*, const float*, float* const*, const int64_t*, const int64_t*,
                   int64_t, int64_t, int);
static cf_fn* const cf_tiles[PT + 1] = {0, cf_tile_1, cf_tile_2, cf_tile_3, cf_tile_4, cf_tile_5, cf_tile_6};

// transpose16 transposes the 16x16 block r[i][j] in place: at each level s one bit of the
// row index swaps with the same bit of the column index (two permutes per pair of rows).
__attribute__((target("avx512f"))) static inline void transpose16(__m512 r[16]) {
  for (int s = 8; s >= 1; s /= 2) {
    int lo[16], hi[16];
    for (int j = 0; j < 16; j++) {
      lo[j] = (j & s) ? 16 + j - s : j;  // row i: its own columns without bit s, row i+s's shifted down
      hi[j] = (j & s) ? 16 + j : j + s;  // row i+s: row i's columns with bit s, shifted up, and its own
    }
    const __m512i ilo = _mm512_loadu_si512(lo), ihi = _mm512_loadu_si512(hi);
    for (int i = 0; i < 16; i++) {
      if (i & s) continue;
      const __m512 a = r[i], b = r[i + s];
      r[i] = _mm512_permutex2var_ps(a, ilo, b);
      r[i + s] = _mm512_permutex2var_ps(a, ihi, b);
    }
  }
}

// dst[c][kk] = src[kk*C + c] for 64 output channels kk and cb input channels c (the
// transposed kernel [tap][K][C] of an input gradient): 16x16 block transposes when a block
// holds 16 channels, else one gather per 16 rows (scalar copies were slower still). With
// gathers only, the input gradient took 1.6-3.5x the forward's time at 512 channels on 4x4
// and 2x2 maps, where packing outweighs the few pixels; with the transposes 1.2-1.8x.
__attribute__((target("avx512f"))) static void cf_pack_transposed(float* dst, const float* src,
                                                                  int64_t C, int64_t cb) {
  if (cb == 16) {
    for (int64_t kb = 0; kb < 64; kb += 16) {
      __m512 r[16];
      for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + (kb + i) * C);
      transpose16(r);
      for (int c = 0; c < 16; c++) _mm512_store_ps(dst + c * 64 + kb, r[c]);
    }
    return;
  }
  const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                          _mm512_set1_epi32((int)C));
  for (int64_t c = 0; c < cb; c++)
    for (int64_t kk = 0; kk < 64; kk += 16)
      _mm512_store_ps(dst + c * 64 + kk, _mm512_i32gather_ps(rows, src + kk * C + c, 4));
}

// Packs the kernel block (output channels k0..k0+63, input channels c0..c0+cb-1) as
// wb[tap][c][64], from w [tap][C][K] or, transposed, [tap][K][C].
static void cf_pack(float* wb, const float* w, int64_t ntaps, int64_t C, int64_t K, int64_t k0,
                    int64_t c0, int64_t cb, int transposed) {
  for (int64_t t = 0; t < ntaps; t++) {
    float* dst = wb + t * cb * 64;
    if (!transposed) {
      for (int64_t c = 0; c < cb; c++) memcpy(dst + c * 64, w + (t * C + c0 + c) * K + k0, 64 * sizeof(float));
    } else {
      cf_pack_transposed(dst, w + (t * K + k0) * C + c0, C, cb);
    }
  }
}

static void* cf_run(void* arg) {
  const cf_job* a = arg;
  const int64_t ntaps = a->KH * a->KW;
  float* wb = aligned_alloc(64, (size_t)ntaps * CB * 64 * sizeof(float));
  if (wb == NULL) return (void*)1;
  for (int64_t k0 = a->k0; k0 < a->k1; k0 += 64) {
    for (int64_t c0 = 0; c0 < a->C; c0 += CB) {
      const int64_t cb = a->C - c0 < CB ? a->C - c0 : CB;
      cf_pack(wb, a->w, ntaps, a->C, a->K, k0, c0, cb, a->transposed);
      for (int64_t ti = a->p0; ti < a->p1; ti++) {
        const struct cf_tilespec* tl = &a->tiles[ti];
        const struct cf_class* cl = &a->classes[tl->cls];
        const float* xb[PT];
        float* yb[PT];
        for (int q = 0; q < tl->n; q++) {
          xb[q] = a->xp + tl->xoff[q] + c0;
          yb[q] = a->y + tl->yoff[q] + k0;
        }
        cf_tiles[tl->n](xb, wb, yb, cl->toff, cl->tidx, cl->nt, cb, c0 == 0);
      }
    }
  }
  free(wb);
  return NULL;
}

// The taps [*lo, *hi) of a kernel of size k whose input falls inside a map of size h, for
// output position o with padding p.
static void cf_valid(int64_t o, int64_t h, int64_t k, int64_t p, int64_t* lo, int64_t* hi) {
  *lo = p - o > 0 ? p - o : 0;
  *hi = h + p - o < k ? h + p - o : k;
  if (*hi < *lo) *hi = *lo;
}

// Groups the output pixels by the taps that reach into the map (one class per group), in
// tiles of up to PT, with the pixels' offsets worked out once per call. Returns the number
// of tiles written to tiles (room for M + CF_MAX_CLASSES); classes gets up to
// CF_MAX_CLASSES.
#define CF_MAX_CLASSES 64  // runs of rows (columns) with the same taps: at most 2*KH-1 (KW)
static int64_t cf_plan(struct cf_tilespec* tiles, struct cf_class* classes, int64_t N, int64_t H,
                       int64_t W, int64_t Ho, int64_t Wo, int64_t KH, int64_t KW, int64_t ph,
                       int64_t pw, int64_t C, int64_t K) {
  const int64_t Hp = H + 2 * ph, Wp = W + 2 * pw;
  int64_t nt = 0, ncls = 0;
  for (int64_t oy0 = 0; oy0 < Ho;) {
    int64_t ilo, ihi, oy1 = oy0 + 1, a, b;
    cf_valid(oy0, H, KH, ph, &ilo, &ihi);
    while (oy1 < Ho && (cf_valid(oy1, H, KH, ph, &a, &b), a == ilo && b == ihi)) oy1++;
    for (int64_t ox0 = 0; ox0 < Wo;) {
      int64_t jlo, jhi, ox1 = ox0 + 1;
      cf_valid(ox0, W, KW, pw, &jlo, &jhi);
      while (ox1 < Wo && (cf_valid(ox1, W, KW, pw, &a, &b), a == jlo && b == jhi)) ox1++;
      struct cf_class* cl = &classes[ncls];
      cl->nt = 0;
      for (int64_t i = ilo; i < ihi; i++)
        for (int64_t j = jlo; j < jhi; j++) {
          cl->toff[cl->nt] = (i * Wp + j) * C;
          cl->tidx[cl->nt++] = i * KW + j;
        }
      struct cf_tilespec cur = {.n = 0, .cls = (int32_t)ncls};
      ncls++;
      for (int64_t n = 0; n < N; n++)
        for (int64_t oy = oy0; oy < oy1; oy++)
          for (int64_t ox = ox0; ox < ox1; ox++) {
            cur.xoff[cur.n] = ((n * Hp + oy) * Wp + ox) * C;
            cur.yoff[cur.n++] = ((n * Ho + oy) * Wo + ox) * K;
            if (cur.n == PT) {
              tiles[nt++] = cur;
              cur.n = 0;
            }
          }
      if (cur.n > 0) tiles[nt++] = cur;
      ox0 = ox1;
    }
    oy0 = oy1;
  }
  return nt;
}



const char* vggkit_conv_fwd(const float* x, const float* w, float* y, int64_t N, int64_t H, int64_t W,
                            int64_t C, int64_t Ho, int64_t Wo, int64_t K, int64_t KH, int64_t KW,
                            int64_t ph, int64_t pw, int transposed, int threads) {
  if (K % 64 != 0) return "output channels must be a multiple of 64";
  if (KH * KW > 64 || KH > 16 || KW > 16) return "kernel larger than 64 taps or 16 wide";
  if (ph < 0 || pw < 0 || Ho != H + 2 * ph - KH + 1 || Wo != W + 2 * pw - KW + 1)
    return "shapes do not match a stride-1 convolution with this padding";
  const int64_t Hp = H + 2 * ph, Wp = W + 2 * pw;
  float* xp = malloc((size_t)(N * Hp * Wp * C) * sizeof(float));
  if (xp == NULL) return "out of memory";
  // Zero-padded copy of x: the tiles then need no bounds checks.
  memset(xp, 0, (size_t)(N * Hp * Wp * C) * sizeof(float));
  for (int64_t n = 0; n < N; n++)
    for (int64_t iy = 0; iy < H; iy++)
      memcpy(xp + ((n * Hp + iy + ph) * Wp + pw) * C, x + (n * H + iy) * W * C,
             (size_t)(W * C) * sizeof(float));
  const int64_t M = N * Ho * Wo;
  struct cf_tilespec* tiles = malloc((size_t)(M + CF_MAX_CLASSES) * sizeof(*tiles));
  struct cf_class* classes = malloc(CF_MAX_CLASSES * sizeof(*classes));
  if (tiles == NULL || classes == NULL) {
    free(xp);
    free(tiles);
    free(classes);
    return "out of memory";
  }
  const int64_t ntiles = cf_plan(tiles, classes, N, H, W, Ho, Wo, KH, KW, ph, pw, C, K);
  if (threads <= 0) threads = vggkit_threads();
  if (threads > VGGKIT_MAX_THREADS) threads = VGGKIT_MAX_THREADS;
  // Threads split the output channels first, then the pixels: each thread packs the kernel
  // blocks it uses, and a block packed by two threads costs its packing twice (with the
  // pixels split alone, packing was a fifth of the input gradient at 512 channels).
  const int64_t nkb = K / 64;
  const int kparts = nkb < threads ? (int)nkb : threads;
  int pparts = threads / kparts;
  if (pparts > ntiles) pparts = (int)ntiles;
  if (pparts < 1) pparts = 1;
  threads = kparts * pparts;
  cf_job jobs[VGGKIT_MAX_THREADS];
  void* results[VGGKIT_MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    const int kg = t / pparts, pp = t % pparts;
    jobs[t] = (cf_job){xp, w, y, ntiles * pp / pparts, ntiles * (pp + 1) / pparts, nkb * kg / kparts * 64,
                       nkb * (kg + 1) / kparts * 64, Hp, Wp, C, Ho, Wo, K, KH, KW, transposed, tiles, classes};
  }
  vggkit_run_parallel(cf_run, jobs, sizeof(cf_job), threads, results);
  int failed = 0;
  for (int t = 0; t < threads; t++) failed |= results[t] != NULL;
  free(xp);
  free(tiles);
  free(classes);
  return failed ? "out of memory" : NULL;
}
