/* Template of the avx2_vnni int8 GEMM microkernels, included twice by q8_avxvnni.c: once with the VEX encoding of
 * vpdpbusd on ymm (AVX-VNNI, _mm256_dpbusd_avx_epi32: the shipping avx2_vnni row) and once with its EVEX encoding
 * (AVX512VL + AVX512_VNNI, _mm256_dpbusd_epi32: the same instruction semantics), so a CPU with AVX-512 VNNI but no
 * AVX-VNNI runs exactly this source, these tiles and the same driver. The includer defines:
 *   AVN_T        target attribute of every function below
 *   AVN_DP(c,a,w) c + dot4(u8 a, s8 w) per s32 lane (vpdpbusd, no saturation)
 *   AVN_SFX      suffix naming this instantiation (vex / evex)
 * Packing and contract: the u8 kernels' (q8_internal.h): W s8 [ksteps][16][4] per 16-channel block, A 4 bytes per
 * k-step, tile[mr][64] int32. Exact for every byte value (u8 × s8 products summed in s32, |acc| bounded by the
 * driver's K limit), so no over127 bound; s8 activations are served by the driver's shift by 128 (xor_src here on the
 * direct path, xor'ed im2col rows otherwise) plus its per-channel correction. */

#define AVN_CAT2(a, b) a##_##b
#define AVN_CAT(a, b) AVN_CAT2(a, b)
#define AVN_NAME(n) AVN_CAT(n, AVN_SFX)

/* mr rows × NB 16-channel blocks (2·NB ymm accumulators per row). XR: flip bit 7 of every A byte. */
static inline __attribute__((always_inline)) AVN_T void AVN_NAME(avn_body)(const uint8_t *A, int64_t lda,
                                                                           const int8_t *W, int64_t bs, int kq,
                                                                           int32_t *tile, const int MR, const int NB,
                                                                           const int XR) {
    __m256i acc[Q8_MR][2 * AVN_NBMAX];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < 2 * NB; j++) acc[i][j] = _mm256_setzero_si256();
    const __m256i x80 = _mm256_set1_epi32((int32_t)0x80808080u);
    for (int k = 0; k < kq; k++) {
        __m256i w[2 * AVN_NBMAX];
        for (int j = 0; j < NB; j++) {
            w[2 * j] = _mm256_loadu_si256((const __m256i *)(W + j * bs + (int64_t)k * 64));
            w[2 * j + 1] = _mm256_loadu_si256((const __m256i *)(W + j * bs + (int64_t)k * 64 + 32));
        }
        for (int i = 0; i < MR; i++) {
            __m256i a = _mm256_set1_epi32(avn_ld32(A + i * lda + (int64_t)k * 4));
            if (XR) a = _mm256_xor_si256(a, x80);
            for (int j = 0; j < 2 * NB; j++) acc[i][j] = AVN_DP(acc[i][j], a, w[j]);
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < 2 * NB; j++) _mm256_storeu_si256((__m256i *)(tile + i * 64 + j * 8), acc[i][j]);
}

#define AVN_DEF(M, N, X)                                                                                         \
    static AVN_T void AVN_NAME(avn_##M##_##N##_##X)(const uint8_t *A, int64_t lda, const int8_t *W, int64_t bs,  \
                                                    int kq, int32_t *t) {                                        \
        AVN_NAME(avn_body)(A, lda, W, bs, kq, t, M, N, X);                                                      \
    }
/* 6 × 16: 12 accumulators + 2 weight vectors + the broadcast fit VEX's 16 ymm registers, so the VEX build has no
 * spills and its instruction stream equals the EVEX twin's but for the encoding (scripts/check_avxvnni_twin.sh).
 * (3 × 32 measured the same on the twin, but needs 17 registers: it spills in the VEX build.) */
#define AVN_ROW6(X) AVN_DEF(1, 1, X) AVN_DEF(2, 1, X) AVN_DEF(3, 1, X) AVN_DEF(4, 1, X) AVN_DEF(5, 1, X) AVN_DEF(6, 1, X)
AVN_ROW6(0) AVN_ROW6(1)

#define AVN_T6(X) { AVN_NAME(avn_1_1_##X), AVN_NAME(avn_2_1_##X), AVN_NAME(avn_3_1_##X), AVN_NAME(avn_4_1_##X), \
                    AVN_NAME(avn_5_1_##X), AVN_NAME(avn_6_1_##X) }
static const avn_fn AVN_NAME(avn_tab6)[2][6] = { AVN_T6(0), AVN_T6(1) };

/* Named op × tile × ISA (suffix: the encoding). mr ≤ 6 rows × one 16-channel block. */
void AVN_NAME(qtop__q8_gemm_u8_6x16c4_avx2vnni)(const void *A, int64_t lda, int mr, const void *W, int64_t bstride,
                                                int nb, int ksteps, int xor_src, int32_t *tile) {
    (void)nb;
    AVN_NAME(avn_tab6)[xor_src ? 1 : 0][mr - 1](A, lda, W, bstride, ksteps, tile);
}

#undef AVN_ROW6
#undef AVN_DEF
#undef AVN_T6
#undef AVN_NAME
#undef AVN_CAT
#undef AVN_CAT2
