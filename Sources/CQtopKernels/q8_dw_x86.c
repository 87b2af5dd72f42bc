/* x86-64 int8 depthwise microkernels: taps taken in pairs, s16 × s16 → s32 with vpmaddwd (two products per lane,
 * exact: |x·w| ≤ 255·128, so a pair sum fits int32 with room to spare), channels in lanes. The weight packing they
 * read ([pair][chunk][A|B], see qtop__q8_dw_widx) puts each 128-bit lane's channels 0–3 in A and 4–7 in B, which is
 * the order vpunpcklwd / vpunpckhwd produce from two widened tap rows; the accumulators are put back in channel
 * order once per pixel. */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#include "isa_config.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define T_512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#define T_AVX2 __attribute__((target("avx2,fma")))

/* AVX2: 16 channels per step (2 ymm accumulators), an 8-channel step for a chunk's first half, scalar for the rest. */
T_AVX2 void qtop__q8_dw_c16p2_avx2(const uint8_t *const *rows, int64_t step, int n, int is_signed, int C,
                                   const int16_t *w, int npairs, int cp, int32_t *acc) {
    enum { CW = 16 };
    for (int j = 0; j < n; j++) {
        const int64_t pofs = (int64_t)j * step;
        int32_t *out = acc + (int64_t)j * cp;
        int c0 = 0;
        for (; c0 + 16 <= C; c0 += 16) {
            __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
            const int16_t *wc = w + (int64_t)c0 * 2;
            for (int p = 0; p < npairs; p++) {
                const __m128i b0 = _mm_loadu_si128((const __m128i *)(rows[2 * p] + pofs + c0));
                const __m128i b1 = _mm_loadu_si128((const __m128i *)(rows[2 * p + 1] + pofs + c0));
                const __m256i x0 = is_signed ? _mm256_cvtepi8_epi16(b0) : _mm256_cvtepu8_epi16(b0);
                const __m256i x1 = is_signed ? _mm256_cvtepi8_epi16(b1) : _mm256_cvtepu8_epi16(b1);
                const int16_t *wp = wc + (int64_t)p * cp * 2;
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1),
                                                            _mm256_loadu_si256((const __m256i *)wp)));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1),
                                                            _mm256_loadu_si256((const __m256i *)(wp + CW))));
            }
            _mm256_storeu_si256((__m256i *)(out + c0), _mm256_permute2x128_si256(a0, a1, 0x20));
            _mm256_storeu_si256((__m256i *)(out + c0 + 8), _mm256_permute2x128_si256(a0, a1, 0x31));
        }
        if (c0 + 8 <= C) {   /* first half of a partial chunk: lane 0 of A and B */
            __m128i a0 = _mm_setzero_si128(), a1 = _mm_setzero_si128();
            const int16_t *wc = w + (int64_t)c0 * 2;
            for (int p = 0; p < npairs; p++) {
                const __m128i b0 = _mm_loadl_epi64((const __m128i *)(rows[2 * p] + pofs + c0));
                const __m128i b1 = _mm_loadl_epi64((const __m128i *)(rows[2 * p + 1] + pofs + c0));
                const __m128i x0 = is_signed ? _mm_cvtepi8_epi16(b0) : _mm_cvtepu8_epi16(b0);
                const __m128i x1 = is_signed ? _mm_cvtepi8_epi16(b1) : _mm_cvtepu8_epi16(b1);
                const int16_t *wp = wc + (int64_t)p * cp * 2;
                a0 = _mm_add_epi32(a0, _mm_madd_epi16(_mm_unpacklo_epi16(x0, x1), _mm_loadu_si128((const __m128i *)wp)));
                a1 = _mm_add_epi32(a1, _mm_madd_epi16(_mm_unpackhi_epi16(x0, x1),
                                                      _mm_loadu_si128((const __m128i *)(wp + CW))));
            }
            _mm_storeu_si128((__m128i *)(out + c0), a0);
            _mm_storeu_si128((__m128i *)(out + c0 + 4), a1);
            c0 += 8;
        }
        for (; c0 < C; c0++) {
            int32_t s = 0;
            for (int t = 0; t < 2 * npairs; t++) {
                const uint8_t *px = rows[t] + pofs + c0;
                int32_t x = is_signed ? (int32_t)(int8_t)*px : (int32_t)*px;
                s += x * w[qtop__q8_dw_widx(c0, t, cp, CW)];
            }
            out[c0] = s;
        }
    }
}

/* AVX-512: 32 channels per step (2 zmm accumulators), masked loads for the last chunk (its padded weights are 0). */
T_512 void qtop__q8_dw_c32p2_avx512(const uint8_t *const *rows, int64_t step, int n, int is_signed, int C,
                                    const int16_t *w, int npairs, int cp, int32_t *acc) {
    enum { CW = 32 };
    /* 128-bit lanes back in channel order: [A0 B0 A1 B1] and [A2 B2 A3 B3] (64-bit indices, 8+ = second source) */
    const __m512i lo_idx = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
    const __m512i hi_idx = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
    for (int j = 0; j < n; j++) {
        const int64_t pofs = (int64_t)j * step;
        int32_t *out = acc + (int64_t)j * cp;
        for (int c0 = 0; c0 < C; c0 += CW) {
            const int rem = C - c0;
            const __mmask32 m = rem >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << rem) - 1);
            __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
            const int16_t *wc = w + (int64_t)c0 * 2;
            for (int p = 0; p < npairs; p++) {
                const __m256i b0 = _mm256_maskz_loadu_epi8(m, rows[2 * p] + pofs + c0);
                const __m256i b1 = _mm256_maskz_loadu_epi8(m, rows[2 * p + 1] + pofs + c0);
                const __m512i x0 = is_signed ? _mm512_cvtepi8_epi16(b0) : _mm512_cvtepu8_epi16(b0);
                const __m512i x1 = is_signed ? _mm512_cvtepi8_epi16(b1) : _mm512_cvtepu8_epi16(b1);
                const int16_t *wp = wc + (int64_t)p * cp * 2;
                a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(_mm512_unpacklo_epi16(x0, x1), _mm512_loadu_si512(wp)));
                a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(_mm512_unpackhi_epi16(x0, x1), _mm512_loadu_si512(wp + CW)));
            }
            _mm512_storeu_si512(out + c0, _mm512_permutex2var_epi64(a0, lo_idx, a1));
            _mm512_storeu_si512(out + c0 + 16, _mm512_permutex2var_epi64(a0, hi_idx, a1));
        }
    }
}
#endif
