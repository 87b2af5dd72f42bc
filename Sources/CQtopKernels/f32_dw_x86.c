/* x86 fp32 depthwise row-group microkernels (contract: qtop_fdw_rows in f32_internal.h; driver: f32_dw.c).
 * One vector of output columns × R ≤ 8 output rows per step: R independent accumulators hide the FMA latency, and
 * each weight broadcast serves all R rows; 3×3 and 5×5 are unrolled. Vectors whose taps all land inside the image
 * read the input rows with plain loads. An edge vector (masked mode) first copies the window rows' columns it
 * needs into a small zero-padded tile with two masked loads per row (masked loads neither fault nor read outside
 * [0, iw)), then runs the same plain-load code on the tile. The last vector of a row overlaps the one before it
 * (rows of ow ≥ V) or spills into the next row (short rows), so only the plane's last vector needs a partial store.
 * AVX2: ymm, 8 columns. AVX-512: zmm, 16 columns; rows of ≤ 8 columns go to the AVX2 kernel.
 * 3×3 / 5×5 at stride 1 and 3×3 at stride 2 (no dilation) take the row-reuse tiles below instead: each window row is
 * loaded once per tile and feeds every output row that reads it. */
#include "f32_internal.h"
#if defined(__x86_64__)
#include "f32_act_x86.h"
#include <string.h>

#define T_AVX2 __attribute__((target("avx2,fma")))
#define T_512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define INLINE static inline __attribute__((always_inline))
/* Window rows an edge tile holds at most (more: masked loads per tap instead). */
#define TILE_ROWS QTOP_FDW_S2_WINDOW

/* lanes j with 0 <= c0 + j < iw */
INLINE T_AVX2 __m256i mask8(int c0, int iw) {
    __m256i c = _mm256_add_epi32(_mm256_set1_epi32(c0), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), c), _mm256_cmpgt_epi32(_mm256_set1_epi32(iw), c));
}

/* acc[i] = bias + Σ taps for output columns [x0, x0 + 8) of rows i < R. Tap (ky, kx) of row i reads
 * rows[i·rs + ky·rd] + xo + koff[kx] (xo = x0 on the input rows, -koff_lo on a tile); edge: masked loads of input
 * columns x0 + koff[kx] + lane. */
INLINE T_AVX2 void block8(const qtop_fdw_rows *j, const float *const *rows, const int *koff, int xo, int x0,
                          const int R, const int KH, const int KW, const int edge, __m256 *acc) {
    const int kh = KH ? KH : j->kh, kw = KW ? KW : j->kw;
    for (int i = 0; i < R; i++) acc[i] = _mm256_set1_ps(j->bias);
    for (int ky = 0; ky < kh; ky++) {
        const float *p[QTOP_FDW_MAX_R];
        for (int i = 0; i < R; i++) p[i] = rows[i * j->rs + ky * j->rd] + xo;
        const float *w = j->w + ky * kw;
        for (int kx = 0; kx < kw; kx++) {
            const __m256 wv = _mm256_broadcast_ss(w + kx);
            const int k = koff[kx];
            if (edge) {
                const __m256i m = mask8(x0 + k, j->iw);
                for (int i = 0; i < R; i++) acc[i] = _mm256_fmadd_ps(wv, _mm256_maskload_ps(p[i] + k, m), acc[i]);
            } else {
                for (int i = 0; i < R; i++) acc[i] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p[i] + k), acc[i]);
            }
        }
    }
}

/* Output row i, columns [x0, x0 + 8): act(acc (+ res)); past `left` (the plane's last vector) only its own row. */
INLINE T_AVX2 void store8_row(const qtop_fdw_rows *j, int i, int x0, __m256 v) {
    int64_t pos = (int64_t)i * j->ow + x0;
    if (pos + 8 <= j->left) {
        if (j->res) v = _mm256_add_ps(v, _mm256_loadu_ps(j->res + pos));
        _mm256_storeu_ps(j->out + pos, qtop__act256(v, j->act));
        return;
    }
    int n = j->ow - x0 < 8 ? j->ow - x0 : 8;
    if (j->res) v = _mm256_add_ps(v, _mm256_maskload_ps(j->res + pos, mask8(0, n)));
    float t[8];   /* no masked store: it is microcoded on AMD cores */
    _mm256_storeu_ps(t, qtop__act256(v, j->act));
    memcpy(j->out + pos, t, sizeof(float) * (size_t)n);
}

INLINE T_AVX2 void store8(const qtop_fdw_rows *j, int x0, const int R, __m256 *acc) {
    for (int i = 0; i < R; i++) {
        int64_t pos = (int64_t)i * j->ow + x0;
        __m256 v = acc[i];
        if (pos + 8 <= j->left) {
            if (j->res) v = _mm256_add_ps(v, _mm256_loadu_ps(j->res + pos));
            _mm256_storeu_ps(j->out + pos, qtop__act256(v, j->act));
            continue;
        }
        int n = j->ow - x0 < 8 ? j->ow - x0 : 8;   /* the plane's last vector: its own row only */
        if (j->res) v = _mm256_add_ps(v, _mm256_maskload_ps(j->res + pos, mask8(0, n)));
        float t[8];   /* no masked store: it is microcoded on AMD cores */
        _mm256_storeu_ps(t, qtop__act256(v, j->act));
        memcpy(j->out + pos, t, sizeof(float) * (size_t)n);
    }
}

INLINE T_AVX2 void rows8(const qtop_fdw_rows *j, const int R, const int KH, const int KW) {
    const int xlast = j->ow > 8 ? j->ow - 8 : 0, span = j->koff_hi - j->koff_lo;
    const int nwin = (R - 1) * j->rs + ((KH ? KH : j->kh) - 1) * j->rd + 1;
    const int tiled = span <= 8 && nwin <= TILE_ROWS;
    for (int x0 = 0;; x0 += 8) {
        if (x0 > xlast) x0 = xlast;
        __m256 acc[QTOP_FDW_MAX_R];
        if (!j->masked || (x0 + j->koff_lo >= 0 && x0 + 7 + j->koff_hi < j->iw)) {
            block8(j, j->row, j->koff, x0, x0, R, KH, KW, 0, acc);
        } else if (tiled) {
            float tile[TILE_ROWS][16];
            const float *tr[TILE_ROWS];
            const int c0 = x0 + j->koff_lo;
            const __m256i m0 = mask8(c0, j->iw), m1 = mask8(c0 + 8, j->iw);
            for (int r = 0; r < nwin; r++) {
                _mm256_storeu_ps(tile[r], _mm256_maskload_ps(j->row[r] + c0, m0));
                _mm256_storeu_ps(tile[r] + 8, _mm256_maskload_ps(j->row[r] + c0 + 8, m1));
                tr[r] = tile[r];
            }
            block8(j, tr, j->koff, -j->koff_lo, x0, R, KH, KW, 0, acc);
        } else {
            block8(j, j->row, j->koff, x0, x0, R, KH, KW, 1, acc);
        }
        store8(j, x0, R, acc);
        if (x0 == xlast) break;
    }
}

/* Row reuse at stride 1 (rs = rd = 1, 3×3 / 5×5): a tile of V ≤ 2 vectors × R output rows (R·V ≤ 8 accumulators)
 * walks the window rows once: each window row's tap vectors are loaded once and multiplied into every output row
 * that reads them (output row i takes window row i + ky), so a 3×3 tile loads V·3 vectors per window row for up to
 * 3·V FMAs instead of one load per FMA. Output row i still sums bias, then the taps in (ky, kx) order: the same
 * bits as block8 / block16. Edge vectors (masked mode) load each tap through a mask: there are few loads here, and a
 * tile copy re-read at an offset right after its stores stalls on store forwarding. Rows shorter than the tile
 * (unmasked mode only: the driver's padded planes) store row by row, so the columns a row's last vector spills into
 * the next row are overwritten by that row's own stores. */
#define REUSE_TILE(NAME, VEC, W, T, LOADU, SET1, FMADD, MASKLOAD)                                                     \
    INLINE T void NAME(const qtop_fdw_rows *j, int x0, const int R, const int V, const int KH, const int KW,          \
                       const int edge, VEC *a0, VEC *a1) {                                                            \
        for (int i = 0; i < R; i++) a0[i] = a1[i] = SET1(j->bias);                                                    \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < R + KH - 1; r++) {                                     \
            const float *p = j->row[r] + x0;                                                                          \
            _Pragma("clang loop unroll(full)") for (int kx = 0; kx < KW; kx++) {                                      \
                const int k = j->koff[kx];                                                                            \
                VEC v0 = edge ? MASKLOAD(p + k, x0 + k) : LOADU(p + k), v1 = v0;                                      \
                if (V == 2) v1 = edge ? MASKLOAD(p + k + W, x0 + k + W) : LOADU(p + k + W);                           \
                /* in registers: folded into each FMA, a vector would be loaded once per FMA */                      \
                __asm__("" : "+v"(v0), "+v"(v1));                                                                     \
                _Pragma("clang loop unroll(full)") for (int ky = 0; ky < KH; ky++) {                                  \
                    const int i = r - ky;                                                                             \
                    if (i < 0 || i >= R) continue;                                                                    \
                    const VEC wv = SET1(j->w[ky * KW + kx]);                                                          \
                    a0[i] = FMADD(wv, v0, a0[i]);                                                                     \
                    if (V == 2) a1[i] = FMADD(wv, v1, a1[i]);                                                         \
                }                                                                                                     \
            }                                                                                                         \
        }                                                                                                             \
    }

INLINE T_AVX2 __m256 mload8(const float *p, int c0, int iw) { return _mm256_maskload_ps(p, mask8(c0, iw)); }
#define MLOAD8(p, c0) mload8(p, c0, j->iw)
REUSE_TILE(reuse8, __m256, 8, T_AVX2, _mm256_loadu_ps, _mm256_set1_ps, _mm256_fmadd_ps, MLOAD8)

INLINE T_AVX2 void rows8r(const qtop_fdw_rows *j, const int R, const int V, const int KH, const int KW) {
    const int xlast = j->ow > 8 * V ? j->ow - 8 * V : 0;
    for (int x0 = 0;; x0 += 8 * V) {
        if (x0 > xlast) x0 = xlast;
        __m256 a0[8], a1[8];
        if (!j->masked || (x0 + j->koff_lo >= 0 && x0 + 8 * V - 1 + j->koff_hi < j->iw))
            reuse8(j, x0, R, V, KH, KW, 0, a0, a1);
        else
            reuse8(j, x0, R, V, KH, KW, 1, a0, a1);
        for (int i = 0; i < R; i++) {
            store8_row(j, i, x0, a0[i]);
            if (V == 2) store8_row(j, i, x0 + 8, a1[i]);
        }
        if (x0 == xlast) break;
    }
}

/* Stride-2 columns (sx = 2): per vector, the window rows' input columns [c0, c0 + 32) are loaded (masked) and split
 * into even and odd columns in a tile, so every tap is a plain load from it: tap column d = koff[kx] - koff_lo reads
 * phase d & 1 at offset d >> 1. The split costs two shuffles per 8 columns and serves every tap and row reading it. */
INLINE T_AVX2 __m256 evens8(__m256 a, __m256 b) {
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
}
INLINE T_AVX2 __m256 odds8(__m256 a, __m256 b) {
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}

INLINE T_AVX2 void rows8_s2(const qtop_fdw_rows *j, const int R, const int KH, const int KW) {
    const int xlast = j->ow > 8 ? j->ow - 8 : 0, kw = KW ? KW : j->kw;
    const int nwin = (R - 1) * j->rs + ((KH ? KH : j->kh) - 1) * j->rd + 1;
    int toff[QTOP_FDW_S2_SPAN + 1];
    for (int kx = 0; kx < kw; kx++) {
        int d = j->koff[kx] - j->koff_lo;
        toff[kx] = (d & 1) * 16 + (d >> 1);
    }
    float tile[TILE_ROWS][32];
    const float *tr[TILE_ROWS];
    for (int r = 0; r < nwin; r++) tr[r] = tile[r];
    for (int x0 = 0;; x0 += 8) {
        if (x0 > xlast) x0 = xlast;
        const int c0 = 2 * x0 + j->koff_lo;
        if (c0 >= 0 && c0 + 32 <= j->iw) {   /* inside the image: plain loads (masked ones cost more on wide rows) */
            for (int r = 0; r < nwin; r++) {
                const float *p = j->row[r] + c0;
                __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
                __m256 c = _mm256_loadu_ps(p + 16), d = _mm256_loadu_ps(p + 24);
                _mm256_storeu_ps(tile[r], evens8(a, b));
                _mm256_storeu_ps(tile[r] + 8, evens8(c, d));
                _mm256_storeu_ps(tile[r] + 16, odds8(a, b));
                _mm256_storeu_ps(tile[r] + 24, odds8(c, d));
            }
        } else {
            const __m256i m0 = mask8(c0, j->iw), m1 = mask8(c0 + 8, j->iw), m2 = mask8(c0 + 16, j->iw),
                          m3 = mask8(c0 + 24, j->iw);
            for (int r = 0; r < nwin; r++) {
                const float *p = j->row[r] + c0;
                __m256 a = _mm256_maskload_ps(p, m0), b = _mm256_maskload_ps(p + 8, m1);
                __m256 c = _mm256_maskload_ps(p + 16, m2), d = _mm256_maskload_ps(p + 24, m3);
                _mm256_storeu_ps(tile[r], evens8(a, b));
                _mm256_storeu_ps(tile[r] + 8, evens8(c, d));
                _mm256_storeu_ps(tile[r] + 16, odds8(a, b));
                _mm256_storeu_ps(tile[r] + 24, odds8(c, d));
            }
        }
        __m256 acc[QTOP_FDW_MAX_R];
        block8(j, tr, toff, 0, x0, R, KH, KW, 0, acc);
        store8(j, x0, R, acc);
        if (x0 == xlast) break;
    }
}

/* Stride 2 in both directions, 3×3 / 5×5, no dilation: row reuse as at stride 1 (window row r feeds output rows
 * i = (r - ky) / 2), with the column split done in registers. shuffle_ps(a, b, 0x88 / 0xDD) takes even / odd columns
 * within each 128-bit lane, which leaves the outputs in the same permuted order for every tap (8 lanes:
 * 0 1 4 5 2 3 6 7); the accumulators stay in that order and one permute per row restores it before the store. Tap
 * kx reads columns c0 + kx + 2·lane: the pair loaded at c0 + (kx & ~1), evens for even kx, odds for odd. Same sums
 * in the same order as block8 on the split tile: the same bits. */
INLINE T_AVX2 void s2reuse8(const qtop_fdw_rows *j, int x0, const int R, const int K, const int edge, __m256 *acc) {
    const int c0 = 2 * x0 + j->koff_lo;
    for (int i = 0; i < R; i++) acc[i] = _mm256_set1_ps(j->bias);
    _Pragma("clang loop unroll(full)") for (int r = 0; r < 2 * (R - 1) + K; r++) {
        const float *p = j->row[r] + c0;
        __m256 lo[3], hi[3];
        _Pragma("clang loop unroll(full)") for (int b = 0; b < K; b += 2) {
            lo[b / 2] = edge ? mload8(p + b, c0 + b, j->iw) : _mm256_loadu_ps(p + b);
            hi[b / 2] = edge ? mload8(p + b + 8, c0 + b + 8, j->iw) : _mm256_loadu_ps(p + b + 8);
        }
        _Pragma("clang loop unroll(full)") for (int kx = 0; kx < K; kx++) {
            __m256 t = (kx & 1) ? _mm256_shuffle_ps(lo[kx / 2], hi[kx / 2], 0xDD)
                                : _mm256_shuffle_ps(lo[kx / 2], hi[kx / 2], 0x88);
            _Pragma("clang loop unroll(full)") for (int ky = 0; ky < K; ky++) {
                const int d = r - ky;
                if (d < 0 || (d & 1) || d / 2 >= R) continue;
                acc[d / 2] = _mm256_fmadd_ps(_mm256_set1_ps(j->w[ky * K + kx]), t, acc[d / 2]);
            }
        }
    }
}

INLINE T_AVX2 void rows8_s2r(const qtop_fdw_rows *j, const int R, const int K) {
    const int xlast = j->ow > 8 ? j->ow - 8 : 0;
    for (int x0 = 0;; x0 += 8) {
        if (x0 > xlast) x0 = xlast;
        const int c0 = 2 * x0 + j->koff_lo;
        __m256 acc[8];
        if (c0 >= 0 && c0 + ((K - 1) & ~1) + 16 <= j->iw) s2reuse8(j, x0, R, K, 0, acc);
        else s2reuse8(j, x0, R, K, 1, acc);
        for (int i = 0; i < R; i++)
            store8_row(j, i, x0, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(acc[i]), 0xD8)));
        if (x0 == xlast) break;
    }
}

/* 3×3 and 5×5 unrolled, other sizes in loops; R (rows of this group) fixed at compile time */
#define KSIZES(rows, j, R)                                                                                            \
    do {                                                                                                             \
        if (j->kh == 3 && j->kw == 3) rows(j, R, 3, 3);                                                              \
        else if (j->kh == 5 && j->kw == 5) rows(j, R, 5, 5);                                                         \
        else rows(j, R, 0, 0);                                                                                       \
    } while (0)
#define RSWITCH(rows, j)                                                                                              \
    switch (j->R) {                                                                                                  \
    case 1: KSIZES(rows, j, 1); break;                                                                               \
    case 2: KSIZES(rows, j, 2); break;                                                                               \
    case 3: KSIZES(rows, j, 3); break;                                                                               \
    case 4: KSIZES(rows, j, 4); break;                                                                               \
    case 5: KSIZES(rows, j, 5); break;                                                                               \
    case 6: KSIZES(rows, j, 6); break;                                                                               \
    case 7: KSIZES(rows, j, 7); break;                                                                               \
    default: KSIZES(rows, j, 8); break;                                                                              \
    }

/* The row-reuse tile's cases: stride 1 with unit row stride and dilation, 3×3 and 5×5; masked rows only when at
 * least one tile fits in a row (shorter rows come padded from the driver). Two vectors when a row needs more than
 * one; a group of more rows than the tile holds runs as several tiles. */
#define REUSE_OK(j, W) ((j)->sx == 1 && (j)->rs == 1 && (j)->rd == 1 && (j)->kh == (j)->kw &&                        \
                        ((j)->kh == 3 || (j)->kh == 5) && (!(j)->masked || (j)->ow >= ((j)->ow > (W) ? 2 : 1) * (W)))
#define REUSE_K(rows, j, R, V)                                                                                        \
    do {                                                                                                             \
        if (j->kh == 3) rows(j, R, V, 3, 3);                                                                         \
        else rows(j, R, V, 5, 5);                                                                                    \
    } while (0)
#define REUSE_RUN(rows, j0, W)                                                                                        \
    do {                                                                                                             \
        const int V = (j0)->ow > (W) ? 2 : 1, rmax = 8 / V;                                                          \
        for (int g = 0; g < (j0)->R; g += rmax) {                                                                     \
            qtop_fdw_rows t = *(j0);                                                                                 \
            const int n = (j0)->R - g < rmax ? (j0)->R - g : rmax;                                                   \
            t.row = (j0)->row + g;                                                                                   \
            t.out = (j0)->out + (int64_t)g * (j0)->ow;                                                               \
            t.res = (j0)->res ? (j0)->res + (int64_t)g * (j0)->ow : NULL;                                            \
            t.left = (j0)->left - (int64_t)g * (j0)->ow;                                                             \
            const qtop_fdw_rows *j = &t;                                                                             \
            if (V == 2) switch (n) {                                                                                 \
                case 1: REUSE_K(rows, j, 1, 2); break;                                                               \
                case 2: REUSE_K(rows, j, 2, 2); break;                                                               \
                case 3: REUSE_K(rows, j, 3, 2); break;                                                               \
                default: REUSE_K(rows, j, 4, 2); break;                                                              \
                }                                                                                                    \
            else switch (n) {                                                                                        \
                case 1: REUSE_K(rows, j, 1, 1); break;                                                               \
                case 2: REUSE_K(rows, j, 2, 1); break;                                                               \
                case 3: REUSE_K(rows, j, 3, 1); break;                                                               \
                case 4: REUSE_K(rows, j, 4, 1); break;                                                               \
                case 5: REUSE_K(rows, j, 5, 1); break;                                                               \
                case 6: REUSE_K(rows, j, 6, 1); break;                                                               \
                case 7: REUSE_K(rows, j, 7, 1); break;                                                               \
                default: REUSE_K(rows, j, 8, 1); break;                                                              \
                }                                                                                                    \
        }                                                                                                            \
    } while (0)

/* The stride-2 row-reuse tile's cases (R ≤ 8 rows, one vector each). */
/* 3×3 only: at 5×5 (six loads and five splits per window row) it measured slower than the split tile. */
#define S2REUSE_OK(j) ((j)->sx == 2 && (j)->rs == 2 && (j)->rd == 1 && (j)->kh == 3 && (j)->kw == 3 &&              \
                       (j)->koff[2] - (j)->koff[0] == 2)
#define S2REUSE_RUN(rows, j)                                                                                          \
    do {                                                                                                             \
        switch ((j)->R) {                                                                                            \
        case 1: rows(j, 1, 3); break;                                                                                \
        case 2: rows(j, 2, 3); break;                                                                                \
        case 3: rows(j, 3, 3); break;                                                                                \
        case 4: rows(j, 4, 3); break;                                                                                \
        case 5: rows(j, 5, 3); break;                                                                                \
        case 6: rows(j, 6, 3); break;                                                                                \
        case 7: rows(j, 7, 3); break;                                                                                \
        default: rows(j, 8, 3); break;                                                                               \
        }                                                                                                            \
    } while (0)

/* One function per kernel family: inlined into one entry point, the families' code generation disturbed each other
 * (the unchanged 5×5 stride-2 tile measured ~20% slower). */
#define NOINLINE static __attribute__((noinline))
NOINLINE T_AVX2 void s2reuse_avx2(const qtop_fdw_rows *j) { S2REUSE_RUN(rows8_s2r, j); }
NOINLINE T_AVX2 void s2tile_avx2(const qtop_fdw_rows *j) { RSWITCH(rows8_s2, j) }
NOINLINE T_AVX2 void reuse_avx2(const qtop_fdw_rows *j) { REUSE_RUN(rows8r, j, 8); }
NOINLINE T_AVX2 void rows_avx2(const qtop_fdw_rows *j) { RSWITCH(rows8, j) }

T_AVX2 void qtop__f32_dw_rows_avx2(const qtop_fdw_rows *j) {
    if (S2REUSE_OK(j)) s2reuse_avx2(j);
    else if (j->sx == 2) s2tile_avx2(j);
    /* 3×3 only on ymm: 5×5's 25 weights do not fit beside the accumulators in 16 registers (measured slower) */
    else if (j->kh == 3 && REUSE_OK(j, 8)) reuse_avx2(j);
    else rows_avx2(j);
}

/* lanes j with 0 <= c0 + j < iw */
INLINE __mmask16 mask16(int c0, int iw) {
    int lo = c0 < 0 ? -c0 : 0, hi = iw - c0;
    if (hi > 16) hi = 16;
    if (lo >= hi) return 0;
    return (__mmask16)((0xFFFFu >> (16 - hi)) & (0xFFFFu << lo));
}

INLINE T_512 void block16(const qtop_fdw_rows *j, const float *const *rows, const int *koff, int xo, int x0,
                          const int R, const int KH, const int KW, const int edge, __m512 *acc) {
    const int kh = KH ? KH : j->kh, kw = KW ? KW : j->kw;
    for (int i = 0; i < R; i++) acc[i] = _mm512_set1_ps(j->bias);
    for (int ky = 0; ky < kh; ky++) {
        const float *p[QTOP_FDW_MAX_R];
        for (int i = 0; i < R; i++) p[i] = rows[i * j->rs + ky * j->rd] + xo;
        const float *w = j->w + ky * kw;
        for (int kx = 0; kx < kw; kx++) {
            const __m512 wv = _mm512_set1_ps(w[kx]);
            const int k = koff[kx];
            if (edge) {
                const __mmask16 m = mask16(x0 + k, j->iw);
                for (int i = 0; i < R; i++) acc[i] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, p[i] + k), acc[i]);
            } else {
                for (int i = 0; i < R; i++) acc[i] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p[i] + k), acc[i]);
            }
        }
    }
}

INLINE T_512 void store16_row(const qtop_fdw_rows *j, int i, int x0, __m512 v) {
    int64_t pos = (int64_t)i * j->ow + x0;
    if (pos + 16 <= j->left) {
        if (j->res) v = _mm512_add_ps(v, _mm512_loadu_ps(j->res + pos));
        _mm512_storeu_ps(j->out + pos, qtop__act512(v, j->act));
        return;
    }
    __mmask16 m = mask16(0, j->ow - x0);   /* the plane's last vector: its own row only */
    if (j->res) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, j->res + pos));
    _mm512_mask_storeu_ps(j->out + pos, m, qtop__act512(v, j->act));
}

INLINE T_512 void store16(const qtop_fdw_rows *j, int x0, const int R, __m512 *acc) {
    for (int i = 0; i < R; i++) store16_row(j, i, x0, acc[i]);
}

INLINE T_512 __m512 mload16(const float *p, int c0, int iw) { return _mm512_maskz_loadu_ps(mask16(c0, iw), p); }
#define MLOAD16(p, c0) mload16(p, c0, j->iw)
REUSE_TILE(reuse16, __m512, 16, T_512, _mm512_loadu_ps, _mm512_set1_ps, _mm512_fmadd_ps, MLOAD16)

INLINE T_512 void rows16r(const qtop_fdw_rows *j, const int R, const int V, const int KH, const int KW) {
    const int xlast = j->ow > 16 * V ? j->ow - 16 * V : 0;
    for (int x0 = 0;; x0 += 16 * V) {
        if (x0 > xlast) x0 = xlast;
        __m512 a0[8], a1[8];
        if (!j->masked || (x0 + j->koff_lo >= 0 && x0 + 16 * V - 1 + j->koff_hi < j->iw))
            reuse16(j, x0, R, V, KH, KW, 0, a0, a1);
        else
            reuse16(j, x0, R, V, KH, KW, 1, a0, a1);
        for (int i = 0; i < R; i++) {
            store16_row(j, i, x0, a0[i]);
            if (V == 2) store16_row(j, i, x0 + 16, a1[i]);
        }
        if (x0 == xlast) break;
    }
}

INLINE T_512 void rows16(const qtop_fdw_rows *j, const int R, const int KH, const int KW) {
    const int xlast = j->ow > 16 ? j->ow - 16 : 0, span = j->koff_hi - j->koff_lo;
    const int nwin = (R - 1) * j->rs + ((KH ? KH : j->kh) - 1) * j->rd + 1;
    const int tiled = span <= 16 && nwin <= TILE_ROWS;
    for (int x0 = 0;; x0 += 16) {
        if (x0 > xlast) x0 = xlast;
        __m512 acc[QTOP_FDW_MAX_R];
        if (!j->masked || (x0 + j->koff_lo >= 0 && x0 + 15 + j->koff_hi < j->iw)) {
            block16(j, j->row, j->koff, x0, x0, R, KH, KW, 0, acc);
        } else if (tiled) {
            float tile[TILE_ROWS][32];
            const float *tr[TILE_ROWS];
            const int c0 = x0 + j->koff_lo;
            const __mmask16 m0 = mask16(c0, j->iw), m1 = mask16(c0 + 16, j->iw);
            for (int r = 0; r < nwin; r++) {
                _mm512_storeu_ps(tile[r], _mm512_maskz_loadu_ps(m0, j->row[r] + c0));
                _mm512_storeu_ps(tile[r] + 16, _mm512_maskz_loadu_ps(m1, j->row[r] + c0 + 16));
                tr[r] = tile[r];
            }
            block16(j, tr, j->koff, -j->koff_lo, x0, R, KH, KW, 0, acc);
        } else {
            block16(j, j->row, j->koff, x0, x0, R, KH, KW, 1, acc);
        }
        store16(j, x0, R, acc);
        if (x0 == xlast) break;
    }
}

INLINE T_512 void rows16_s2(const qtop_fdw_rows *j, const int R, const int KH, const int KW) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    const int xlast = j->ow > 16 ? j->ow - 16 : 0, kw = KW ? KW : j->kw;
    const int nwin = (R - 1) * j->rs + ((KH ? KH : j->kh) - 1) * j->rd + 1;
    int toff[QTOP_FDW_S2_SPAN + 1];
    for (int kx = 0; kx < kw; kx++) {
        int d = j->koff[kx] - j->koff_lo;
        toff[kx] = (d & 1) * 32 + (d >> 1);
    }
    float tile[TILE_ROWS][64];
    const float *tr[TILE_ROWS];
    for (int r = 0; r < nwin; r++) tr[r] = tile[r];
    for (int x0 = 0;; x0 += 16) {
        if (x0 > xlast) x0 = xlast;
        const int c0 = 2 * x0 + j->koff_lo;
        const __mmask16 m0 = mask16(c0, j->iw), m1 = mask16(c0 + 16, j->iw), m2 = mask16(c0 + 32, j->iw),
                        m3 = mask16(c0 + 48, j->iw);
        for (int r = 0; r < nwin; r++) {
            const float *p = j->row[r] + c0;
            __m512 a = _mm512_maskz_loadu_ps(m0, p), b = _mm512_maskz_loadu_ps(m1, p + 16);
            __m512 c = _mm512_maskz_loadu_ps(m2, p + 32), d = _mm512_maskz_loadu_ps(m3, p + 48);
            _mm512_storeu_ps(tile[r], _mm512_permutex2var_ps(a, even, b));
            _mm512_storeu_ps(tile[r] + 16, _mm512_permutex2var_ps(c, even, d));
            _mm512_storeu_ps(tile[r] + 32, _mm512_permutex2var_ps(a, odd, b));
            _mm512_storeu_ps(tile[r] + 48, _mm512_permutex2var_ps(c, odd, d));
        }
        __m512 acc[QTOP_FDW_MAX_R];
        block16(j, tr, toff, 0, x0, R, KH, KW, 0, acc);
        store16(j, x0, R, acc);
        if (x0 == xlast) break;
    }
}

/* s2reuse8 on zmm: shuffle_ps splits within 128-bit lanes, so the outputs sit in the order
 * 0 1 8 9 2 3 10 11 4 5 12 13 6 7 14 15 until one permute of 64-bit pairs per row puts them back. */
INLINE T_512 void s2reuse16(const qtop_fdw_rows *j, int x0, const int R, const int edge, __m512 *acc) {
    const int c0 = 2 * x0 + j->koff_lo;
    for (int i = 0; i < R; i++) acc[i] = _mm512_set1_ps(j->bias);
    _Pragma("clang loop unroll(full)") for (int r = 0; r < 2 * (R - 1) + 3; r++) {
        const float *p = j->row[r] + c0;
        __m512 lo[2], hi[2];
        _Pragma("clang loop unroll(full)") for (int b = 0; b < 3; b += 2) {
            lo[b / 2] = edge ? mload16(p + b, c0 + b, j->iw) : _mm512_loadu_ps(p + b);
            hi[b / 2] = edge ? mload16(p + b + 16, c0 + b + 16, j->iw) : _mm512_loadu_ps(p + b + 16);
        }
        _Pragma("clang loop unroll(full)") for (int kx = 0; kx < 3; kx++) {
            __m512 t = (kx & 1) ? _mm512_shuffle_ps(lo[kx / 2], hi[kx / 2], 0xDD)
                                : _mm512_shuffle_ps(lo[kx / 2], hi[kx / 2], 0x88);
            _Pragma("clang loop unroll(full)") for (int ky = 0; ky < 3; ky++) {
                const int d = r - ky;
                if (d < 0 || (d & 1) || d / 2 >= R) continue;
                acc[d / 2] = _mm512_fmadd_ps(_mm512_set1_ps(j->w[ky * 3 + kx]), t, acc[d / 2]);
            }
        }
    }
}

INLINE T_512 void rows16_s2r(const qtop_fdw_rows *j, const int R, const int K) {
    (void)K;
    const __m512i back = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
    const int xlast = j->ow > 16 ? j->ow - 16 : 0;
    for (int x0 = 0;; x0 += 16) {
        if (x0 > xlast) x0 = xlast;
        const int c0 = 2 * x0 + j->koff_lo;
        __m512 acc[8];
        if (c0 >= 0 && c0 + 2 + 32 <= j->iw) s2reuse16(j, x0, R, 0, acc);
        else s2reuse16(j, x0, R, 1, acc);
        for (int i = 0; i < R; i++)
            store16_row(j, i, x0, _mm512_castpd_ps(_mm512_permutexvar_pd(back, _mm512_castps_pd(acc[i]))));
        if (x0 == xlast) break;
    }
}

NOINLINE T_512 void s2reuse_avx512(const qtop_fdw_rows *j) { S2REUSE_RUN(rows16_s2r, j); }
NOINLINE T_512 void s2tile_avx512(const qtop_fdw_rows *j) { RSWITCH(rows16_s2, j) }
NOINLINE T_512 void reuse_avx512(const qtop_fdw_rows *j) { REUSE_RUN(rows16r, j, 16); }
NOINLINE T_512 void rows_avx512(const qtop_fdw_rows *j) { RSWITCH(rows16, j) }

T_512 void qtop__f32_dw_rows_avx512(const qtop_fdw_rows *j) {
    if (j->ow <= 8) { qtop__f32_dw_rows_avx2(j); return; }   /* 7×7 planes: half a zmm would idle */
    if (S2REUSE_OK(j)) s2reuse_avx512(j);
    else if (j->sx == 2) s2tile_avx512(j);
    else if (REUSE_OK(j, 16)) reuse_avx512(j);
    else rows_avx512(j);
}
#endif
