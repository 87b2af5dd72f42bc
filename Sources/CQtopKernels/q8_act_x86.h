/* Internal to CQtopKernels, x86 only: the SIMD twins of q8_act.h (same operations in the same order, lane by lane;
 * max_ps(x, lo) is `x > lo ? x : lo`, min_ps(x, hi) is `x < hi ? x : hi`, roundscale/round_ps with
 * _MM_FROUND_TO_NEAREST_INT is rintf, unary minus flips the sign bit as C does). Included by q8_x86.c and
 * q8_requant_x86.h. */
#ifndef QTOP_Q8_ACT_X86_H
#define QTOP_Q8_ACT_X86_H
#include "q8_act.h"
#include "include/qtop_kernels.h"
#include <immintrin.h>

#define Q8A_T512 __attribute__((target("avx512f"), always_inline))
#define Q8A_TAVX2 __attribute__((target("avx2"), always_inline))

static inline Q8A_T512 __m512 q8_exp_512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(Q8_EXP_LO));
    x = _mm512_min_ps(x, _mm512_set1_ps(Q8_EXP_HI));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(Q8_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_sub_ps(x, _mm512_mul_ps(n, _mm512_set1_ps(Q8_LN2_HI)));
    r = _mm512_sub_ps(r, _mm512_mul_ps(n, _mm512_set1_ps(Q8_LN2_LO)));
    __m512 z = _mm512_mul_ps(r, r);
    __m512 p = _mm512_set1_ps(Q8_EXP_P0);
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(Q8_EXP_P1));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(Q8_EXP_P2));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(Q8_EXP_P3));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(Q8_EXP_P4));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(Q8_EXP_P5));
    p = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, z), r), _mm512_set1_ps(1.0f));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

static inline Q8A_T512 __m512 q8_sigmoid_512(__m512 y) {
    __m512 neg = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(y), _mm512_set1_epi32((int32_t)0x80000000u)));
    __m512 one = _mm512_set1_ps(1.0f);
    return _mm512_div_ps(one, _mm512_add_ps(one, q8_exp_512(neg)));
}

/* The sigmoid-family activation codes (QTOP_ACT_SIGMOID, _HARD_SIGMOID, _SWISH); other codes return y. */
static inline Q8A_T512 __m512 q8_act_ext_512(__m512 y, int act, float alpha, float beta) {
    switch (act) {
    case QTOP_ACT_SIGMOID: return q8_sigmoid_512(y);
    case QTOP_ACT_SWISH: return _mm512_mul_ps(y, q8_sigmoid_512(y));
    case QTOP_ACT_HARD_SIGMOID: {
        __m512 t = _mm512_add_ps(_mm512_mul_ps(y, _mm512_set1_ps(alpha)), _mm512_set1_ps(beta));
        return _mm512_min_ps(_mm512_max_ps(t, _mm512_setzero_ps()), _mm512_set1_ps(1.0f));
    }
    default: return y;
    }
}

static inline Q8A_TAVX2 __m256 q8_exp_256(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(Q8_EXP_LO));
    x = _mm256_min_ps(x, _mm256_set1_ps(Q8_EXP_HI));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(Q8_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(Q8_LN2_HI)));
    r = _mm256_sub_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(Q8_LN2_LO)));
    __m256 z = _mm256_mul_ps(r, r);
    __m256 p = _mm256_set1_ps(Q8_EXP_P0);
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(Q8_EXP_P1));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(Q8_EXP_P2));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(Q8_EXP_P3));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(Q8_EXP_P4));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(Q8_EXP_P5));
    p = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, z), r), _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline Q8A_TAVX2 __m256 q8_sigmoid_256(__m256 y) {
    __m256 neg = _mm256_xor_ps(y, _mm256_castsi256_ps(_mm256_set1_epi32((int32_t)0x80000000u)));
    __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, q8_exp_256(neg)));
}

static inline Q8A_TAVX2 __m256 q8_act_ext_256(__m256 y, int act, float alpha, float beta) {
    switch (act) {
    case QTOP_ACT_SIGMOID: return q8_sigmoid_256(y);
    case QTOP_ACT_SWISH: return _mm256_mul_ps(y, q8_sigmoid_256(y));
    case QTOP_ACT_HARD_SIGMOID: {
        __m256 t = _mm256_add_ps(_mm256_mul_ps(y, _mm256_set1_ps(alpha)), _mm256_set1_ps(beta));
        return _mm256_min_ps(_mm256_max_ps(t, _mm256_setzero_ps()), _mm256_set1_ps(1.0f));
    }
    default: return y;
    }
}
#endif
