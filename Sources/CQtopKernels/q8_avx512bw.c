/* AVX-512 BW (no VNNI) int8 GEMM microkernel for s8 activations: vpmaddubsw + vpmaddwd on zmm, on the u8 kernels'
 * packing (W s8 [ksteps][16][4], A 4 bytes per k-step), reading A as signed bytes with no shift and no correction.
 *
 * vpmaddubsw multiplies an unsigned operand by a signed one, so each broadcast activation word a is split into
 * |a| (vpabsb, as u8: 0..128) and its sign, which moves onto the weights: w' = a < 0 ? -w : w (a masked vpsubb
 * under vpmovb2m(a)). Then |a|·w' = a·w for every lane. Exact when no weight is -128 (its negation wraps): a pair
 * sum is then at most 2·128·127 = 32512 < 32767 and never saturates, for every s8 activation including -128. The
 * driver checks the weights once at create (q8_s8 in the ISA row, weights_no_min) and takes the s16 kernel
 * otherwise; Paddle's symmetric weights lie in [-127, 127]. */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#include "isa_config.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define T_BW __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#define INL static inline __attribute__((always_inline))

static inline int32_t ld32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }

INL T_BW void s8_bw_body(const uint8_t *A, int64_t lda, const int8_t *W, int64_t bs, int kq, int32_t *tile,
                         const int MR, const int NB) {
    __m512i acc[Q8_MR][Q8_NBMAX];
    const __m512i ones = _mm512_set1_epi16(1), zero = _mm512_setzero_si512();
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NB; j++) acc[i][j] = _mm512_setzero_si512();
    for (int k = 0; k < kq; k++) {
        __m512i w[Q8_NBMAX];
        for (int j = 0; j < NB; j++) w[j] = _mm512_loadu_si512((const void *)(W + j * bs + (int64_t)k * 64));
        for (int i = 0; i < MR; i++) {
            const __m512i a = _mm512_set1_epi32(ld32(A + i * lda + (int64_t)k * 4));
            const __mmask64 neg = _mm512_movepi8_mask(a);
            const __m512i ua = _mm512_abs_epi8(a);
            for (int j = 0; j < NB; j++) {
                __m512i ws = _mm512_mask_sub_epi8(w[j], neg, zero, w[j]);
                acc[i][j] = _mm512_add_epi32(acc[i][j], _mm512_madd_epi16(_mm512_maddubs_epi16(ua, ws), ones));
            }
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NB; j++) _mm512_storeu_si512((void *)(tile + i * 64 + j * 16), acc[i][j]);
}

typedef void (*s8_fn)(const uint8_t *, int64_t, const int8_t *, int64_t, int, int32_t *);

#define S8BW_DEF(M, N)                                                                                           \
    static T_BW void s8bw_##M##_##N(const uint8_t *A, int64_t lda, const int8_t *W, int64_t bs, int kq,          \
                                    int32_t *t) { s8_bw_body(A, lda, W, bs, kq, t, M, N); }
#define S8BW_ROW(M) S8BW_DEF(M, 1) S8BW_DEF(M, 2) S8BW_DEF(M, 3) S8BW_DEF(M, 4)
S8BW_ROW(1) S8BW_ROW(2) S8BW_ROW(3) S8BW_ROW(4) S8BW_ROW(5)
#define S8BW_T(M) { s8bw_##M##_1, s8bw_##M##_2, s8bw_##M##_3, s8bw_##M##_4 }
static const s8_fn s8bw_tab[5][Q8_NBMAX] = { S8BW_T(1), S8BW_T(2), S8BW_T(3), S8BW_T(4), S8BW_T(5) };

/* mr ≤ 5 rows × nb ≤ 4 blocks of 16 channels; s8 A bytes as they are (xor_src unused: nothing is shifted). Five rows,
 * not six: 20 accumulators leave room for the weights, |a|, the zero and ones vectors and the negated weight without
 * spills (measured: 85 GMAC/s at 5 rows, 80 at 6, on Zen 4 with K = 576; the s16 kernel runs 86 there, so the gain
 * is in the driver: no widening im2col, the direct 1×1 path, half the weight bytes). */
void qtop__q8_gemm_s8_5x64c4_avx512bw(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                      int ksteps, int xor_src, int32_t *tile) {
    (void)xor_src;
    s8bw_tab[mr - 1][nb - 1](A, lda, W, bstride, ksteps, tile);
}
#endif
