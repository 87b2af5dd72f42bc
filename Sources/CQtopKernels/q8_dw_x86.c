/* x86-64 int8 depthwise microkernels. Taps are paired vertically — (ky, kx) with (ky+1, kx), the last row of an
 * odd kernel with a zero tap — so that one pair vector, built once per input column, serves every output pixel of
 * the run whose window covers that column (three of them for a 3×3 at stride 1), instead of being rebuilt per
 * pixel. A pair vector holds 8 channels (ymm) as s16 (x_ky, x_ky+1) pairs; vpmaddwd against the packed (w_ky,
 * w_ky+1) pairs gives exact s32 partial sums (|x·w| ≤ 255·128, two of them fit easily). A run of up to 8 output
 * pixels keeps its accumulators and the row pair's weights in registers; columns outside the image are skipped
 * (only runs that touch the left or right edge take the checked variant). Weight layout: qtop__q8_dw_widx. */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#include "isa_config.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define T_AVX2 __attribute__((target("avx2,fma")))
#define INL static inline __attribute__((always_inline))

/* 8 channels of two vertically adjacent taps as s16 pairs (x_a, x_b), channels in order. */
INL T_AVX2 __m256i dw_pair8(const uint8_t *a, const uint8_t *b, const int sgn) {
    const __m128i u = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)a), _mm_loadl_epi64((const __m128i *)b));
    return sgn ? _mm256_cvtepi8_epi16(u) : _mm256_cvtepu8_epi16(u);
}

/* 8 channels of one tap widened to s32: the pair (x, 0) for u8, (x, 0 or -1) for s8 — read against a weight pair
 * (w, 0), the high half never contributes. */
INL T_AVX2 __m256i dw_one8(const uint8_t *a, const int sgn) {
    const __m128i u = _mm_loadl_epi64((const __m128i *)a);
    return sgn ? _mm256_cvtepi8_epi32(u) : _mm256_cvtepu8_epi32(u);
}

/* One 8-channel block of R output pixels (pixel j reads input columns ix0 + j·S + kx, kx < KW): acc rows cp apart.
 * rows[ky] + cb is input row ky of the window (a zero row above / below the image) at this block's first channel.
 * CHECK: skip columns outside [0, win) (runs at the left / right edge). Pixels j < skip are not stored. */
INL T_AVX2 void dw_block8(const uint8_t *const *rows, int cb, int kh, int64_t ic, int ix0, int win, const int16_t *w,
                          int64_t pstride, int32_t *acc, int64_t cp, int skip, const int R, const int KW, const int S,
                          const int SGN, const int CHECK) {
    __m256i a[8];
#pragma clang loop unroll(full)
    for (int j = 0; j < R; j++) a[j] = _mm256_setzero_si256();
    const int span = (R - 1) * S + KW;
    for (int ky = 0; ky < kh; ky += 2, w += KW * pstride) {
        __m256i W[5];
#pragma clang loop unroll(full)
        for (int kx = 0; kx < KW; kx++) W[kx] = _mm256_loadu_si256((const __m256i *)(w + kx * pstride));
        const uint8_t *ra = rows[ky] + (int64_t)ix0 * ic + cb;
        if (ky + 1 < kh) {
            const uint8_t *rb = rows[ky + 1] + (int64_t)ix0 * ic + cb;
#pragma clang loop unroll(full)
            for (int col = 0; col < span; col++) {
                if (CHECK && (ix0 + col < 0 || ix0 + col >= win)) continue;
                const __m256i p = dw_pair8(ra + col * ic, rb + col * ic, SGN);
#pragma clang loop unroll(full)
                for (int j = 0; j < R; j++) {
                    const int kx = col - j * S;
                    if (kx >= 0 && kx < KW) a[j] = _mm256_add_epi32(a[j], _mm256_madd_epi16(p, W[kx]));
                }
            }
        } else {
#pragma clang loop unroll(full)
            for (int col = 0; col < span; col++) {
                if (CHECK && (ix0 + col < 0 || ix0 + col >= win)) continue;
                const __m256i p = dw_one8(ra + col * ic, SGN);
#pragma clang loop unroll(full)
                for (int j = 0; j < R; j++) {
                    const int kx = col - j * S;
                    if (kx >= 0 && kx < KW) a[j] = _mm256_add_epi32(a[j], _mm256_madd_epi16(p, W[kx]));
                }
            }
        }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < R; j++)
        if (j >= skip) _mm256_storeu_si256((__m256i *)(acc + j * cp), a[j]);
}

/* R pixels from tile start ix0 (input column of its first pixel), every whole 8-channel block of cnt; acc is the
 * tile's row 0. CHECK tiles may reach outside the image, the others must not. */
INL T_AVX2 void dw_tile(const struct qtop_qconv *c, const uint8_t *const *rows, int ix0, int c0, int cnt,
                        int32_t *acc, int skip, const int R, const int KW, const int S, const int SGN, const int CHECK) {
    const qtop_qconv_desc *d = &c->d;
    const int64_t ic = d->ic, pstride = (int64_t)c->cp * 2, cp = c->cp;
    for (int cb = 0; cb + 8 <= cnt; cb += 8)
        dw_block8(rows, cb, d->kh, ic, ix0, d->w, c->wdw + (int64_t)(c0 + cb) * 2, pstride, acc + cb, cp, skip, R, KW,
                  S, SGN, CHECK);
}

typedef void (*dw_tile_fn)(const struct qtop_qconv *, const uint8_t *const *, int, int, int, int32_t *, int);
#define DW_TILE_FN(NAME, R, KW, S, SGN, CHECK)                                                                     \
    static T_AVX2 void NAME##_k##KW##_s##S##_##SGN(const struct qtop_qconv *c, const uint8_t *const *rows, int ix0, \
                                                   int c0, int cnt, int32_t *acc, int skip) {                      \
        dw_tile(c, rows, ix0, c0, cnt, acc, skip, R, KW, S, SGN, CHECK);                                           \
    }
#define DW_TILE_KS(KW, S)                                                                                          \
    DW_TILE_FN(dw_t8, 8, KW, S, 0, 0) DW_TILE_FN(dw_t8, 8, KW, S, 1, 0) DW_TILE_FN(dw_t4, 4, KW, S, 0, 0)       \
    DW_TILE_FN(dw_t4, 4, KW, S, 1, 0) DW_TILE_FN(dw_e4, 4, KW, S, 0, 1) DW_TILE_FN(dw_e4, 4, KW, S, 1, 1)
DW_TILE_KS(3, 1) DW_TILE_KS(3, 2) DW_TILE_KS(5, 1) DW_TILE_KS(5, 2)
#define DW_TAB_KS(KW, S)                                                                                           \
    { { dw_t8_k##KW##_s##S##_0, dw_t4_k##KW##_s##S##_0, dw_e4_k##KW##_s##S##_0 },                                 \
      { dw_t8_k##KW##_s##S##_1, dw_t4_k##KW##_s##S##_1, dw_e4_k##KW##_s##S##_1 } }
/* [kw 3, 5][stride 1, 2][s8][8 pixels, 4 pixels, 4 pixels checked] */
static const dw_tile_fn dw_tab[2][2][2][3] = { { DW_TAB_KS(3, 1), DW_TAB_KS(3, 2) }, { DW_TAB_KS(5, 1), DW_TAB_KS(5, 2) } };

/* Channels past the last whole 8-channel block (any geometry), one pixel and channel at a time. */
static void dw_tail(const struct qtop_qconv *c, const uint8_t *const *rows, int ox0, int n, int c0, int cb, int cnt,
                    int32_t *acc) {
    const qtop_qconv_desc *d = &c->d;
    const int s8 = d->src_dt == QTOP_DT_S8;
    for (int j = 0; j < n; j++)
        for (int ch = cb; ch < cnt; ch++) {
            int32_t s = 0;
            for (int ky = 0; ky < d->kh; ky++)
                for (int kx = 0; kx < d->kw; kx++) {
                    const int ix = (ox0 + j) * d->stride_w - d->pad_l + kx * d->dil_w;
                    if (ix < 0 || ix >= d->w) continue;
                    const uint8_t *p = rows[ky] + (int64_t)ix * d->ic + ch;
                    s += (s8 ? (int32_t)(int8_t)*p : (int32_t)*p) * c->wref[(int64_t)(c0 + ch) * c->K + ky * d->kw + kx];
                }
            acc[(int64_t)j * c->cp + ch] = s;
        }
}

/* Any geometry (dilation, other kernel sizes and strides), pixels j0 .. j1-1 of the run, one at a time, whole
 * 8-channel blocks. */
static T_AVX2 void dw_any_avx2(const struct qtop_qconv *c, const uint8_t *const *rows, int ox0, int j0, int j1,
                               int c0, int cnt, int32_t *acc) {
    const qtop_qconv_desc *d = &c->d;
    const int sgn = d->src_dt == QTOP_DT_S8, kh = d->kh, kw = d->kw;
    const int64_t ic = d->ic, pstride = (int64_t)c->cp * 2;
    for (int j = j0; j < j1; j++) {
        const int ixj = (ox0 + j) * d->stride_w - d->pad_l;
        for (int cb = 0; cb + 8 <= cnt; cb += 8) {
            __m256i a = _mm256_setzero_si256();
            const int16_t *w = c->wdw + (int64_t)(c0 + cb) * 2;
            for (int ky = 0; ky < kh; ky += 2, w += kw * pstride)
                for (int kx = 0; kx < kw; kx++) {
                    const int ix = ixj + kx * d->dil_w;
                    if (ix < 0 || ix >= d->w) continue;
                    const uint8_t *pa = rows[ky] + ix * ic + cb;
                    const __m256i p = ky + 1 < kh ? (sgn ? dw_pair8(pa, rows[ky + 1] + ix * ic + cb, 1)
                                                         : dw_pair8(pa, rows[ky + 1] + ix * ic + cb, 0))
                                                  : (sgn ? dw_one8(pa, 1) : dw_one8(pa, 0));
                    a = _mm256_add_epi32(a, _mm256_madd_epi16(p, _mm256_loadu_si256((const __m256i *)(w + kx * pstride))));
                }
            _mm256_storeu_si256((__m256i *)(acc + (int64_t)j * c->cp + cb), a);
        }
    }
}

/* AVX2. Kernel width 3 or 5 at stride 1 or 2 without dilation: pixels whose window lies inside the image go in
 * register tiles of 8 and 4; the left and right edges in checked tiles of 4 (one that would run past the end
 * starts earlier and stores only the pixels not yet done). Other geometries: one pixel at a time. */
T_AVX2 void qtop__q8_dw_p8_avx2(const struct qtop_qconv *c, const uint8_t *const *rows, int ox0, int n, int c0,
                               int cnt, int32_t *acc) {
    const qtop_qconv_desc *d = &c->d;
    const int kw = d->kw, s = d->stride_w, end = ox0 + n;
    const int64_t cp = c->cp;
    if (!((kw == 3 || kw == 5) && (s == 1 || s == 2) && d->dil_w == 1)) {
        dw_any_avx2(c, rows, ox0, 0, n, c0, cnt, acc);
    } else {
        const dw_tile_fn *t = dw_tab[kw == 5][s == 2][d->src_dt == QTOP_DT_S8];
        /* interior pixels: ox·s - pad_l ≥ 0 and ox·s - pad_l + kw - 1 ≤ w - 1 */
        const int lo = (d->pad_l + s - 1) / s, span = d->w - kw + d->pad_l;
        const int hi = span < 0 ? 0 : span / s + 1;
        int pos = ox0;
        while (pos < end && pos < lo) {   /* left edge */
            const int st = end - pos >= 4 ? pos : end - 4;
            t[2](c, rows, st * s - d->pad_l, c0, cnt, acc + (int64_t)(st - ox0) * cp, pos - st);
            pos = st + 4;
        }
        const int iend = end < hi ? end : hi;
        for (; iend - pos >= 8; pos += 8) t[0](c, rows, pos * s - d->pad_l, c0, cnt, acc + (pos - ox0) * cp, 0);
        for (; iend - pos >= 4; pos += 4) t[1](c, rows, pos * s - d->pad_l, c0, cnt, acc + (pos - ox0) * cp, 0);
        while (pos < end) {   /* the rest: right edge, or 1-3 interior pixels */
            const int st = end - pos >= 4 ? pos : end - 4;
            t[st >= lo && st + 4 <= hi ? 1 : 2](c, rows, st * s - d->pad_l, c0, cnt, acc + (int64_t)(st - ox0) * cp,
                                                pos - st);
            pos = st + 4;
        }
    }
    if (cnt % 8) dw_tail(c, rows, ox0, n, c0, cnt / 8 * 8, cnt, acc);
}
#endif
