/* x86-64 fp32 GEMM microkernels (FMA allowed: fp32 kernels are compared with a tolerance). */
#include "f32_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define T_512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define T_AVX2 __attribute__((target("avx2,fma")))

/* AVX-512: 8 rows × 32 columns, 16 zmm accumulators. */
#define MR5 8
#define NR5 32
static T_512 void ukr_avx512(int kc, const float *Ap, const float *Bp, float *C, int64_t ldc, int accumulate, int mr,
                             int nr) {
    __m512 c0[MR5], c1[MR5];
    for (int i = 0; i < MR5; i++) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_loadu_ps(Bp + k * NR5), b1 = _mm512_loadu_ps(Bp + k * NR5 + 16);
        const float *a = Ap + k * MR5;
        for (int i = 0; i < MR5; i++) {
            __m512 av = _mm512_set1_ps(a[i]);
            c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
        }
    }
    if (mr == MR5 && nr == NR5) {
        for (int i = 0; i < MR5; i++) {
            float *cr = C + i * ldc;
            if (accumulate) {
                c0[i] = _mm512_add_ps(c0[i], _mm512_loadu_ps(cr));
                c1[i] = _mm512_add_ps(c1[i], _mm512_loadu_ps(cr + 16));
            }
            _mm512_storeu_ps(cr, c0[i]);
            _mm512_storeu_ps(cr + 16, c1[i]);
        }
        return;
    }
    __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
    for (int i = 0; i < mr; i++) {
        float *cr = C + i * ldc;
        if (accumulate) {
            c0[i] = _mm512_add_ps(c0[i], _mm512_maskz_loadu_ps(m0, cr));
            c1[i] = _mm512_add_ps(c1[i], _mm512_maskz_loadu_ps(m1, cr + 16));
        }
        _mm512_mask_storeu_ps(cr, m0, c0[i]);
        _mm512_mask_storeu_ps(cr + 16, m1, c1[i]);
    }
}
const qtop_sgemm_kernel qtop__sgemm_avx512 = { MR5, NR5, ukr_avx512 };

/* AVX2: 6 rows × 16 columns, 12 ymm accumulators. */
#define MR2 6
#define NR2 16
static T_AVX2 void ukr_avx2(int kc, const float *Ap, const float *Bp, float *C, int64_t ldc, int accumulate, int mr,
                            int nr) {
    __m256 c0[MR2], c1[MR2];
    for (int i = 0; i < MR2; i++) { c0[i] = _mm256_setzero_ps(); c1[i] = _mm256_setzero_ps(); }
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_loadu_ps(Bp + k * NR2), b1 = _mm256_loadu_ps(Bp + k * NR2 + 8);
        const float *a = Ap + k * MR2;
        for (int i = 0; i < MR2; i++) {
            __m256 av = _mm256_broadcast_ss(a + i);
            c0[i] = _mm256_fmadd_ps(av, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(av, b1, c1[i]);
        }
    }
    if (mr == MR2 && nr == NR2) {
        for (int i = 0; i < MR2; i++) {
            float *cr = C + i * ldc;
            if (accumulate) {
                c0[i] = _mm256_add_ps(c0[i], _mm256_loadu_ps(cr));
                c1[i] = _mm256_add_ps(c1[i], _mm256_loadu_ps(cr + 8));
            }
            _mm256_storeu_ps(cr, c0[i]);
            _mm256_storeu_ps(cr + 8, c1[i]);
        }
        return;
    }
    float t[MR2 * NR2];
    for (int i = 0; i < MR2; i++) { _mm256_storeu_ps(t + i * NR2, c0[i]); _mm256_storeu_ps(t + i * NR2 + 8, c1[i]); }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) C[i * ldc + j] = accumulate ? C[i * ldc + j] + t[i * NR2 + j] : t[i * NR2 + j];
}
const qtop_sgemm_kernel qtop__sgemm_avx2 = { MR2, NR2, ukr_avx2 };
/* Depthwise fp32 on one NCHW plane, stride_w 1: 16 output columns per zmm accumulator, taps inner, masked loads
 * for the borders (masked-off lanes are never accessed). */
T_512 void qtop__fdw_plane_avx512(const qtop_fconv_desc *d, int oh, int ow, const float *pl, const float *w, float b,
                                  const float *res, float *out) {
    const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.0f), three = _mm512_set1_ps(3.0f);
    const __m512 sixth = _mm512_set1_ps(1.0f / 6.0f), bv = _mm512_set1_ps(b);
    for (int oy = 0; oy < oh; oy++) {
        float *o = out + (int64_t)oy * ow;
        const float *rr = res ? res + (int64_t)oy * ow : NULL;
        for (int x0 = 0; x0 < ow; x0 += 16) {
            int rem = ow - x0;
            uint32_t mo = rem >= 16 ? 0xFFFFu : ((1u << rem) - 1);
            __m512 acc = zero;
            for (int ky = 0; ky < d->kh; ky++) {
                int iy = oy * d->stride_h - d->pad_t + ky * d->dil_h;
                if (iy < 0 || iy >= d->h) continue;
                const float *row = pl + (int64_t)iy * d->w;
                for (int kx = 0; kx < d->kw; kx++) {
                    int off = kx * d->dil_w - d->pad_l;
                    int lo = -off - x0, hi = d->w - off - x0;   /* valid lanes: lo <= l < hi */
                    if (lo < 0) lo = 0;
                    if (hi > 16) hi = 16;
                    if (hi <= lo) continue;
                    uint32_t m = (hi >= 32 ? 0xFFFFFFFFu : ((1u << hi) - 1)) & ~((1u << lo) - 1) & mo;
                    if (!m) continue;
                    __m512 v = _mm512_maskz_loadu_ps((__mmask16)m, row + x0 + off);
                    acc = _mm512_fmadd_ps(_mm512_set1_ps(w[ky * d->kw + kx]), v, acc);
                }
            }
            __m512 y = _mm512_add_ps(acc, bv);
            if (rr) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps((__mmask16)mo, rr + x0));
            switch (d->act) {
            case QTOP_ACT_RELU: y = _mm512_max_ps(y, zero); break;
            case QTOP_ACT_RELU6: y = _mm512_min_ps(_mm512_max_ps(y, zero), six); break;
            case QTOP_ACT_HARD_SWISH:
                y = _mm512_mul_ps(y, _mm512_mul_ps(_mm512_min_ps(_mm512_max_ps(_mm512_add_ps(y, three), zero), six), sixth));
                break;
            default: break;
            }
            _mm512_mask_storeu_ps(o + x0, (__mmask16)mo, y);
        }
    }
}
#endif
