/* x86 fp32 pooling rows (contract in isa_config.h, driver in f32_pool.c). Each computes exactly what the generic
 * row computes, operation for operation: pool_row folds the k taps of a window in order, 8 / 16 outputs at a time.
 * max is `a > b ? a : b` with the accumulator first, which is what maxps computes. Stride 2 folds at every column
 * and keeps the even ones (two loads per 16 / 8 outputs, one permute); other strides use the generic row. */
#include "isa_config.h"
#if defined(__x86_64__)
#include <float.h>
#include <immintrin.h>

#define T_AVX2 __attribute__((target("avx2,fma")))
#define T_512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

void qtop__f32_pool_row_generic(float *acc, const float *pad, int64_t n, int k, int s, int is_max);

/* ---------------------------------------------------------------- AVX2 ------------------------------------ */

T_AVX2 static inline __m256 op8(__m256 a, __m256 b, int is_max) { return is_max ? _mm256_max_ps(a, b) : _mm256_add_ps(a, b); }

T_AVX2 static inline __m256i mask8(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 8 ? n : 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}


T_AVX2 static void pool_row_avx2(float *acc, const float *pad, int64_t n, int k, int s, int is_max) {
    if (s != 1 && s != 2) { qtop__f32_pool_row_generic(acc, pad, n, k, s, is_max); return; }
    for (int64_t q = 0; q < n; q += 8) {
        __m256 v;
        if (s == 1) {
            v = _mm256_loadu_ps(pad + q);
            for (int t = 1; t < k; t++) v = op8(v, _mm256_loadu_ps(pad + q + t), is_max);
        } else {
            const float *p = pad + 2 * q;
            __m256 v0 = _mm256_loadu_ps(p), v1 = _mm256_loadu_ps(p + 8);
            for (int t = 1; t < k; t++) {
                v0 = op8(v0, _mm256_loadu_ps(p + t), is_max);
                v1 = op8(v1, _mm256_loadu_ps(p + 8 + t), is_max);
            }
            __m256 e = _mm256_shuffle_ps(v0, v1, _MM_SHUFFLE(2, 0, 2, 0));    /* v0_0 v0_2 v1_0 v1_2 | v0_4 v0_6 v1_4 v1_6 */
            v = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
        }
        if (q + 8 <= n) {
            _mm256_storeu_ps(acc + q, op8(_mm256_loadu_ps(acc + q), v, is_max));
        } else {
            __m256i m = mask8(n - q);
            _mm256_maskstore_ps(acc + q, m, op8(_mm256_maskload_ps(acc + q, m), v, is_max));
        }
    }
}

const qtop_f32_pool_ops qtop__f32_pool_avx2 = { pool_row_avx2 };

/* ---------------------------------------------------------------- AVX-512 --------------------------------- */

T_512 static inline __m512 op16(__m512 a, __m512 b, int is_max) { return is_max ? _mm512_max_ps(a, b) : _mm512_add_ps(a, b); }

T_512 static inline __mmask16 mask16(int64_t n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1); }


T_512 static void pool_row_avx512(float *acc, const float *pad, int64_t n, int k, int s, int is_max) {
    if (s != 1 && s != 2) { qtop__f32_pool_row_generic(acc, pad, n, k, s, is_max); return; }
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (int64_t q = 0; q < n; q += 16) {
        __m512 v;
        if (s == 1) {
            v = _mm512_loadu_ps(pad + q);
            for (int t = 1; t < k; t++) v = op16(v, _mm512_loadu_ps(pad + q + t), is_max);
        } else {
            const float *p = pad + 2 * q;
            __m512 v0 = _mm512_loadu_ps(p), v1 = _mm512_loadu_ps(p + 16);
            for (int t = 1; t < k; t++) {
                v0 = op16(v0, _mm512_loadu_ps(p + t), is_max);
                v1 = op16(v1, _mm512_loadu_ps(p + 16 + t), is_max);
            }
            v = _mm512_permutex2var_ps(v0, evens, v1);
        }
        __mmask16 m = mask16(n - q);
        _mm512_mask_storeu_ps(acc + q, m, op16(_mm512_maskz_loadu_ps(m, acc + q), v, is_max));
    }
}

const qtop_f32_pool_ops qtop__f32_pool_avx512 = { pool_row_avx512 };
#endif
