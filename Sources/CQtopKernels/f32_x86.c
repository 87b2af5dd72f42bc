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
#endif
