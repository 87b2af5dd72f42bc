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
#include "q8_requant_x86.h"
#include <string.h>

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

/* a + the s16 pair products of p and w, exact (the pair sums of u8/s8 × s8 cannot wrap; both forms wrap the same
 * way anyway). VNNI: one EVEX vpdpwssd on ymm (AVX512_VNNI + VL; inline asm, since this file's functions are built
 * for AVX2 and the intrinsic would need those features in every caller), else vpmaddwd + vpaddd. */
INL T_AVX2 __m256i dw_mac(__m256i a, __m256i p, __m256i w, const int VNNI) {
    if (VNNI) {
        __asm__("%{evex%} vpdpwssd %[w], %[p], %[a]" : [a] "+v"(a) : [p] "v"(p), [w] "v"(w));
        return a;
    }
    return _mm256_add_epi32(a, _mm256_madd_epi16(p, w));
}

/* One 8-channel block of R output pixels (pixel j reads input columns ix0 + j·S + kx, kx < KW) → a[0 .. R-1].
 * rows[ky] + cb is input row ky of the window (a zero row above / below the image) at this block's first channel.
 * CHECK: skip columns outside [0, win) (runs at the left / right edge). */
INL T_AVX2 void dw_block8(const uint8_t *const *rows, int cb, int kh, int64_t ic, int ix0, int win, const int16_t *w,
                          int64_t pstride, __m256i *a, const int R, const int KW, const int S, const int SGN,
                          const int CHECK, const int VNNI) {
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
                    if (kx >= 0 && kx < KW) a[j] = dw_mac(a[j], p, W[kx], VNNI);
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
                    if (kx >= 0 && kx < KW) a[j] = dw_mac(a[j], p, W[kx], VNNI);
                }
            }
        }
    }
}

/* Where a tile's results go, read once per row into values (the byte stores may alias any field of the conv).
 * out DW_OUT_ACC: the int32 accumulators into acc (rows cp apart; the qtop_q8_dw_fn contract). Otherwise the
 * requantizing epilogue in registers — the exact chain of qtop__q8_epi_avx2 (q8_requant_x86.h) — with the
 * output kind of epi8_out_kind, residual res_dt and activation index act (none, relu, relu6, hard_swish; the
 * sigmoid family takes the accumulator path). */
enum { DW_OUT_ACC = 4 };
typedef struct {
    epi8_consts k;
    const float *scale, *bias;   /* at channel 0 */
    void *dst, *dst2;
    const void *res;
    int64_t oc;
    int out, act, res_dt;
} dw_out;

/* Pixels j (skip ≤ j < R) of one 8-channel block: a[j] are accumulators of output pixel pix + j, channels
 * ch .. ch+7. Each stage switches once per block, outside its unrolled pixel loop. */
INL T_AVX2 void dw_requant8(const dw_out *o, const __m256i *a, int64_t pix, int ch, int skip, const int R) {
    const epi8_consts *k = &o->k;
    const __m256 sc = _mm256_loadu_ps(o->scale + ch), bi = _mm256_loadu_ps(o->bias + ch);
    const int64_t oc = o->oc, at = pix * oc + ch;
    __m256 y[8];
#pragma clang loop unroll(full)
    for (int j = 0; j < R; j++) y[j] = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a[j]), sc), bi);
    switch (o->res_dt) {
    case QTOP_DT_U8:
#pragma clang loop unroll(full)
        for (int j = 0; j < R; j++) {
            if (j < skip) continue;
            const __m256i r = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)((const uint8_t *)o->res + at + j * oc)));
            y[j] = _mm256_add_ps(y[j], _mm256_mul_ps(_mm256_cvtepi32_ps(r), k->stepr));
        }
        break;
    case QTOP_DT_S8:
#pragma clang loop unroll(full)
        for (int j = 0; j < R; j++) {
            if (j < skip) continue;
            const __m256i r = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)((const int8_t *)o->res + at + j * oc)));
            y[j] = _mm256_add_ps(y[j], _mm256_mul_ps(_mm256_cvtepi32_ps(r), k->stepr));
        }
        break;
    case QTOP_DT_F32:
#pragma clang loop unroll(full)
        for (int j = 0; j < R; j++)
            if (j >= skip) y[j] = _mm256_add_ps(y[j], _mm256_loadu_ps((const float *)o->res + at + j * oc));
        break;
    default: break;
    }
    switch (o->act) {
    case QTOP_ACT_RELU:   /* before a u8 output the requantization already maps y ≤ 0 and NaN to relu's 0 */
        if (o->out != 0)
#pragma clang loop unroll(full)
            for (int j = 0; j < R; j++) y[j] = _mm256_max_ps(y[j], k->zero);
        break;
    case QTOP_ACT_RELU6:
#pragma clang loop unroll(full)
        for (int j = 0; j < R; j++) y[j] = _mm256_min_ps(_mm256_max_ps(y[j], k->zero), k->six);
        break;
    case QTOP_ACT_HARD_SWISH:
#pragma clang loop unroll(full)
        for (int j = 0; j < R; j++) {
            const __m256 t = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(y[j], k->three), k->zero), k->six);
            y[j] = _mm256_mul_ps(y[j], _mm256_mul_ps(t, k->sixth));
        }
        break;
    default: break;
    }
    switch (o->out) {
    case 0: case 1: {
        const int u8 = o->out == 0;
#pragma clang loop unroll(full)
        for (int j = 0; j < R; j++)
            if (j >= skip)
                _mm_storel_epi64((__m128i *)((uint8_t *)o->dst + at + j * oc), epi8_pack8(epi8_codes(y[j], k->inv, k->hi, u8), u8));
        break;
    }
    default: {
        const int u8 = k->q2_dt == QTOP_DT_U8;
#pragma clang loop unroll(full)
        for (int j = 0; j < R; j++) {
            if (j < skip) continue;
            _mm256_storeu_ps((float *)o->dst + at + j * oc, y[j]);
            if (o->out == 3)
                _mm_storel_epi64((__m128i *)((uint8_t *)o->dst2 + at + j * oc),
                                 epi8_pack8(epi8_codes(y[j], k->inv2, k->hi2, u8), u8));
        }
        break;
    }
    }
}

/* ntiles consecutive tiles of R pixels from tile start ix0 (input column of its first pixel; output pixel pix of
 * the image), every whole 8-channel block of cnt; acc is the first tile's row 0 (DW_OUT_ACC). Pixels j < skip of
 * the first tile are neither stored nor have their residual read. CHECK tiles may reach outside the image, the
 * others must not. Several tiles per call: the per-call setup is paid once per row span, not per 8 pixels. */
INL T_AVX2 void dw_tile(const struct qtop_qconv *c, const uint8_t *const *rows, int ix0, int c0, int cnt,
                        const dw_out *out, int64_t pix, int32_t *acc, int skip, int ntiles, const int R, const int KW,
                        const int S, const int SGN, const int CHECK, const int VNNI) {
    const qtop_qconv_desc *d = &c->d;
    const int64_t ic = d->ic, pstride = (int64_t)c->cp * 2, cp = c->cp;
    const int kh = d->kh, win = d->w;
    const int16_t *wdw = c->wdw + (int64_t)c0 * 2;
    const dw_out o = *out;   /* a local copy: the output stores cannot alias it */
    for (int tt = 0; tt < ntiles; tt++, ix0 += R * S, pix += R, acc += R * cp, skip = 0)
    for (int cb = 0; cb + 8 <= cnt; cb += 8) {
        __m256i a[8];
        dw_block8(rows, cb, kh, ic, ix0, win, wdw + (int64_t)cb * 2, pstride, a, R, KW, S, SGN, CHECK, VNNI);
        if (o.out == DW_OUT_ACC) {
#pragma clang loop unroll(full)
            for (int j = 0; j < R; j++)
                if (j >= skip) _mm256_storeu_si256((__m256i *)(acc + j * cp + cb), a[j]);
        } else {
            dw_requant8(&o, a, pix, c0 + cb, skip, R);
        }
    }
}

typedef void (*dw_tile_fn)(const struct qtop_qconv *, const uint8_t *const *, int, int, int, const dw_out *, int64_t,
                           int32_t *, int, int);
#define DW_TILE_FN(NAME, R, KW, S, SGN, CHECK, V)                                                                  \
    static T_AVX2 void NAME##_k##KW##_s##S##_##SGN##_##V(const struct qtop_qconv *c, const uint8_t *const *rows,      \
                                                        int ix0, int c0, int cnt, const dw_out *o, int64_t pix,      \
                                                        int32_t *acc, int skip, int ntiles) {                        \
        dw_tile(c, rows, ix0, c0, cnt, o, pix, acc, skip, ntiles, R, KW, S, SGN, CHECK, V);                          \
    }
#define DW_TILE_KS(KW, S, V)                                                                                         \
    DW_TILE_FN(dw_t8, 8, KW, S, 0, 0, V) DW_TILE_FN(dw_t8, 8, KW, S, 1, 0, V) DW_TILE_FN(dw_t4, 4, KW, S, 0, 0, V) \
    DW_TILE_FN(dw_t4, 4, KW, S, 1, 0, V) DW_TILE_FN(dw_e4, 4, KW, S, 0, 1, V) DW_TILE_FN(dw_e4, 4, KW, S, 1, 1, V)
DW_TILE_KS(3, 1, 0) DW_TILE_KS(3, 2, 0) DW_TILE_KS(5, 1, 0) DW_TILE_KS(5, 2, 0)
DW_TILE_KS(3, 1, 1) DW_TILE_KS(3, 2, 1) DW_TILE_KS(5, 1, 1) DW_TILE_KS(5, 2, 1)
#define DW_TAB_KS(KW, S, V)                                                                                          \
    { { dw_t8_k##KW##_s##S##_0_##V, dw_t4_k##KW##_s##S##_0_##V, dw_e4_k##KW##_s##S##_0_##V },                       \
      { dw_t8_k##KW##_s##S##_1_##V, dw_t4_k##KW##_s##S##_1_##V, dw_e4_k##KW##_s##S##_1_##V } }
/* [vnni][kw 3, 5][stride 1, 2][s8][8 pixels, 4 pixels, 4 pixels checked] */
static const dw_tile_fn dw_tab[2][2][2][2][3] = {
    { { DW_TAB_KS(3, 1, 0), DW_TAB_KS(3, 2, 0) }, { DW_TAB_KS(5, 1, 0), DW_TAB_KS(5, 2, 0) } },
    { { DW_TAB_KS(3, 1, 1), DW_TAB_KS(3, 2, 1) }, { DW_TAB_KS(5, 1, 1), DW_TAB_KS(5, 2, 1) } },
};

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

/* Geometries of the register tiles: kernel width 3 or 5 at stride 1 or 2 without dilation. */
static int dw_tiled(const qtop_qconv_desc *d) {
    return (d->kw == 3 || d->kw == 5) && (d->stride_w == 1 || d->stride_w == 2) && d->dil_w == 1;
}

/* Output pixels ox0 .. ox0+n-1 of the row (a tiled geometry), whole 8-channel blocks: pixels whose window lies
 * inside the image go in register tiles of 8 and 4; the left and right edges in checked tiles of 4 (one that would
 * run past the end starts earlier and stores only the pixels not yet done). pix0: output pixel index of ox0;
 * acc: the accumulators of ox0 (DW_OUT_ACC). */
INL T_AVX2 void dw_walk(const struct qtop_qconv *c, const uint8_t *const *rows, int ox0, int n, int c0, int cnt,
                        const dw_out *o, int64_t pix0, int32_t *acc, const int VNNI) {
    const qtop_qconv_desc *d = &c->d;
    const int kw = d->kw, s = d->stride_w, end = ox0 + n;
    const int64_t cp = c->cp;
    const dw_tile_fn *t = dw_tab[VNNI][kw == 5][s == 2][d->src_dt == QTOP_DT_S8];
    /* interior pixels: ox·s - pad_l ≥ 0 and ox·s - pad_l + kw - 1 ≤ w - 1 */
    const int lo = (d->pad_l + s - 1) / s, span = d->w - kw + d->pad_l;
    const int hi = span < 0 ? 0 : span / s + 1;
    int pos = ox0;
    while (pos < end && pos < lo) {   /* left edge */
        const int st = end - pos >= 4 ? pos : end - 4;
        t[2](c, rows, st * s - d->pad_l, c0, cnt, o, pix0 + (st - ox0), acc + (int64_t)(st - ox0) * cp, pos - st, 1);
        pos = st + 4;
    }
    const int iend = end < hi ? end : hi;
    if (iend - pos >= 8) {
        const int n8 = (iend - pos) / 8;
        t[0](c, rows, pos * s - d->pad_l, c0, cnt, o, pix0 + (pos - ox0), acc + (int64_t)(pos - ox0) * cp, 0, n8);
        pos += 8 * n8;
    }
    if (iend - pos >= 4) {
        t[1](c, rows, pos * s - d->pad_l, c0, cnt, o, pix0 + (pos - ox0), acc + (int64_t)(pos - ox0) * cp, 0, 1);
        pos += 4;
    }
    while (pos < end) {   /* the rest: right edge, or 1-3 interior pixels */
        const int st = end - pos >= 4 ? pos : end - 4;
        t[st >= lo && st + 4 <= hi ? 1 : 2](c, rows, st * s - d->pad_l, c0, cnt, o, pix0 + (st - ox0),
                                            acc + (int64_t)(st - ox0) * cp, pos - st, 1);
        pos = st + 4;
    }
}

/* AVX2, the qtop_q8_dw_fn contract (accumulators). Tiled geometries through dw_walk; others one pixel at a time. */
INL T_AVX2 void dw_p8(const struct qtop_qconv *c, const uint8_t *const *rows, int ox0, int n, int c0, int cnt,
                      int32_t *acc, const int VNNI) {
    if (!dw_tiled(&c->d)) {
        dw_any_avx2(c, rows, ox0, 0, n, c0, cnt, acc);
    } else {
        dw_out o;
        memset(&o, 0, sizeof o);
        o.out = DW_OUT_ACC;
        dw_walk(c, rows, ox0, n, c0, cnt, &o, 0, acc, VNNI);
    }
    if (cnt % 8) dw_tail(c, rows, ox0, n, c0, cnt / 8 * 8, cnt, acc);
}

/* AVX2, one whole output row with the requantizing epilogue fused into the register tiles (qtop_q8_dw_row_fn):
 * the accumulators never leave registers and the per-channel constants are loaded once per 8-channel block and
 * tile. Channels past the last whole block, the sigmoid-family activations and the untiled geometries go through
 * the accumulator tile and the row's epilogue, Q8_DW_RUN pixels at a time. */
INL T_AVX2 void dw_row(const struct qtop_qconv *c, const uint8_t *const *rows, int64_t pix0, int c0, int cnt,
                       int32_t *acc, void *dst, void *dst2, const void *res, const int VNNI) {
    const qtop_qconv_desc *d = &c->d;
    const int act = epi8_act_index(d->act), ow = c->ow;
    const int fused = dw_tiled(d) && act >= 0 && act != EPI8_ACT_EXT && !c->comp && d->res_dt >= QTOP_DT_U8 &&
                      d->res_dt <= QTOP_DT_NONE;
    int cb = 0;
    if (fused) {
        dw_out o;
        epi8_consts_init(&o.k, c);
        o.scale = c->scale; o.bias = c->bias; o.dst = dst; o.dst2 = dst2; o.res = res; o.oc = d->oc;
        o.out = epi8_out_kind(d); o.act = d->act; o.res_dt = d->res_dt;
        dw_walk(c, rows, 0, ow, c0, cnt, &o, pix0, acc, VNNI);
        cb = cnt / 8 * 8;
    }
    if (cb == cnt) return;
    for (int ox = 0; ox < ow; ox += Q8_DW_RUN) {
        const int run = ow - ox < Q8_DW_RUN ? ow - ox : Q8_DW_RUN;
        if (cb) {   /* the tail channels only */
            dw_tail(c, rows, ox, run, c0, cb, cnt, acc);
            for (int j = 0; j < run; j++)
                qtop__q8_epilogue(c, pix0 + ox + j, c0 + cb, cnt - cb, acc + (int64_t)j * c->cp + cb, dst, dst2, res);
        } else {
            dw_p8(c, rows, ox, run, c0, cnt, acc, VNNI);
            qtop__q8_epi_avx2(c, pix0 + ox, run, c->cp, c0, cnt, acc, dst, dst2, res);
        }
    }
}

T_AVX2 void qtop__q8_dw_p8_avx2(const struct qtop_qconv *c, const uint8_t *const *rows, int ox0, int n, int c0,
                               int cnt, int32_t *acc) {
    dw_p8(c, rows, ox0, n, c0, cnt, acc, 0);
}

T_AVX2 void qtop__q8_dw_row_avx2(const struct qtop_qconv *c, const uint8_t *const *rows, int64_t pix0, int c0, int cnt,
                                int32_t *acc, void *dst, void *dst2, const void *res) {
    dw_row(c, rows, pix0, c0, cnt, acc, dst, dst2, res, 0);
}

/* The same tiles with vpdpwssd (AVX512_VNNI on ymm): the avx512_vnni row. */
T_AVX2 void qtop__q8_dw_p8_avx512vnni(const struct qtop_qconv *c, const uint8_t *const *rows, int ox0, int n, int c0,
                                     int cnt, int32_t *acc) {
    dw_p8(c, rows, ox0, n, c0, cnt, acc, 1);
}

T_AVX2 void qtop__q8_dw_row_avx512vnni(const struct qtop_qconv *c, const uint8_t *const *rows, int64_t pix0, int c0,
                                      int cnt, int32_t *acc, void *dst, void *dst2, const void *res) {
    dw_row(c, rows, pix0, c0, cnt, acc, dst, dst2, res, 1);
}
#endif
