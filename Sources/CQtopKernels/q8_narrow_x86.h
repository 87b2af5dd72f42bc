/* Template of the narrow k×k int8 microkernels (q8_narrow.c's contract, qtop_q8_narrow_fn), included once per ISA
 * row by q8_narrow_x86.c. The includer defines:
 *   NW_T          target attribute of every function below
 *   NW_OP(c,a,w)  c + the products of the 32-bit words a (the broadcast activation word) and w (8 channels' weight
 *                 words) per s32 lane: vpmaddwd + vpaddd (s16 pairs) or vpdpbusd (4 u8 × s8)
 *   NW_MR1..NW_MR4 output pixels per call for nv = 1..4 vectors of 8 channels (accumulators mr·nv ≤ the
 *                 register file less the weights and the broadcast)
 *   NW_SFX        suffix naming this instantiation
 * Register tile: mr pixels × nv ymm vectors, all of them live over the whole reduction (taps × words); per word the
 * nv weight vectors are loaded once and each pixel's word is broadcast once. Exact: s16 products summed in s32, or
 * vpdpbusd (no saturation); |acc| is bounded by the driver's K limit. */

#define NW_CAT2(a, b) a##_##b
#define NW_CAT(a, b) NW_CAT2(a, b)
#define NW_NAME(n) NW_CAT(n, NW_SFX)

static inline __attribute__((always_inline)) NW_T void NW_NAME(nw_body)(const uint8_t *const *tap, int taps,
                                                                        int64_t off, int64_t ps, int nq,
                                                                        const int32_t *w, int32_t *tile,
                                                                        const int ADD, const int MR, const int NV) {
    __m256i acc[NW_MAXACC];
    for (int i = 0; i < MR * NV; i++)
        acc[i] = ADD ? _mm256_loadu_si256((const __m256i *)(tile + i * 8)) : _mm256_setzero_si256();
    for (int t = 0; t < taps; t++) {
        const uint8_t *a = tap[t] + off;
        for (int q = 0; q < nq; q++, a += 4, w += 8 * NV) {
            __m256i wv[4];
            for (int v = 0; v < NV; v++) wv[v] = _mm256_loadu_si256((const __m256i *)(w + 8 * v));
            for (int i = 0; i < MR; i++) {
                int32_t x;
                memcpy(&x, a + i * ps, 4);
                const __m256i xb = _mm256_set1_epi32(x);
                for (int v = 0; v < NV; v++) acc[i * NV + v] = NW_OP(acc[i * NV + v], xb, wv[v]);
            }
        }
    }
    for (int i = 0; i < MR; i++)
        for (int v = 0; v < NV; v++) _mm256_storeu_si256((__m256i *)(tile + (i * NV + v) * 8), acc[i * NV + v]);
}

#define NW_DEF(NV, MR)                                                                                          \
    static NW_T void NW_NAME(nw_##NV)(const uint8_t *const *tap, int taps, int64_t off, int64_t ps, int nq,     \
                                      const int32_t *w, int32_t *tile, int add) {                               \
        if (add) NW_NAME(nw_body)(tap, taps, off, ps, nq, w, tile, 1, MR, NV);                                  \
        else NW_NAME(nw_body)(tap, taps, off, ps, nq, w, tile, 0, MR, NV);                                      \
    }
NW_DEF(1, NW_MR1)
NW_DEF(2, NW_MR2)
NW_DEF(3, NW_MR3)
NW_DEF(4, NW_MR4)
#undef NW_DEF
#undef NW_NAME
#undef NW_CAT
#undef NW_CAT2
