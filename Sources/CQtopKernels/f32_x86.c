/* x86-64 fp32 GEMM microkernels (FMA allowed: fp32 kernels are compared with a tolerance). */
#include "f32_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>
#include "f32_act_x86.h"

#define T_512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define T_AVX2 __attribute__((target("avx2,fma")))

#define act512 qtop__act512
#define act256 qtop__act256

/* AVX-512: 8 rows × 32 columns, 16 zmm accumulators; B rows at stride ldb (packed panel or the matrix itself). */
#define MR5 8
#define NR5 32
#define FMA_ROWS(B0, B1, TWO)                                                                                   \
    do {                                                                                                       \
        const float *a_ = Ap + (int64_t)k * MR5;                                                               \
        for (int i = 0; i < MR5; i++) {                                                                        \
            __m512 av = _mm512_set1_ps(a_[i]);                                                                 \
            c0[i] = _mm512_fmadd_ps(av, B0, c0[i]);                                                            \
            if (TWO) c1[i] = _mm512_fmadd_ps(av, B1, c1[i]);                                                   \
        }                                                                                                      \
    } while (0)
static T_512 void ukr_avx512(int kc, const float *Ap, const float *Bp, int64_t ldb, float *C, int64_t ldc,
                             int accumulate, int mr, int nr, const qtop_sgemm_epi *epi) {
    __m512 c0[MR5], c1[MR5];
    for (int i = 0; i < MR5; i++) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
    __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
    if (mr == 1 && nr == NR5) {
        /* one row (matrix-vector, e.g. batch-1 fc): two accumulator pairs over alternating k, rows 1.. stay 0 */
        const float *b = Bp;
        __m512 e0 = _mm512_setzero_ps(), e1 = _mm512_setzero_ps();
        int k = 0;
        for (; k + 2 <= kc; k += 2, b += 2 * ldb) {
            __m512 a0 = _mm512_set1_ps(Ap[(int64_t)k * MR5]), a1 = _mm512_set1_ps(Ap[(int64_t)(k + 1) * MR5]);
            c0[0] = _mm512_fmadd_ps(a0, _mm512_loadu_ps(b), c0[0]);
            c1[0] = _mm512_fmadd_ps(a0, _mm512_loadu_ps(b + 16), c1[0]);
            e0 = _mm512_fmadd_ps(a1, _mm512_loadu_ps(b + ldb), e0);
            e1 = _mm512_fmadd_ps(a1, _mm512_loadu_ps(b + ldb + 16), e1);
        }
        if (k < kc) {
            __m512 a0 = _mm512_set1_ps(Ap[(int64_t)k * MR5]);
            c0[0] = _mm512_fmadd_ps(a0, _mm512_loadu_ps(b), c0[0]);
            c1[0] = _mm512_fmadd_ps(a0, _mm512_loadu_ps(b + 16), c1[0]);
        }
        c0[0] = _mm512_add_ps(c0[0], e0);
        c1[0] = _mm512_add_ps(c1[0], e1);
    } else if (nr == NR5) {
        const float *b = Bp;
        for (int k = 0; k < kc; k++, b += ldb) {
            __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
            FMA_ROWS(b0, b1, 1);
        }
    } else if (nr > 16) {
        const float *b = Bp;
        for (int k = 0; k < kc; k++, b += ldb) {
            __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_maskz_loadu_ps(m1, b + 16);
            FMA_ROWS(b0, b1, 1);
        }
    } else {
        const float *b = Bp;
        for (int k = 0; k < kc; k++, b += ldb) {
            __m512 b0 = _mm512_maskz_loadu_ps(m0, b);
            FMA_ROWS(b0, b0, 0);
        }
    }
    const float *bias = epi ? epi->bias : NULL;
    const float *res = epi ? epi->res : NULL;
    int act = epi ? epi->act : QTOP_ACT_NONE;
    for (int i = 0; i < MR5; i++) {
        if (i >= mr) break;
        float *cr = C + i * ldc;
        __m512 y0 = c0[i], y1 = c1[i];
        if (accumulate) {
            y0 = _mm512_add_ps(y0, _mm512_maskz_loadu_ps(m0, cr));
            if (m1) y1 = _mm512_add_ps(y1, _mm512_maskz_loadu_ps(m1, cr + 16));
        }
        if (epi) {
            if (bias) { __m512 bv = _mm512_set1_ps(bias[i]); y0 = _mm512_add_ps(y0, bv); y1 = _mm512_add_ps(y1, bv); }
            if (res) {
                const float *rr = res + i * ldc;
                y0 = _mm512_add_ps(y0, _mm512_maskz_loadu_ps(m0, rr));
                if (m1) y1 = _mm512_add_ps(y1, _mm512_maskz_loadu_ps(m1, rr + 16));
            }
            y0 = act512(y0, act);
            y1 = act512(y1, act);
        }
        _mm512_mask_storeu_ps(cr, m0, y0);
        if (m1) _mm512_mask_storeu_ps(cr + 16, m1, y1);
    }
}
const qtop_sgemm_kernel qtop__sgemm_avx512 = { MR5, NR5, ukr_avx512 };

/* AVX2: 6 rows × 16 columns, 12 ymm accumulators. Partial column tiles use masked loads and stores (lanes at or
 * past nr are never accessed); the epilogue runs in registers in the scalar order (acc + bias) + residual, then the
 * activation. */
#define MR2 6
#define NR2 16
static T_AVX2 void ukr_avx2(int kc, const float *Ap, const float *Bp, int64_t ldb, float *C, int64_t ldc,
                            int accumulate, int mr, int nr, const qtop_sgemm_epi *epi) {
    __m256 c0[MR2], c1[MR2];
    for (int i = 0; i < MR2; i++) { c0[i] = _mm256_setzero_ps(); c1[i] = _mm256_setzero_ps(); }
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), iota);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), iota);
    if (nr == NR2) {
        for (int k = 0; k < kc; k++) {
            const float *b = Bp + (int64_t)k * ldb;
            __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
            const float *a = Ap + k * MR2;
            for (int i = 0; i < MR2; i++) {
                __m256 av = _mm256_broadcast_ss(a + i);
                c0[i] = _mm256_fmadd_ps(av, b0, c0[i]);
                c1[i] = _mm256_fmadd_ps(av, b1, c1[i]);
            }
        }
    } else {
        for (int k = 0; k < kc; k++) {
            const float *b = Bp + (int64_t)k * ldb;
            __m256 b0 = _mm256_maskload_ps(b, m0), b1 = _mm256_maskload_ps(b + 8, m1);
            const float *a = Ap + k * MR2;
            for (int i = 0; i < MR2; i++) {
                __m256 av = _mm256_broadcast_ss(a + i);
                c0[i] = _mm256_fmadd_ps(av, b0, c0[i]);
                c1[i] = _mm256_fmadd_ps(av, b1, c1[i]);
            }
        }
    }
    const int full = nr == NR2;
    for (int i = 0; i < mr; i++) {
        float *cr = C + i * ldc;
        __m256 y0 = c0[i], y1 = c1[i];
        if (accumulate) {
            y0 = _mm256_add_ps(y0, full ? _mm256_loadu_ps(cr) : _mm256_maskload_ps(cr, m0));
            y1 = _mm256_add_ps(y1, full ? _mm256_loadu_ps(cr + 8) : _mm256_maskload_ps(cr + 8, m1));
        }
        if (epi) {
            __m256 bv = _mm256_set1_ps(epi->bias ? epi->bias[i] : 0.0f);
            y0 = _mm256_add_ps(y0, bv);
            y1 = _mm256_add_ps(y1, bv);
            if (epi->res) {
                const float *rr = epi->res + i * ldc;
                y0 = _mm256_add_ps(y0, full ? _mm256_loadu_ps(rr) : _mm256_maskload_ps(rr, m0));
                y1 = _mm256_add_ps(y1, full ? _mm256_loadu_ps(rr + 8) : _mm256_maskload_ps(rr + 8, m1));
            }
            y0 = act256(y0, epi->act);
            y1 = act256(y1, epi->act);
        }
        if (full) {
            _mm256_storeu_ps(cr, y0);
            _mm256_storeu_ps(cr + 8, y1);
        } else {
            _mm256_maskstore_ps(cr, m0, y0);
            _mm256_maskstore_ps(cr + 8, m1, y1);
        }
    }
}
const qtop_sgemm_kernel qtop__sgemm_avx2 = { MR2, NR2, ukr_avx2, 1 };

/* Even elements of 16 consecutive floats (AVX2): the stride-2 gather used by im2col and the depthwise phases. */
static inline T_AVX2 __m256 ld_s2(const float *p) {   /* p[0], p[2], ..., p[14] */
    __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
    __m256 e = _mm256_shuffle_ps(a, b, 0x88);   /* a0 a2 b0 b2 | a4 a6 b4 b6 */
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
}
/* dst[i] = src[2*i] for i < n (stride-2 im2col rows, depthwise phases). A full vector reads src[2i .. 2i+15], one
 * float past the last one it needs, so full vectors stop while one more needed element follows; the last 1..8
 * outputs use masked loads (no element past src[2(n-1)] is touched). */
T_AVX2 void qtop__gather_stride2_avx2(float *dst, const float *src, int n) {
    int i = 0;
    for (; i + 9 <= n; i += 8) _mm256_storeu_ps(dst + i, ld_s2(src + 2 * (int64_t)i));
    if (i >= n) return;
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int rem = n - i, need = 2 * rem - 1;
    const float *p = src + 2 * (int64_t)i;
    __m256 a = _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(need), iota));
    __m256 b = _mm256_maskload_ps(p + 8, _mm256_cmpgt_epi32(_mm256_set1_epi32(need - 8), iota));
    __m256 e = _mm256_shuffle_ps(a, b, 0x88);
    e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
    float t[8];   /* no masked store: it is microcoded on AMD cores */
    _mm256_storeu_ps(t, e);
    for (int k = 0; k < rem; k++) dst[i + k] = t[k];
}

/* Small output planes (a few dozen pixels): the transposed product T[p][oc] = Σk B[k][p]·W[oc][k], 7 pixels × 64
 * channels (28 zmm accumulators) per call, so short pixel rows waste no vector lanes. Wp: [kc][64] channel panel;
 * B rows at stride ldb; only pixels [0, np) of B are read; T rows (64 floats each) for all 7 pixels are written
 * (rows >= np hold unused values). accumulate=1 adds to T. */
T_512 void qtop__sgemm_t7x64_avx512(int kc, const float *Wp, const float *B, int64_t ldb, int np, float *T,
                                    int accumulate) {
    __m512 acc[7][4];
    int off[7];
    for (int p = 0; p < 7; p++) off[p] = p < np ? p : np - 1;
    for (int p = 0; p < 7; p++)
        for (int q = 0; q < 4; q++) acc[p][q] = accumulate ? _mm512_loadu_ps(T + p * 64 + q * 16) : _mm512_setzero_ps();
    for (int k = 0; k < kc; k++) {
        const float *w = Wp + (int64_t)k * 64;
        const float *b = B + (int64_t)k * ldb;
        __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16), w2 = _mm512_loadu_ps(w + 32),
               w3 = _mm512_loadu_ps(w + 48);
        for (int p = 0; p < 7; p++) {
            __m512 bv = _mm512_set1_ps(b[off[p]]);
            acc[p][0] = _mm512_fmadd_ps(bv, w0, acc[p][0]);
            acc[p][1] = _mm512_fmadd_ps(bv, w1, acc[p][1]);
            acc[p][2] = _mm512_fmadd_ps(bv, w2, acc[p][2]);
            acc[p][3] = _mm512_fmadd_ps(bv, w3, acc[p][3]);
        }
    }
    for (int p = 0; p < 7; p++)
        for (int q = 0; q < 4; q++) _mm512_storeu_ps(T + p * 64 + q * 16, acc[p][q]);
}
#endif

#if defined(__x86_64__)
/* dst[x] = src[2x] for x in [0, n): even lanes of two zmm loads; the last block is masked so no element past
 * src[2(n-1)] is read. */
T_512 void qtop__gather_stride2_avx512(float *dst, const float *src, int n) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    int x = 0;
    for (; x + 16 <= n; x += 16) {
        const float *s = src + 2 * (int64_t)x;
        __m512 lo = _mm512_loadu_ps(s);
        /* elements s[16..31]: the last one (s[31]) is odd, never needed; mask it so the final block stays in bounds */
        __m512 hi = _mm512_maskz_loadu_ps((__mmask16)0x7FFF, s + 16);
        _mm512_storeu_ps(dst + x, _mm512_permutex2var_ps(lo, even, hi));
    }
    if (x < n) {
        int rem = n - x;                 /* 1..15 outputs, reading s[0 .. 2(rem-1)] */
        int need = 2 * (rem - 1) + 1;    /* elements to read */
        const float *s = src + 2 * (int64_t)x;
        __mmask16 m0 = need >= 16 ? 0xFFFF : (__mmask16)((1u << need) - 1);
        __mmask16 m1 = need <= 16 ? 0 : (__mmask16)((1u << (need - 16)) - 1);
        __m512 lo = _mm512_maskz_loadu_ps(m0, s);
        __m512 hi = _mm512_maskz_loadu_ps(m1, s + 16);
        _mm512_mask_storeu_ps(dst + x, (__mmask16)((1u << rem) - 1), _mm512_permutex2var_ps(lo, even, hi));
    }
}
#endif
