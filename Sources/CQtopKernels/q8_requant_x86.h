/* Internal to CQtopKernels, x86 only: the AVX2 requantizing epilogue's per-vector steps (the exact scalar chain of
 * qtop__q8_epilogue, lane by lane; no FMA — FP_CONTRACT is off in every file that includes this). Shared by the
 * GEMM epilogue (q8_x86.c) and the depthwise tiles that requantize in registers (q8_dw_x86.c), so both produce the
 * same bits by construction. */
#ifndef QTOP_Q8_REQUANT_X86_H
#define QTOP_Q8_REQUANT_X86_H
#include "q8_internal.h"
#include "q8_act_x86.h"
#include <immintrin.h>

#define Q8R_INL static inline __attribute__((always_inline, target("avx2,fma")))

/* Everything the AVX2 epilogue reads from the conv, passed in as values: the output stores are byte stores, which
 * may alias any field, so reading `c->...` in the loop would reload it after every store. */
typedef struct {
    __m256 zero, three, six, sixth, stepr, inv, hi, inv2, hi2;
    int res_dt, act, dst_dt, has_q2, q2_dt, has_comp;
    float act_alpha, act_beta;   /* hard_sigmoid's slope / offset */
} epi8_consts;

/* y → int32 codes of the requantized output, the spec's clamp(rint(y · inv)) with NaN → 0, in the fewest ops that
 * stay bit-exact once the caller packs with signed saturation (packs_epi32, then packus_epi16 for u8 / packs_epi16
 * for s8), which performs the low clamp: cvtps2dq rounds half to even and turns NaN and |v| ≥ 2^31 into INT_MIN.
 * min(hi, v) keeps v when v is NaN (MINPS returns its second operand then). u8: every v < 0, -inf and NaN end as
 * INT_MIN or a negative code, which packus makes 0 — the spec's 0 for all three. s8: NaN would saturate to -128,
 * so it is masked to 0.0 first (on v: y·inv is also NaN for y = 0, inv = inf). */
Q8R_INL __m256i epi8_codes(__m256 y, __m256 inv, __m256 hi, int u8) {
    __m256 v = _mm256_min_ps(hi, _mm256_mul_ps(y, inv));
    if (!u8) v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
    return _mm256_cvtps_epi32(v);
}

/* Codes of 8 channels → 8 bytes (the f32-output path's second quantized output and 8-channel tails). */
Q8R_INL __m128i epi8_pack8(__m256i q, int u8) {
    __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    return u8 ? _mm_packus_epi16(w16, w16) : _mm_packs_epi16(w16, w16);
}

/* Codes of 16 consecutive channels (qa: 0–7, qb: 8–15) → 16 bytes in channel order. */
Q8R_INL __m128i epi8_pack16(__m256i qa, __m256i qb, int u8) {
    __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(qa, qb), 0xD8);   /* a0..7 b0..7 as s16 */
    __m128i lo = _mm256_castsi256_si128(w), hi = _mm256_extracti128_si256(w, 1);
    return u8 ? _mm_packus_epi16(lo, hi) : _mm_packs_epi16(lo, hi);
}

/* Loop index of the sigmoid family (sigmoid, hard_sigmoid, swish): one specialization for the three, which
 * q8_act_ext_256 tells apart by k->act (a branch that predicts perfectly within a tile). */
#define EPI8_ACT_EXT 4

/* The chain for one vector up to the activation; res_dt, act and out (0 u8, 1 s8, 2 f32, 3 f32 + second quantized
 * output) are compile-time constants in the specialized loops below, so the per-vector work has no branches.
 * ReLU before a u8 output is skipped: the requantization maps every y ≤ 0 and NaN to 0 exactly as relu's 0 does. */
Q8R_INL __m256 epi8_y(const epi8_consts *k, __m256i a, __m256i compv, __m256 scalev, __m256 biasv, const void *res,
                         int64_t at, const int res_dt, const int act, const int out) {
    if (k->has_comp) a = _mm256_add_epi32(a, compv);
    __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(a), scalev);
    y = _mm256_add_ps(y, biasv);
    switch (res_dt) {
    case QTOP_DT_U8: {
        __m256i r = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)((const uint8_t *)res + at)));
        y = _mm256_add_ps(y, _mm256_mul_ps(_mm256_cvtepi32_ps(r), k->stepr));
        break;
    }
    case QTOP_DT_S8: {
        __m256i r = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)((const int8_t *)res + at)));
        y = _mm256_add_ps(y, _mm256_mul_ps(_mm256_cvtepi32_ps(r), k->stepr));
        break;
    }
    case QTOP_DT_F32: y = _mm256_add_ps(y, _mm256_loadu_ps((const float *)res + at)); break;
    default: break;
    }
    switch (act) {
    case QTOP_ACT_RELU: if (out != 0) y = _mm256_max_ps(y, k->zero); break;
    case QTOP_ACT_RELU6: y = _mm256_min_ps(_mm256_max_ps(y, k->zero), k->six); break;
    case QTOP_ACT_HARD_SWISH: {
        __m256 t = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(y, k->three), k->zero), k->six);
        y = _mm256_mul_ps(y, _mm256_mul_ps(t, k->sixth));
        break;
    }
    case EPI8_ACT_EXT: y = q8_act_ext_256(y, k->act, k->act_alpha, k->act_beta); break;
    default: break;
    }
    return y;
}

/* One 8-channel vector of an f32-output tile: the f32 store, and the second quantized output when out == 3. */
Q8R_INL void epi8_vec_f32(const epi8_consts *k, __m256 y, void *dst, void *dst2, int64_t at, const int out) {
    _mm256_storeu_ps((float *)dst + at, y);
    if (out == 3) {
        const int u8 = k->q2_dt == QTOP_DT_U8;
        _mm_storel_epi64((__m128i *)((uint8_t *)dst2 + at), epi8_pack8(epi8_codes(y, k->inv2, k->hi2, u8), u8));
    }
}

/* The loop index of an activation code (none, relu, relu6, hard_swish, EPI8_ACT_EXT for the sigmoid family), or -1
 * for a code without a vector form here (the caller then takes the scalar chain). */
static inline int epi8_act_index(int act) {
    return act >= QTOP_ACT_NONE && act <= QTOP_ACT_HARD_SWISH ? act - QTOP_ACT_NONE
         : act >= QTOP_ACT_SIGMOID && act <= QTOP_ACT_SWISH ? EPI8_ACT_EXT : -1;
}

/* Output kind: 0 u8, 1 s8, 2 f32, 3 f32 + the second quantized output. */
static inline int epi8_out_kind(const qtop_qconv_desc *d) {
    return d->dst_dt == QTOP_DT_U8 ? 0 : d->dst_dt == QTOP_DT_S8 ? 1 : d->has_q2 ? 3 : 2;
}

/* The constants of conv c's epilogue. */
Q8R_INL void epi8_consts_init(epi8_consts *k, const struct qtop_qconv *c) {
    const qtop_qconv_desc *d = &c->d;
    k->zero = _mm256_setzero_ps(); k->three = _mm256_set1_ps(3.0f); k->six = _mm256_set1_ps(6.0f);
    k->sixth = _mm256_set1_ps(1.0f / 6.0f); k->stepr = _mm256_set1_ps(c->step_r); k->inv = _mm256_set1_ps(c->inv_out);
    k->hi = _mm256_set1_ps(d->dst_dt == QTOP_DT_U8 ? QTOP_U8_MAX : 127.0f);
    k->inv2 = _mm256_set1_ps(c->inv_q2);
    k->hi2 = _mm256_set1_ps(d->q2_dt == QTOP_DT_U8 ? QTOP_U8_MAX : 127.0f);
    k->res_dt = d->res_dt; k->act = d->act; k->dst_dt = d->dst_dt; k->has_q2 = d->has_q2; k->q2_dt = d->q2_dt;
    k->has_comp = c->comp != NULL;
    k->act_alpha = d->act_alpha; k->act_beta = d->act_beta;
}
#endif
