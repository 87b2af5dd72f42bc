/* x86-64 int8 microkernels, compiled per ISA with function-level target attributes. */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#include "isa_config.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>
#include "q8_act_x86.h"
#include "q8_requant_x86.h"

#define T_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define T_512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#define T_AVX2 __attribute__((target("avx2,fma")))
#define INL static inline __attribute__((always_inline))

static inline int32_t ld32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }

/* ---------------- AVX-512 VNNI: vpdpbusd, u8 activations × s8 weights, 4 k per lane. */
INL T_VNNI void vnni_body(const uint8_t *A, int64_t lda, const int8_t *W, int64_t bs, int kq, int32_t *tile,
                          const int MR, const int NB, const int XR) {
    __m512i acc[Q8_MR][Q8_NBMAX];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NB; j++) acc[i][j] = _mm512_setzero_si512();
    const __m512i x80 = _mm512_set1_epi32((int32_t)0x80808080u);
    for (int k = 0; k < kq; k++) {
        __m512i w[Q8_NBMAX];
        for (int j = 0; j < NB; j++) w[j] = _mm512_loadu_si512((const void *)(W + j * bs + (int64_t)k * 64));
        for (int i = 0; i < MR; i++) {
            __m512i a = _mm512_set1_epi32(ld32(A + i * lda + (int64_t)k * 4));
            if (XR) a = _mm512_xor_si512(a, x80);
            for (int j = 0; j < NB; j++) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], a, w[j]);
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NB; j++) _mm512_storeu_si512((void *)(tile + i * 64 + j * 16), acc[i][j]);
}

/* ---------------- AVX-512 (no VNNI): s16 activations × s16 weights with vpmaddwd, 2 k per lane (exact). */
INL T_512 void s16_512_body(const int16_t *A, int64_t lda, const int16_t *W, int64_t bs, int kq2, int32_t *tile,
                            const int MR, const int NB) {
    __m512i acc[Q8_MR][Q8_NBMAX];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NB; j++) acc[i][j] = _mm512_setzero_si512();
    for (int k = 0; k < kq2; k++) {
        __m512i w[Q8_NBMAX];
        for (int j = 0; j < NB; j++) w[j] = _mm512_loadu_si512((const void *)(W + j * bs + (int64_t)k * 32));
        for (int i = 0; i < MR; i++) {
            __m512i a = _mm512_set1_epi32(ld32(A + i * lda + (int64_t)k * 2));
            for (int j = 0; j < NB; j++) acc[i][j] = _mm512_add_epi32(acc[i][j], _mm512_madd_epi16(a, w[j]));
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NB; j++) _mm512_storeu_si512((void *)(tile + i * 64 + j * 16), acc[i][j]);
}

/* ---------------- AVX-512 (no VNNI) u8: vpmaddubsw + vpmaddwd on zmm, the VNNI packing; exact for A bytes <= 127
 * (see u8_avx2_body). */
INL T_512 void u8_512_body(const uint8_t *A, int64_t lda, const int8_t *W, int64_t bs, int kq, int32_t *tile,
                           const int MR, const int NB) {
    __m512i acc[Q8_MR][Q8_NBMAX];
    const __m512i ones = _mm512_set1_epi16(1);
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NB; j++) acc[i][j] = _mm512_setzero_si512();
    for (int k = 0; k < kq; k++) {
        __m512i w[Q8_NBMAX];
        for (int j = 0; j < NB; j++) w[j] = _mm512_loadu_si512((const void *)(W + j * bs + (int64_t)k * 64));
        for (int i = 0; i < MR; i++) {
            __m512i a = _mm512_set1_epi32(ld32(A + i * lda + (int64_t)k * 4));
            for (int j = 0; j < NB; j++)
                acc[i][j] = _mm512_add_epi32(acc[i][j], _mm512_madd_epi16(_mm512_maddubs_epi16(a, w[j]), ones));
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NB; j++) _mm512_storeu_si512((void *)(tile + i * 64 + j * 16), acc[i][j]);
}

/* ---------------- AVX2 s16: same scheme as s16_512, one 16-channel block = 2 ymm per row. */
INL T_AVX2 void s16_avx2_body(const int16_t *A, int64_t lda, const int16_t *W, int64_t bs, int kq2, int32_t *tile,
                              const int MR, const int NB) {
    __m256i acc[Q8_MR][2 * Q8_NBMAX];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < 2 * NB; j++) acc[i][j] = _mm256_setzero_si256();
    for (int k = 0; k < kq2; k++) {
        __m256i w[2 * Q8_NBMAX];
        for (int j = 0; j < NB; j++) {
            w[2 * j] = _mm256_loadu_si256((const __m256i *)(W + j * bs + (int64_t)k * 32));
            w[2 * j + 1] = _mm256_loadu_si256((const __m256i *)(W + j * bs + (int64_t)k * 32 + 16));
        }
        for (int i = 0; i < MR; i++) {
            __m256i a = _mm256_set1_epi32(ld32(A + i * lda + (int64_t)k * 2));
            for (int j = 0; j < 2 * NB; j++) acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(a, w[j]));
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < 2 * NB; j++) _mm256_storeu_si256((__m256i *)(tile + i * 64 + j * 8), acc[i][j]);
}

/* ---------------- AVX2 u8: vpmaddubsw (u8 × s8 → s16 pairs) then vpmaddwd with ones (→ s32 of 4 k), on the VNNI
 * packing. Exact only while every activation byte is ≤ 127: then a pair sum lies in [2·127·(-128), 2·127·127] =
 * [-32512, 32258] and never saturates, whatever the s8 weights (including -128). The driver checks each A tile and
 * sends tiles with larger bytes to the exact generic path (config flag a_max127). */
INL T_AVX2 void u8_avx2_body(const uint8_t *A, int64_t lda, const int8_t *W, int64_t bs, int kq, int32_t *tile,
                             const int MR, const int NB) {
    __m256i acc[Q8_MR][2 * Q8_NBMAX];
    const __m256i ones = _mm256_set1_epi16(1);
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < 2 * NB; j++) acc[i][j] = _mm256_setzero_si256();
    for (int k = 0; k < kq; k++) {
        __m256i w[2 * Q8_NBMAX];
        for (int j = 0; j < NB; j++) {
            w[2 * j] = _mm256_loadu_si256((const __m256i *)(W + j * bs + (int64_t)k * 64));
            w[2 * j + 1] = _mm256_loadu_si256((const __m256i *)(W + j * bs + (int64_t)k * 64 + 32));
        }
        for (int i = 0; i < MR; i++) {
            __m256i a = _mm256_set1_epi32(ld32(A + i * lda + (int64_t)k * 4));
            for (int j = 0; j < 2 * NB; j++)
                acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(_mm256_maddubs_epi16(a, w[j]), ones));
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < 2 * NB; j++) _mm256_storeu_si256((__m256i *)(tile + i * 64 + j * 8), acc[i][j]);
}

typedef void (*vnni_fn)(const uint8_t *, int64_t, const int8_t *, int64_t, int, int32_t *);
typedef void (*s16_fn)(const int16_t *, int64_t, const int16_t *, int64_t, int, int32_t *);

#define VNNI_DEF(M, N, X)                                                                                        \
    static T_VNNI void vnni_##M##_##N##_##X(const uint8_t *A, int64_t lda, const int8_t *W, int64_t bs, int kq, \
                                              int32_t *t) { vnni_body(A, lda, W, bs, kq, t, M, N, X); }
#define VNNI_ROW(M, X) VNNI_DEF(M, 1, X) VNNI_DEF(M, 2, X) VNNI_DEF(M, 3, X) VNNI_DEF(M, 4, X)
#define VNNI_ALL(X) VNNI_ROW(1, X) VNNI_ROW(2, X) VNNI_ROW(3, X) VNNI_ROW(4, X) VNNI_ROW(5, X) VNNI_ROW(6, X)
VNNI_ALL(0)
VNNI_ALL(1)
#define VT(M, X) { vnni_##M##_1_##X, vnni_##M##_2_##X, vnni_##M##_3_##X, vnni_##M##_4_##X }
static const vnni_fn vnni_tab[2][Q8_MR][Q8_NBMAX] = {
    { VT(1, 0), VT(2, 0), VT(3, 0), VT(4, 0), VT(5, 0), VT(6, 0) },
    { VT(1, 1), VT(2, 1), VT(3, 1), VT(4, 1), VT(5, 1), VT(6, 1) },
};

#define S512_DEF(M, N)                                                                                           \
    static T_512 void s512_##M##_##N(const int16_t *A, int64_t lda, const int16_t *W, int64_t bs, int kq2,      \
                                     int32_t *t) { s16_512_body(A, lda, W, bs, kq2, t, M, N); }
#define S512_ROW(M) S512_DEF(M, 1) S512_DEF(M, 2) S512_DEF(M, 3) S512_DEF(M, 4)
S512_ROW(1) S512_ROW(2) S512_ROW(3) S512_ROW(4) S512_ROW(5) S512_ROW(6)
#define ST(M) { s512_##M##_1, s512_##M##_2, s512_##M##_3, s512_##M##_4 }
static const s16_fn s512_tab[Q8_MR][Q8_NBMAX] = { ST(1), ST(2), ST(3), ST(4), ST(5), ST(6) };

#define U512_DEF(M, N)                                                                                           \
    static T_512 void u512_##M##_##N(const uint8_t *A, int64_t lda, const int8_t *W, int64_t bs, int kq,        \
                                     int32_t *t) { u8_512_body(A, lda, W, bs, kq, t, M, N); }
#define U512_ROW(M) U512_DEF(M, 1) U512_DEF(M, 2) U512_DEF(M, 3) U512_DEF(M, 4)
U512_ROW(1) U512_ROW(2) U512_ROW(3) U512_ROW(4) U512_ROW(5) U512_ROW(6)
#define UT(M) { u512_##M##_1, u512_##M##_2, u512_##M##_3, u512_##M##_4 }
static const vnni_fn u512_tab[Q8_MR][Q8_NBMAX] = { UT(1), UT(2), UT(3), UT(4), UT(5), UT(6) };

/* AVX2 tiles: 16 ymm registers hold at most 12 accumulators plus weights and the broadcast. */
#define SAVX2_DEF(M, N)                                                                                          \
    static T_AVX2 void savx2_##M##_##N(const int16_t *A, int64_t lda, const int16_t *W, int64_t bs, int kq2,    \
                                       int32_t *t) { s16_avx2_body(A, lda, W, bs, kq2, t, M, N); }
SAVX2_DEF(1, 1) SAVX2_DEF(2, 1) SAVX2_DEF(3, 1) SAVX2_DEF(4, 1) SAVX2_DEF(5, 1) SAVX2_DEF(6, 1)
static const s16_fn savx2_tab[Q8_MR] = { savx2_1_1, savx2_2_1, savx2_3_1, savx2_4_1, savx2_5_1, savx2_6_1 };

#define UAVX2_DEF(M, N)                                                                                          \
    static T_AVX2 void uavx2_##M##_##N(const uint8_t *A, int64_t lda, const int8_t *W, int64_t bs, int kq,      \
                                       int32_t *t) { u8_avx2_body(A, lda, W, bs, kq, t, M, N); }
UAVX2_DEF(1, 1) UAVX2_DEF(2, 1) UAVX2_DEF(3, 1) UAVX2_DEF(4, 1) UAVX2_DEF(5, 1) UAVX2_DEF(6, 1)
UAVX2_DEF(1, 2) UAVX2_DEF(2, 2) UAVX2_DEF(3, 2) UAVX2_DEF(4, 2)
static const vnni_fn uavx2_tab1[Q8_MR] = { uavx2_1_1, uavx2_2_1, uavx2_3_1, uavx2_4_1, uavx2_5_1, uavx2_6_1 };
static const vnni_fn uavx2_tab2[4] = { uavx2_1_2, uavx2_2_2, uavx2_3_2, uavx2_4_2 };

/* Named op × tile × ISA (tile = rows × channels, c = k per lane). A kernel computes mr ≤ MR rows × nb ≤ NB blocks of
 * 16 channels into tile[mr][64]. */
void qtop__q8_gemm_u8_6x64c4_avx512vnni(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                        int ksteps, int xor_src, int32_t *tile) {
    vnni_tab[xor_src ? 1 : 0][mr - 1][nb - 1](A, lda, W, bstride, ksteps, tile);
}

void qtop__q8_gemm_s16_6x64c2_avx512(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                     int ksteps, int xor_src, int32_t *tile) {
    (void)xor_src;
    s512_tab[mr - 1][nb - 1](A, lda, W, bstride, ksteps, tile);
}

void qtop__q8_gemm_u8_6x64c4_avx512(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                    int ksteps, int xor_src, int32_t *tile) {
    (void)xor_src;
    u512_tab[mr - 1][nb - 1](A, lda, W, bstride, ksteps, tile);
}

void qtop__q8_gemm_s16_6x16c2_avx2(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                   int ksteps, int xor_src, int32_t *tile) {
    (void)xor_src; (void)nb; (void)bstride;
    savx2_tab[mr - 1](A, lda, W, bstride, ksteps, tile);
}

void qtop__q8_gemm_u8_6x16c4_avx2(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                  int ksteps, int xor_src, int32_t *tile) {
    (void)xor_src; (void)nb;
    uavx2_tab1[mr - 1](A, lda, W, bstride, ksteps, tile);
}

/* Five rows, the avx2 row's tile: 10 accumulators + 2 weight vectors + the broadcast, the product and the ones vector
 * fit the 16 ymm registers; six rows need 17 and spill an accumulator every k-step (measured on Zen 4: +4-7 % on
 * ResNet50's convs, up to +50 % on small-K 1x1 convs, bench/kernels/q8_gemm.sh). */
void qtop__q8_gemm_u8_5x16c4_avx2(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                  int ksteps, int xor_src, int32_t *tile) {
    (void)xor_src; (void)nb;
    uavx2_tab1[mr - 1](A, lda, W, bstride, ksteps, tile);
}

void qtop__q8_gemm_u8_4x32c4_avx2(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                  int ksteps, int xor_src, int32_t *tile) {
    (void)xor_src;
    if (nb == 2) uavx2_tab2[mr - 1](A, lda, W, bstride, ksteps, tile);
    else uavx2_tab1[mr - 1](A, lda, W, bstride, ksteps, tile);
}

/* 1 when some byte of the mr × k tile (rows lda apart) exceeds 127 (the u8 vpmaddubsw kernels' exactness bound). */
T_AVX2 int qtop__q8_any_over127_avx2(const uint8_t *A, int64_t lda, int mr, int k) {
    __m256i o = _mm256_setzero_si256();
    int tail = 0;
    for (int i = 0; i < mr; i++) {
        const uint8_t *p = A + i * lda;
        int j = 0;
        for (; j + 32 <= k; j += 32) o = _mm256_or_si256(o, _mm256_loadu_si256((const __m256i *)(p + j)));
        for (; j < k; j++) tail |= p[j];
    }
    return (_mm256_movemask_epi8(o) | (tail & 0x80)) != 0;
}

/* ---------------- vectorized epilogue: the exact scalar chain, lane by lane (no FMA; max/min reproduce the
 * `y > 0 ? y : 0` / `t < 6 ? t : 6` selects including NaN and signed zero; cvtps2dq rounds half to even).
 * Requantization clamps as max(lo, v) then min(hi, ·): a NaN passes through both (the second operand is returned)
 * and cvtps2dq turns it into 0x80000000, whose low byte is 0 — NaN → 0 as in the spec. */
/* mr output pixels pix0.. (acc rows astride apart), channels oc0..oc0+cnt: per-channel constants loaded once per
 * 16-channel chunk and reused for every row. */
T_512 void qtop__q8_epi_avx512(const struct qtop_qconv *c, int64_t pix0, int mr, int astride, int oc0, int cnt,
                                    const int32_t *acc, void *dst, void *dst2, const void *res) {
    const qtop_qconv_desc *d = &c->d;
    const int64_t oc = d->oc;
    const __m512 zero = _mm512_setzero_ps(), three = _mm512_set1_ps(3.0f), six = _mm512_set1_ps(6.0f);
    const __m512 sixth = _mm512_set1_ps(1.0f / 6.0f), stepr = _mm512_set1_ps(c->step_r), inv = _mm512_set1_ps(c->inv_out);
    const __m512 lo = _mm512_set1_ps(d->dst_dt == QTOP_DT_U8 ? 0.0f : -128.0f);
    const __m512 hi = _mm512_set1_ps(d->dst_dt == QTOP_DT_U8 ? QTOP_U8_MAX : 127.0f);
    const __m512 inv2 = _mm512_set1_ps(c->inv_q2);
    const __m512 lo2 = _mm512_set1_ps(d->q2_dt == QTOP_DT_U8 ? 0.0f : -128.0f);
    const __m512 hi2 = _mm512_set1_ps(d->q2_dt == QTOP_DT_U8 ? QTOP_U8_MAX : 127.0f);
    const int res_dt = d->res_dt, act = d->act, f32out = d->dst_dt == QTOP_DT_F32, q2 = d->has_q2;
    for (int j = 0; j < cnt; j += 16) {
        int rem = cnt - j;
        __mmask16 m = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1);
        int ch = oc0 + j;
        const __m512i comp = c->comp ? _mm512_maskz_loadu_epi32(m, c->comp + ch) : _mm512_setzero_si512();
        const __m512 scale = _mm512_maskz_loadu_ps(m, c->scale + ch);
        const __m512 bias = _mm512_maskz_loadu_ps(m, c->bias + ch);
        for (int i = 0; i < mr; i++) {
            int64_t base = (pix0 + i) * oc + ch;
            __m512i a = _mm512_maskz_loadu_epi32(m, acc + (int64_t)i * astride + j);
            if (c->comp) a = _mm512_add_epi32(a, comp);
            __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(a), scale);
            y = _mm512_add_ps(y, bias);
            switch (res_dt) {
            case QTOP_DT_U8: {
                __m512i r = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, (const uint8_t *)res + base));
                y = _mm512_add_ps(y, _mm512_mul_ps(_mm512_cvtepi32_ps(r), stepr));
                break;
            }
            case QTOP_DT_S8: {
                __m512i r = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, (const int8_t *)res + base));
                y = _mm512_add_ps(y, _mm512_mul_ps(_mm512_cvtepi32_ps(r), stepr));
                break;
            }
            case QTOP_DT_F32: y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(m, (const float *)res + base)); break;
            default: break;
            }
            switch (act) {
            case QTOP_ACT_RELU: y = _mm512_max_ps(y, zero); break;
            case QTOP_ACT_RELU6: y = _mm512_min_ps(_mm512_max_ps(y, zero), six); break;
            case QTOP_ACT_HARD_SWISH: {
                __m512 t = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(y, three), zero), six);
                y = _mm512_mul_ps(y, _mm512_mul_ps(t, sixth));
                break;
            }
            case QTOP_ACT_SIGMOID: case QTOP_ACT_HARD_SIGMOID: case QTOP_ACT_SWISH:
                y = q8_act_ext_512(y, act, d->act_alpha, d->act_beta);
                break;
            default: break;
            }
            if (f32out) {
                _mm512_mask_storeu_ps((float *)dst + base, m, y);
                if (q2) {
                    __m512 v = _mm512_min_ps(hi2, _mm512_max_ps(lo2, _mm512_mul_ps(y, inv2)));
                    _mm_mask_storeu_epi8((uint8_t *)dst2 + base, m, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v)));
                }
            } else {
                __m512 v = _mm512_min_ps(hi, _mm512_max_ps(lo, _mm512_mul_ps(y, inv)));
                _mm_mask_storeu_epi8((uint8_t *)dst + base, m, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v)));
            }
        }
    }
}

typedef struct {
    const epi8_consts *k;
    const int32_t *comp;
    const float *scale, *bias;
    int64_t oc, pix0;
    int mr, astride, oc0, cnt;
} epi8_args;

/* Whole 8-channel vectors of the tile (16 at a time into one 16-byte store for int8 outputs); returns how many
 * channels it covered. Per-channel constants are loaded once per chunk and reused for the mr rows. */
INL T_AVX2 int epi8_loop(const epi8_args *g, const int32_t *acc_tile, void *dst, void *dst2, const void *res,
                         const int res_dt, const int act, const int out) {
    const epi8_consts *k = g->k;
    const int mr = g->mr, astride = g->astride, cnt = g->cnt;
    const int64_t oc = g->oc;
    const int u8 = out == 0;
    int j = 0;
    if (out <= 1) {
        for (; j + 16 <= cnt; j += 16) {
            const int ch = g->oc0 + j;
            const __m256i ca = g->comp ? _mm256_loadu_si256((const __m256i *)(g->comp + ch)) : _mm256_setzero_si256();
            const __m256i cb = g->comp ? _mm256_loadu_si256((const __m256i *)(g->comp + ch + 8)) : _mm256_setzero_si256();
            const __m256 sa = _mm256_loadu_ps(g->scale + ch), sb = _mm256_loadu_ps(g->scale + ch + 8);
            const __m256 ba = _mm256_loadu_ps(g->bias + ch), bb = _mm256_loadu_ps(g->bias + ch + 8);
            const int32_t *acc = acc_tile + j;
            int64_t at = g->pix0 * oc + ch;
            for (int i = 0; i < mr; i++, acc += astride, at += oc) {
                __m256 ya = epi8_y(k, _mm256_loadu_si256((const __m256i *)acc), ca, sa, ba, res, at, res_dt, act, out);
                __m256 yb = epi8_y(k, _mm256_loadu_si256((const __m256i *)(acc + 8)), cb, sb, bb, res, at + 8, res_dt, act,
                                   out);
                __m128i q = epi8_pack16(epi8_codes(ya, k->inv, k->hi, u8), epi8_codes(yb, k->inv, k->hi, u8), u8);
                _mm_storeu_si128((__m128i *)((uint8_t *)dst + at), q);
            }
        }
    }
    for (; j + 8 <= cnt; j += 8) {
        const int ch = g->oc0 + j;
        const __m256i compv = g->comp ? _mm256_loadu_si256((const __m256i *)(g->comp + ch)) : _mm256_setzero_si256();
        const __m256 scalev = _mm256_loadu_ps(g->scale + ch), biasv = _mm256_loadu_ps(g->bias + ch);
        const int32_t *acc = acc_tile + j;
        int64_t at = g->pix0 * oc + ch;
        for (int i = 0; i < mr; i++, acc += astride, at += oc) {
            __m256 y = epi8_y(k, _mm256_loadu_si256((const __m256i *)acc), compv, scalev, biasv, res, at, res_dt, act, out);
            if (out >= 2) epi8_vec_f32(k, y, dst, dst2, at, out);
            else _mm_storel_epi64((__m128i *)((uint8_t *)dst + at), epi8_pack8(epi8_codes(y, k->inv, k->hi, u8), u8));
        }
    }
    return j;
}

typedef int (*epi8_loop_fn)(const epi8_args *, const int32_t *, void *, void *, const void *);
#define EPI8_DEF(R, A, O)                                                                                         \
    static T_AVX2 int epi8_##R##_##A##_##O(const epi8_args *g, const int32_t *t, void *d, void *d2, const void *r) { \
        return epi8_loop(g, t, d, d2, r, R, A, O);                                                                \
    }
#define EPI8_O(R, A) EPI8_DEF(R, A, 0) EPI8_DEF(R, A, 1) EPI8_DEF(R, A, 2) EPI8_DEF(R, A, 3)
#define EPI8_A(R) EPI8_O(R, 0) EPI8_O(R, 1) EPI8_O(R, 2) EPI8_O(R, 3) EPI8_O(R, 4)
EPI8_A(0) EPI8_A(1) EPI8_A(2) EPI8_A(3)
#define EPI8_TO(R, A) { epi8_##R##_##A##_0, epi8_##R##_##A##_1, epi8_##R##_##A##_2, epi8_##R##_##A##_3 }
#define EPI8_TA(R) { EPI8_TO(R, 0), EPI8_TO(R, 1), EPI8_TO(R, 2), EPI8_TO(R, 3), EPI8_TO(R, 4) }
/* [res_dt: u8, s8, f32, none][act: none, relu, relu6, hard_swish, sigmoid family][out] */
static const epi8_loop_fn epi8_tab[4][5][4] = { EPI8_TA(0), EPI8_TA(1), EPI8_TA(2), EPI8_TA(3) };

/* Tile form: per-channel constants loaded once per 8-channel chunk and reused for the mr rows. */
T_AVX2 void qtop__q8_epi_avx2(const struct qtop_qconv *c, int64_t pix0, int mr, int astride, int oc0, int cnt,
                              const int32_t *acc_tile, void *dst, void *dst2, const void *res) {
    const qtop_qconv_desc *d = &c->d;
    epi8_consts k;
    epi8_consts_init(&k, c);
    const epi8_args g = { &k, c->comp, c->scale, c->bias, d->oc, pix0, mr, astride, oc0, cnt };
    const int out = epi8_out_kind(d);
    /* an activation code without a vector form here (added later) takes the scalar chain for the whole tile */
    const int act = epi8_act_index(d->act);
    const int known = d->res_dt >= QTOP_DT_U8 && d->res_dt <= QTOP_DT_NONE && act >= 0;
    const int j = known ? epi8_tab[d->res_dt - QTOP_DT_U8][act][out](&g, acc_tile, dst, dst2, res) : 0;
    if (j < cnt)
        for (int i = 0; i < mr; i++)
            qtop__q8_epilogue(c, pix0 + i, oc0 + j, cnt - j, acc_tile + (int64_t)i * astride + j, dst, dst2, res);
}


/* s16 im2col rows: 16 bytes per vpmovsxbw / vpmovzxbw; the last block overlaps the one before it (same values
 * rewritten) instead of a scalar tail. */
T_AVX2 void qtop__q8_widen_avx2(int16_t *dst, const uint8_t *src, int n, int is_signed) {
    if (n >= 16) {
        for (int i = 0;; i += 16) {
            if (i + 16 > n) i = n - 16;
            __m128i b = _mm_loadu_si128((const __m128i *)(src + i));
            _mm256_storeu_si256((__m256i *)(dst + i), is_signed ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b));
            if (i + 16 >= n) break;
        }
    } else if (n >= 8) {
        __m128i b0 = _mm_loadl_epi64((const __m128i *)src), b1 = _mm_loadl_epi64((const __m128i *)(src + n - 8));
        _mm_storeu_si128((__m128i *)dst, is_signed ? _mm_cvtepi8_epi16(b0) : _mm_cvtepu8_epi16(b0));
        _mm_storeu_si128((__m128i *)(dst + n - 8), is_signed ? _mm_cvtepi8_epi16(b1) : _mm_cvtepu8_epi16(b1));
    } else {
        for (int i = 0; i < n; i++) dst[i] = is_signed ? (int16_t)(int8_t)src[i] : (int16_t)src[i];
    }
}

/* ---------------- int8 pooling rows (AVX2; also used by the AVX-512 rows: these loops are memory-bound). */
T_AVX2 void qtop__q8_max_row_avx2(uint8_t *o, const uint8_t *p, int C, int is_signed) {
    int ch = 0;
    if (is_signed)
        for (; ch + 32 <= C; ch += 32)
            _mm256_storeu_si256((__m256i *)(o + ch), _mm256_max_epi8(_mm256_loadu_si256((const __m256i *)(o + ch)),
                                                                     _mm256_loadu_si256((const __m256i *)(p + ch))));
    else
        for (; ch + 32 <= C; ch += 32)
            _mm256_storeu_si256((__m256i *)(o + ch), _mm256_max_epu8(_mm256_loadu_si256((const __m256i *)(o + ch)),
                                                                     _mm256_loadu_si256((const __m256i *)(p + ch))));
    if (ch < C) qtop__q8_max_row_generic(o + ch, p + ch, C - ch, is_signed);
}

T_AVX2 void qtop__q8_sum_row_avx2(int32_t *acc, const uint8_t *p, int C, int is_signed) {
    int ch = 0;
    for (; ch + 8 <= C; ch += 8) {
        __m128i b = _mm_loadl_epi64((const __m128i *)(p + ch));
        __m256i x = is_signed ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
        __m256i *a = (__m256i *)(acc + ch);
        _mm256_storeu_si256(a, _mm256_add_epi32(_mm256_loadu_si256(a), x));
    }
    if (ch < C) qtop__q8_sum_row_generic(acc + ch, p + ch, C - ch, is_signed);
}
#endif
