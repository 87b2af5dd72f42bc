/* x86-64 stem microkernels (few input channels, q8_stem.c): output pixels along the lanes, one accumulator per
 * output channel of a chunk, the reduction over taps × channel words with the weight word broadcast. Every lane
 * sums exact integer products (vpdpbusd without saturation; vpmaddwd on s16), so the result equals the scalar
 * reference bit for bit. The [channel][pixel] accumulators are transposed to the [pixel][channel] tile the ISA
 * row's epilogue reads. */
#include "isa_config.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define T_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define T_512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#define T_AVX2 __attribute__((target("avx2,fma")))
#define INL static inline __attribute__((always_inline))

/* acc[NC][L] (channel rows, L pixels, in t) → tile[pixel][oc0 + channel] (rows ocp apart), 8×8 blocks. */
INL T_AVX2 void transpose_store(const int32_t *t, int NC, int L, int32_t *tile, int ocp, int oc0) {
    for (int g = 0; g < NC; g += 8)
        for (int h = 0; h < L; h += 8) {
            __m256 r[8], u[8], v[8];
            for (int k = 0; k < 8; k++) r[k] = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)(t + (g + k) * L + h)));
            for (int k = 0; k < 8; k += 2) {
                u[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
                u[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
            }
            for (int k = 0; k < 8; k += 4) {
                v[k] = _mm256_shuffle_ps(u[k], u[k + 2], 0x44);
                v[k + 1] = _mm256_shuffle_ps(u[k], u[k + 2], 0xEE);
                v[k + 2] = _mm256_shuffle_ps(u[k + 1], u[k + 3], 0x44);
                v[k + 3] = _mm256_shuffle_ps(u[k + 1], u[k + 3], 0xEE);
            }
            for (int k = 0; k < 4; k++) {
                r[k] = _mm256_permute2f128_ps(v[k], v[k + 4], 0x20);
                r[k + 4] = _mm256_permute2f128_ps(v[k], v[k + 4], 0x31);
            }
            for (int k = 0; k < 8; k++)
                _mm256_storeu_si256((__m256i *)(tile + (int64_t)(h + k) * ocp + oc0 + g), _mm256_castps_si256(r[k]));
        }
}

/* ---------------- padded-row builder (AVX2, used by every x86 row) */

/* 8 pixels of ic ≤ 4 channels → 8 u8 words, channel bytes in order, bytes ≥ ic zero. Reads only 8·ic bytes. */
INL T_AVX2 __m256i load_words(const uint8_t *px, __m256i ldmask, __m256i lanes, __m256i shuf) {
    __m256i v = _mm256_maskload_epi32((const int *)px, ldmask);
    return _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(v, lanes), shuf);
}

/* s16 plane pl (channels 2pl, 2pl+1) of 8 u8 words with zero bytes past ic. */
INL T_AVX2 __m256i s16_plane(__m256i w, int pl, int s8) {
    __m256i lo, hi;
    if (s8) {
        lo = _mm256_srai_epi32(_mm256_slli_epi32(w, pl ? 8 : 24), 24);
        hi = pl ? _mm256_srai_epi32(w, 24) : _mm256_srai_epi32(_mm256_slli_epi32(w, 16), 24);
    } else {
        const __m256i ff = _mm256_set1_epi32(0xFF);
        lo = _mm256_and_si256(_mm256_srli_epi32(w, pl ? 16 : 0), ff);
        hi = _mm256_and_si256(_mm256_srli_epi32(w, pl ? 24 : 8), ff);
    }
    return _mm256_or_si256(_mm256_and_si256(lo, _mm256_set1_epi32(0xFFFF)), _mm256_slli_epi32(hi, 16));
}

/* Words of 8·s consecutive pixels → the s phases at word q0 of each plane (stride 1 or 2). */
INL T_AVX2 void put_words(const qtop_q8_stem_geom *g, __m256i a, __m256i b, uint32_t *row, int q0) {
    const int Q = g->q;
    for (int pl = 0; pl < g->npl; pl++) {
        __m256i x = a, y = b;
        if (g->s16) { x = s16_plane(a, pl, g->s8); y = s16_plane(b, pl, g->s8); }
        else { const __m256i flip = _mm256_set1_epi32(g->s8 ? (int)0x80808080u : 0); x = _mm256_xor_si256(x, flip); y = _mm256_xor_si256(y, flip); }
        if (g->s == 1) {
            _mm256_storeu_si256((__m256i *)(row + (int64_t)pl * Q + q0), x);
        } else {
            const __m256i eo = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
            x = _mm256_permutevar8x32_epi32(x, eo);
            y = _mm256_permutevar8x32_epi32(y, eo);
            _mm256_storeu_si256((__m256i *)(row + (int64_t)pl * Q + q0), _mm256_permute2x128_si256(x, y, 0x20));
            _mm256_storeu_si256((__m256i *)(row + (int64_t)(g->npl + pl) * Q + q0), _mm256_permute2x128_si256(x, y, 0x31));
        }
    }
}

/* Flat s16 pairs: the padded row widened to s16 in tmp (vpmovsxbw / vpmovzxbw), then each plane r gathers every
 * P-th pair from r. */
INL T_AVX2 void row_flat(const qtop_q8_stem_geom *g, const uint8_t *x, uint32_t *row, uint32_t *tmp) {
    const int P = g->P, Q = g->q;
    const int64_t nw = qtop__q8_stem_tmp_words(g) / 8 * 8;
    if (!x) {
        for (int64_t i = 0; i < ((int64_t)P * Q + 15) / 8 * 8; i += 8) _mm256_storeu_si256((__m256i *)(row + i), _mm256_setzero_si256());
        return;
    }
    for (int64_t i = 0; i < nw; i += 8) _mm256_storeu_si256((__m256i *)(tmp + i), _mm256_setzero_si256());
    int16_t *E = (int16_t *)tmp + (int64_t)g->pad_l * g->ic;
    int64_t n = (int64_t)g->w * g->ic, cap = 2 * nw - (int64_t)g->pad_l * g->ic;
    if (n > cap) n = cap;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(x + i));
        _mm256_storeu_si256((__m256i *)(E + i), g->s8 ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b));
    }
    for (; i < n; i++) E[i] = g->s8 ? (int8_t)x[i] : x[i];
    if (P == 3) {
        /* 3 channels at stride 2 (the stems): 24 pairs → 3 planes by lane permutes and blends, not gathers */
        const __m256i ia0 = _mm256_setr_epi32(0, 3, 6, 0, 0, 0, 0, 0), ib0 = _mm256_setr_epi32(0, 0, 0, 1, 4, 7, 0, 0);
        const __m256i ic0 = _mm256_setr_epi32(0, 0, 0, 0, 0, 0, 2, 5);
        const __m256i ia1 = _mm256_setr_epi32(1, 4, 7, 0, 0, 0, 0, 0), ib1 = _mm256_setr_epi32(0, 0, 0, 2, 5, 0, 0, 0);
        const __m256i ic1 = _mm256_setr_epi32(0, 0, 0, 0, 0, 0, 3, 6);
        const __m256i ia2 = _mm256_setr_epi32(2, 5, 0, 0, 0, 0, 0, 0), ib2 = _mm256_setr_epi32(0, 0, 0, 3, 6, 0, 0, 0);
        const __m256i ic2 = _mm256_setr_epi32(0, 0, 0, 0, 0, 1, 4, 7);
        /* last block first: a plane's spill past Q words is overwritten by the next plane's first block */
        for (int q = (Q - 1) / 8 * 8; q >= 0; q -= 8) {
            const uint32_t *src = tmp + (int64_t)q * 3;
            __m256i a = _mm256_loadu_si256((const __m256i *)src), b = _mm256_loadu_si256((const __m256i *)(src + 8));
            __m256i c = _mm256_loadu_si256((const __m256i *)(src + 16));
            __m256i p0 = _mm256_blend_epi32(_mm256_blend_epi32(_mm256_permutevar8x32_epi32(a, ia0),
                                                               _mm256_permutevar8x32_epi32(b, ib0), 0x38),
                                            _mm256_permutevar8x32_epi32(c, ic0), 0xC0);
            __m256i p1 = _mm256_blend_epi32(_mm256_blend_epi32(_mm256_permutevar8x32_epi32(a, ia1),
                                                               _mm256_permutevar8x32_epi32(b, ib1), 0x18),
                                            _mm256_permutevar8x32_epi32(c, ic1), 0xE0);
            __m256i p2 = _mm256_blend_epi32(_mm256_blend_epi32(_mm256_permutevar8x32_epi32(a, ia2),
                                                               _mm256_permutevar8x32_epi32(b, ib2), 0x1C),
                                            _mm256_permutevar8x32_epi32(c, ic2), 0xE0);
            _mm256_storeu_si256((__m256i *)(row + q), p0);
            _mm256_storeu_si256((__m256i *)(row + Q + q), p1);
            _mm256_storeu_si256((__m256i *)(row + 2 * (int64_t)Q + q), p2);
        }
        return;
    }
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(P));
    for (int r = 0; r < P; r++)
        for (int q = 0; q < Q; q += 8)
            _mm256_storeu_si256((__m256i *)(row + (int64_t)r * Q + q),
                                _mm256_i32gather_epi32((const int *)(tmp + (int64_t)q * P + r), idx, 4));
}

T_AVX2 void qtop__q8_stem_row_avx2(const qtop_q8_stem_geom *g, const uint8_t *x, uint32_t *row, uint32_t *tmp) {
    const int s = g->s, Q = g->q, ic = g->ic;
    if (g->flat) { row_flat(g, x, row, tmp); return; }
    if (s > 2) { qtop__q8_stem_row_generic(g, x, row, tmp); return; }
    const int64_t nw = ((int64_t)s * g->npl * Q + 15) / 16 * 16;
    const __m256i zero = _mm256_set1_epi32((int)qtop__q8_stem_zero(g));
    for (int64_t i = 0; i < nw; i += 8) _mm256_storeu_si256((__m256i *)(row + i), zero);
    if (!x) return;
    /* columns past the last word any tap reads are not stored */
    const int wend = g->w < Q * s - g->pad_l ? g->w : Q * s - g->pad_l;
    int ix = 0;
    for (; ix < wend && (ix + g->pad_l) % s; ix++)
        for (int pl = 0; pl < g->npl; pl++)
            row[(int64_t)(((ix + g->pad_l) % s) * g->npl + pl) * Q + (ix + g->pad_l) / s] = qtop__q8_stem_word(g, x + (int64_t)ix * ic, pl);
    int8_t sh[32];
    for (int k = 0; k < 32; k++) sh[k] = (k % 4) < ic ? (int8_t)((k % 16) / 4 * ic + k % 4) : (int8_t)0x80;
    const __m256i shuf = _mm256_loadu_si256((const __m256i *)sh);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, ic, ic + 1, ic + 2, ic + 3);
    const __m256i ldmask = _mm256_cmpgt_epi32(_mm256_set1_epi32(2 * ic), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (; ix + 8 * s <= wend; ix += 8 * s) {
        __m256i a = load_words(x + (int64_t)ix * ic, ldmask, lanes, shuf);
        __m256i b = s == 2 ? load_words(x + (int64_t)(ix + 8) * ic, ldmask, lanes, shuf) : a;
        put_words(g, a, b, row, (ix + g->pad_l) / s);
    }
    for (; ix < wend; ix++)
        for (int pl = 0; pl < g->npl; pl++)
            row[(int64_t)(((ix + g->pad_l) % s) * g->npl + pl) * Q + (ix + g->pad_l) / s] = qtop__q8_stem_word(g, x + (int64_t)ix * ic, pl);
}

/* ---------------- AVX-512 VNNI: words of 4 u8 channels (s8 shifted by 128 in the padded row) × 4 s8 weights. */
INL T_VNNI void vnni_chunk(const uint8_t *const *tap, int taps, int64_t off, const int32_t *w, int32_t *tile,
                           int ocp, int oc0, const int NC) {
    __m512i acc[16];
    for (int j = 0; j < NC; j++) acc[j] = _mm512_setzero_si512();
    for (int t = 0; t < taps; t++) {
        __m512i x = _mm512_loadu_si512((const void *)(tap[t] + off));
        const int32_t *wt = w + (int64_t)t * NC;
        for (int j = 0; j < NC; j++) acc[j] = _mm512_dpbusd_epi32(acc[j], x, _mm512_set1_epi32(wt[j]));
    }
    int32_t tmp[16 * 16] __attribute__((aligned(64)));
    for (int j = 0; j < NC; j++) _mm512_store_si512((void *)(tmp + j * 16), acc[j]);
    transpose_store(tmp, NC, 16, tile, ocp, oc0);
}

T_VNNI void qtop__q8_stem_u8_16px_avx512vnni(const uint8_t *const *tap, int taps, int64_t off, int64_t plane,
                                             int npl, const int32_t *w, int ocp, int32_t *tile) {
    (void)plane; (void)npl;
    for (int o = 0; o < ocp; o += 16) {
        const int32_t *wc = w + (int64_t)o * taps;
        if (ocp - o >= 16) vnni_chunk(tap, taps, off, wc, tile, ocp, o, 16);
        else vnni_chunk(tap, taps, off, wc, tile, ocp, o, 8);
    }
}

/* ---------------- AVX-512: words of 2 s16 channels × 2 s16 weights (vpmaddwd), npl planes per tap. */
INL T_512 void s16_512_chunk(const uint8_t *const *tap, int taps, int64_t off, int64_t plane, const int32_t *w,
                             int32_t *tile, int ocp, int oc0, const int NC, const int NPL) {
    __m512i acc[16];
    for (int j = 0; j < NC; j++) acc[j] = _mm512_setzero_si512();
    for (int t = 0; t < taps; t++) {
        const int32_t *wt = w + (int64_t)t * NPL * NC;
        __m512i x0 = _mm512_loadu_si512((const void *)(tap[t] + off));
        if (NPL == 2) {
            __m512i x1 = _mm512_loadu_si512((const void *)(tap[t] + plane + off));
            for (int j = 0; j < NC; j++) {
                __m512i p = _mm512_add_epi32(_mm512_madd_epi16(x0, _mm512_set1_epi32(wt[j])),
                                             _mm512_madd_epi16(x1, _mm512_set1_epi32(wt[NC + j])));
                acc[j] = _mm512_add_epi32(acc[j], p);
            }
        } else {
            for (int j = 0; j < NC; j++) acc[j] = _mm512_add_epi32(acc[j], _mm512_madd_epi16(x0, _mm512_set1_epi32(wt[j])));
        }
    }
    int32_t tmp[16 * 16] __attribute__((aligned(64)));
    for (int j = 0; j < NC; j++) _mm512_store_si512((void *)(tmp + j * 16), acc[j]);
    transpose_store(tmp, NC, 16, tile, ocp, oc0);
}

T_512 void qtop__q8_stem_s16_16px_avx512(const uint8_t *const *tap, int taps, int64_t off, int64_t plane, int npl,
                                         const int32_t *w, int ocp, int32_t *tile) {
    for (int o = 0; o < ocp; o += 16) {
        const int32_t *wc = w + (int64_t)o * taps * npl;
        int full = ocp - o >= 16;
        if (npl == 2) {
            if (full) s16_512_chunk(tap, taps, off, plane, wc, tile, ocp, o, 16, 2);
            else s16_512_chunk(tap, taps, off, plane, wc, tile, ocp, o, 8, 2);
        } else {
            if (full) s16_512_chunk(tap, taps, off, plane, wc, tile, ocp, o, 16, 1);
            else s16_512_chunk(tap, taps, off, plane, wc, tile, ocp, o, 8, 1);
        }
    }
}

/* ---------------- AVX2: the same s16 scheme on 8 pixels per ymm, 8 channels per chunk. */
INL T_AVX2 void s16_avx2_chunk(const uint8_t *const *tap, int taps, int64_t off, int64_t plane, const int32_t *w,
                               int32_t *tile, int ocp, int oc0, const int NPL) {
    __m256i acc[8];
    for (int j = 0; j < 8; j++) acc[j] = _mm256_setzero_si256();
    for (int t = 0; t < taps; t++) {
        const int32_t *wt = w + (int64_t)t * NPL * 8;
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(tap[t] + off));
        if (NPL == 2) {
            __m256i x1 = _mm256_loadu_si256((const __m256i *)(tap[t] + plane + off));
            for (int j = 0; j < 8; j++) {
                __m256i p = _mm256_add_epi32(_mm256_madd_epi16(x0, _mm256_set1_epi32(wt[j])),
                                             _mm256_madd_epi16(x1, _mm256_set1_epi32(wt[8 + j])));
                acc[j] = _mm256_add_epi32(acc[j], p);
            }
        } else {
            for (int j = 0; j < 8; j++) acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(x0, _mm256_set1_epi32(wt[j])));
        }
    }
    int32_t tmp[8 * 8] __attribute__((aligned(32)));
    for (int j = 0; j < 8; j++) _mm256_store_si256((__m256i *)(tmp + j * 8), acc[j]);
    transpose_store(tmp, 8, 8, tile, ocp, oc0);
}

T_AVX2 void qtop__q8_stem_s16_8px_avx2(const uint8_t *const *tap, int taps, int64_t off, int64_t plane, int npl,
                                       const int32_t *w, int ocp, int32_t *tile) {
    for (int o = 0; o < ocp; o += 8) {
        const int32_t *wc = w + (int64_t)o * taps * npl;
        if (npl == 2) s16_avx2_chunk(tap, taps, off, plane, wc, tile, ocp, o, 2);
        else s16_avx2_chunk(tap, taps, off, plane, wc, tile, ocp, o, 1);
    }
}
#endif
