/* Internal to CQtopKernels (x86 fp32 kernels only): the fused activations on ymm / zmm registers, in the scalar
 * order of act_f in f32.c (hard_swish = y · (min(max(y + 3, 0), 6) · 1/6)). Include after <immintrin.h>. */
#ifndef QTOP_F32_ACT_X86_H
#define QTOP_F32_ACT_X86_H
#include "include/qtop_kernels.h"
#include <immintrin.h>

static inline __attribute__((target("avx2,fma"))) __m256 qtop__act256(__m256 y, int act) {
    const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.0f);
    switch (act) {
    case QTOP_ACT_RELU: return _mm256_max_ps(y, zero);
    case QTOP_ACT_RELU6: return _mm256_min_ps(_mm256_max_ps(y, zero), six);
    case QTOP_ACT_HARD_SWISH:
        return _mm256_mul_ps(y, _mm256_mul_ps(_mm256_min_ps(_mm256_max_ps(_mm256_add_ps(y, _mm256_set1_ps(3.0f)), zero), six),
                                              _mm256_set1_ps(1.0f / 6.0f)));
    default: return y;
    }
}

static inline __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"))) __m512 qtop__act512(__m512 y, int act) {
    const __m512 zero = _mm512_setzero_ps();
    switch (act) {
    case QTOP_ACT_RELU: return _mm512_max_ps(y, zero);
    case QTOP_ACT_RELU6: return _mm512_min_ps(_mm512_max_ps(y, zero), _mm512_set1_ps(6.0f));
    case QTOP_ACT_HARD_SWISH: {
        __m512 t = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(y, _mm512_set1_ps(3.0f)), zero), _mm512_set1_ps(6.0f));
        return _mm512_mul_ps(y, _mm512_mul_ps(t, _mm512_set1_ps(1.0f / 6.0f)));
    }
    default: return y;
    }
}
#endif
