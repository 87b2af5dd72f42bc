/* x86-64 fp32 direct-convolution microkernels (f32_direct.c's contract in f32_internal.h): output pixels of one
 * row along the vector lanes, NO output channels × NP vectors of accumulators, the K loop walking the input
 * channels and the taps of a padded, phase-split band of the input (loads need no masks: the band is padded to
 * whole vectors). FMA allowed: fp32 kernels are compared with a tolerance. */
#include "f32_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include "f32_act_x86.h"

#define T_512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define T_AVX2 __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))
#define UNROLL _Pragma("clang loop unroll(full)")

/* Register tiles (channels × pixel vectors), the fastest of those measured (kbench-style, one Zen 4 core):
 * AVX-512 8 × 3 zmm = 24 accumulators (12×2, 8×2, 6×4, 14×2 slower by 2-20%); AVX2 6 × 2 ymm = 12 (4×3, 3×4, 2×4
 * lose a third or more: three or more unaligned row loads per tap cost more than the broadcasts they save). */
#ifndef D512_NO
#define D512_NO 8
#endif
#ifndef D512_NP
#define D512_NP 3
#endif
#ifndef D256_NO
#define D256_NO 6
#endif
#ifndef D256_NP
#define D256_NP 2
#endif

INLINE T_512 void body512(const qtop_f32_direct_args *a, const int NO, const int NP) {
    __m512 acc[D512_NO][D512_NP];
    UNROLL for (int j = 0; j < NO; j++) UNROLL for (int p = 0; p < NP; p++) acc[j][p] = _mm512_setzero_ps();
    const int taps = a->taps;
    const int32_t *off = a->tapoff;
    const float *w = a->w;
    for (int ic = 0; ic < a->icg; ic++) {
        const float *s = a->src + (int64_t)ic * a->ic_stride;
        for (int t = 0; t < taps; t++, w += NO) {
            const float *x = s + off[t];
            __m512 xv[D512_NP];
            UNROLL for (int p = 0; p < NP; p++) xv[p] = _mm512_loadu_ps(x + 16 * p);
            UNROLL for (int j = 0; j < NO; j++) {
                __m512 wv = _mm512_set1_ps(w[j]);
                UNROLL for (int p = 0; p < NP; p++) acc[j][p] = _mm512_fmadd_ps(wv, xv[p], acc[j][p]);
            }
        }
    }
    const __mmask16 ml = (__mmask16)((1u << a->nlast) - 1);
    UNROLL for (int j = 0; j < NO; j++) {
        if (j >= a->no) break;
        __m512 b = _mm512_set1_ps(a->bias[j]);
        float *y = a->dst + (int64_t)j * a->dst_cs;
        const float *r = a->res ? a->res + (int64_t)j * a->dst_cs : NULL;
        UNROLL for (int p = 0; p < NP; p++) {
            __mmask16 m = p == NP - 1 ? ml : 0xFFFF;
            __m512 v = _mm512_add_ps(acc[j][p], b);
            if (r) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, r + 16 * p));
            _mm512_mask_storeu_ps(y + 16 * p, m, qtop__act512(v, a->act));
        }
    }
}

static T_512 void direct_avx512(const qtop_f32_direct_args *a) {
    switch (a->np) {
    case 1: body512(a, D512_NO, 1); break;
#if D512_NP >= 2
    case 2: body512(a, D512_NO, 2); break;
#endif
#if D512_NP >= 3
    case 3: body512(a, D512_NO, 3); break;
#endif
#if D512_NP >= 4
    case 4: body512(a, D512_NO, 4); break;
#endif
    default: break;
    }
}
/* max_oc 128: at or under it the direct kernel matched or beat the 8×32 GEMM on every shape measured (det 96>24
 * at 20..160²: 33-49 vs 27-36 GMAC/s; r50 3×3 64 @56², 128 @28²: 46-49 vs 45-48; stems 35-50 vs 25-43). */
const qtop_f32_direct_kernel qtop__f32_direct_avx512 = { "f32_direct_8x3v16_avx512", D512_NO, D512_NP, 16, 128,
                                                         direct_avx512 };

INLINE T_AVX2 void body256(const qtop_f32_direct_args *a, const int NO, const int NP) {
    __m256 acc[D256_NO][D256_NP];
    UNROLL for (int j = 0; j < NO; j++) UNROLL for (int p = 0; p < NP; p++) acc[j][p] = _mm256_setzero_ps();
    const int taps = a->taps;
    const int32_t *off = a->tapoff;
    const float *w = a->w;
    for (int ic = 0; ic < a->icg; ic++) {
        const float *s = a->src + (int64_t)ic * a->ic_stride;
        for (int t = 0; t < taps; t++, w += NO) {
            const float *x = s + off[t];
            __m256 xv[D256_NP];
            UNROLL for (int p = 0; p < NP; p++) xv[p] = _mm256_loadu_ps(x + 8 * p);
            UNROLL for (int j = 0; j < NO; j++) {
                __m256 wv = _mm256_broadcast_ss(w + j);
                UNROLL for (int p = 0; p < NP; p++) acc[j][p] = _mm256_fmadd_ps(wv, xv[p], acc[j][p]);
            }
        }
    }
    /* the last vector's partial lanes go through a stack row: masked stores are microcoded on AMD cores */
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i ml = _mm256_cmpgt_epi32(_mm256_set1_epi32(a->nlast), iota);
    const int full = a->nlast == 8;
    UNROLL for (int j = 0; j < NO; j++) {
        if (j >= a->no) break;
        __m256 b = _mm256_set1_ps(a->bias[j]);
        float *y = a->dst + (int64_t)j * a->dst_cs;
        const float *r = a->res ? a->res + (int64_t)j * a->dst_cs : NULL;
        UNROLL for (int p = 0; p < NP; p++) {
            __m256 v = _mm256_add_ps(acc[j][p], b);
            if (p < NP - 1 || full) {
                if (r) v = _mm256_add_ps(v, _mm256_loadu_ps(r + 8 * p));
                _mm256_storeu_ps(y + 8 * p, qtop__act256(v, a->act));
            } else {
                if (r) v = _mm256_add_ps(v, _mm256_maskload_ps(r + 8 * p, ml));
                float t[8];
                _mm256_storeu_ps(t, qtop__act256(v, a->act));
                for (int i = 0; i < a->nlast; i++) y[8 * p + i] = t[i];
            }
        }
    }
}

static T_AVX2 void direct_avx2(const qtop_f32_direct_args *a) {
    switch (a->np) {
    case 1: body256(a, D256_NO, 1); break;
#if D256_NP >= 2
    case 2: body256(a, D256_NO, 2); break;
#endif
#if D256_NP >= 3
    case 3: body256(a, D256_NO, 3); break;
#endif
#if D256_NP >= 4
    case 4: body256(a, D256_NO, 4); break;
#endif
    default: break;
    }
}
/* max_oc 48: the 6×16 GEMM keeps r50's 3×3 64 @56² and 128 @28² (40-45 vs 32-36 GMAC/s direct); direct wins
 * det 96>24 (34-40 vs 26-30), 32>32 @112² (36-43 vs 32), 5×5 48>40 (40-48 vs 32) and the stems. */
const qtop_f32_direct_kernel qtop__f32_direct_avx2 = { "f32_direct_6x2v8_avx2", D256_NO, D256_NP, 8, 48, direct_avx2 };
#endif
