/* AVX2 reorder rows between fp32 NCHW and int8 NHWC (the quantize / dequantize boundaries of an int8 graph).
 * Blocks of 8 channels × 8 pixels go through an 8×8 register transpose (3 channels, the RGB input: two byte
 * shuffles); channel and pixel tails fall back to the same arithmetic one lane at a time. Bit-exact with qtop__q8_quant_row_generic / qtop__q8_dequant_row_generic:
 * the product is one multiply (no contraction), NaN becomes 0, the clamp keeps the scalar's order, and vcvtps2dq
 * rounds half to even like rintf in the default rounding mode. */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#include "isa_config.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define T_AVX2 __attribute__((target("avx2,fma")))
#define INL static inline __attribute__((always_inline))

/* 8 floats → 8 int32 grid values: requant() lane by lane. */
INL T_AVX2 __m256i quant8(__m256 x, __m256 inv, __m256 lo, __m256 hi) {
    __m256 v = _mm256_mul_ps(x, inv);
    v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));   /* NaN → +0 */
    v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
    return _mm256_cvtps_epi32(v);
}

/* r[i][j] → r[j][i] for an 8×8 block of 32-bit lanes (bit moves only). */
INL T_AVX2 void transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20); r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20); r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31); r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31); r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/* 8 int32 grid values (already in the dtype's range) → 8 bytes in the low half. */
INL T_AVX2 __m128i bytes8(__m256i q, int is_signed) {
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    return is_signed ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
}

INL T_AVX2 void store8(void *d, __m256i q, int is_signed) { _mm_storel_epi64((__m128i *)d, bytes8(q, is_signed)); }

/* Three channel rows of 8 pixels → 24 bytes in pixel order (c0 c1 c2 c0 c1 c2 …): the RGB input's quantize. */
INL T_AVX2 void store3x8(uint8_t *d, __m128i b0, __m128i b1, __m128i b2) {
    const __m128i a_lo = _mm_set_epi8(5, -128, 12, 4, -128, 11, 3, -128, 10, 2, -128, 9, 1, -128, 8, 0);
    const __m128i c_lo = _mm_set_epi8(-128, 4, -128, -128, 3, -128, -128, 2, -128, -128, 1, -128, -128, 0, -128, -128);
    const __m128i a_hi = _mm_set_epi8(-128, -128, -128, -128, -128, -128, -128, -128, -128, 15, 7, -128, 14, 6, -128, 13);
    const __m128i c_hi = _mm_set_epi8(-128, -128, -128, -128, -128, -128, -128, -128, 7, -128, -128, 6, -128, -128, 5, -128);
    __m128i a = _mm_unpacklo_epi64(b0, b1);
    _mm_storeu_si128((__m128i *)d, _mm_or_si128(_mm_shuffle_epi8(a, a_lo), _mm_shuffle_epi8(b2, c_lo)));
    _mm_storel_epi64((__m128i *)(d + 16), _mm_or_si128(_mm_shuffle_epi8(a, a_hi), _mm_shuffle_epi8(b2, c_hi)));
}

T_AVX2 void qtop__q8_quant_row_avx2(const float *src, int64_t hw, int W, int C, void *dst, int is_signed, float inv) {
    const __m256 vinv = _mm256_set1_ps(inv);
    const float flo = is_signed ? -128.0f : 0.0f, fhi = is_signed ? 127.0f : QTOP_U8_MAX;
    const __m256 lo = _mm256_set1_ps(flo), hi = _mm256_set1_ps(fhi);
    uint8_t *d = dst;
    if (hw == 1) {
        /* one pixel per row ([M,K] matrices): C contiguous values in, C out */
        int ch = 0;
        for (; ch + 8 <= C; ch += 8) store8(d + ch, quant8(_mm256_loadu_ps(src + ch), vinv, lo, hi), is_signed);
        for (; ch < C; ch++) d[ch] = (uint8_t)requant(src[ch], inv, flo, fhi);
        return;
    }
    int x = 0;
    if (C == 3)
        for (; x + 8 <= W; x += 8) {
            __m128i b[3];
            for (int ch = 0; ch < 3; ch++) b[ch] = bytes8(quant8(_mm256_loadu_ps(src + (int64_t)ch * hw + x), vinv, lo, hi), is_signed);
            store3x8(d + (int64_t)x * 3, b[0], b[1], b[2]);
        }
    for (; x + 8 <= W; x += 8) {
        int ch = 0;
        for (; ch + 8 <= C; ch += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; i++)
                r[i] = _mm256_castsi256_ps(quant8(_mm256_loadu_ps(src + (int64_t)(ch + i) * hw + x), vinv, lo, hi));
            transpose8(r);
            for (int j = 0; j < 8; j++) store8(d + (int64_t)(x + j) * C + ch, _mm256_castps_si256(r[j]), is_signed);
        }
        for (; ch < C; ch++) {
            int32_t q[8];
            _mm256_storeu_si256((__m256i *)q, quant8(_mm256_loadu_ps(src + (int64_t)ch * hw + x), vinv, lo, hi));
            for (int j = 0; j < 8; j++) d[(int64_t)(x + j) * C + ch] = (uint8_t)q[j];
        }
    }
    for (; x < W; x++)
        for (int ch = 0; ch < C; ch++) d[(int64_t)x * C + ch] = (uint8_t)requant(src[(int64_t)ch * hw + x], inv, flo, fhi);
}

/* 8 bytes → 8 floats times scale. */
INL T_AVX2 __m256 dequant8(const uint8_t *p, int is_signed, __m256 scale) {
    __m128i b = _mm_loadl_epi64((const __m128i *)p);
    __m256i i = is_signed ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
    return _mm256_mul_ps(_mm256_cvtepi32_ps(i), scale);
}

T_AVX2 void qtop__q8_dequant_row_avx2(const void *src, int W, int C, int is_signed, float *dst, int64_t hw, float scale) {
    const uint8_t *s = src;
    const __m256 vs = _mm256_set1_ps(scale);
    if (hw == 1) {
        int ch = 0;
        for (; ch + 8 <= C; ch += 8) _mm256_storeu_ps(dst + ch, dequant8(s + ch, is_signed, vs));
        for (; ch < C; ch++) dst[ch] = (is_signed ? (float)(int8_t)s[ch] : (float)s[ch]) * scale;
        return;
    }
    int x = 0;
    for (; x + 8 <= W; x += 8) {
        int ch = 0;
        for (; ch + 8 <= C; ch += 8) {
            __m256 r[8];
            for (int j = 0; j < 8; j++) r[j] = dequant8(s + (int64_t)(x + j) * C + ch, is_signed, vs);
            transpose8(r);
            for (int i = 0; i < 8; i++) _mm256_storeu_ps(dst + (int64_t)(ch + i) * hw + x, r[i]);
        }
        for (; ch < C; ch++) {
            uint8_t b[8];
            for (int j = 0; j < 8; j++) b[j] = s[(int64_t)(x + j) * C + ch];
            _mm256_storeu_ps(dst + (int64_t)ch * hw + x, dequant8(b, is_signed, vs));
        }
    }
    for (; x < W; x++)
        for (int ch = 0; ch < C; ch++) {
            uint8_t b = s[(int64_t)x * C + ch];
            dst[(int64_t)ch * hw + x] = (is_signed ? (float)(int8_t)b : (float)b) * scale;
        }
}

/* qconcat's requantizing copy: 8 bytes → 8 floats → quant8 (requant() lane by lane) → 8 bytes. */
T_AVX2 void qtop__q8_rescale_row_avx2(const uint8_t *s, int in_signed, uint8_t *o, int out_signed, int n, float ratio) {
    const float flo = out_signed ? -128.0f : 0.0f, fhi = out_signed ? 127.0f : QTOP_U8_MAX;
    const __m256 r = _mm256_set1_ps(ratio), lo = _mm256_set1_ps(flo), hi = _mm256_set1_ps(fhi), one = _mm256_set1_ps(1.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) store8(o + i, quant8(dequant8(s + i, in_signed, one), r, lo, hi), out_signed);
    for (; i < n; i++) o[i] = (uint8_t)requant(in_signed ? (float)(int8_t)s[i] : (float)s[i], ratio, flo, fhi);
}
#endif

/* ------------------------------------------------------------------ f32 NHWC boundary rows (q8_ops_se.c) */
#if defined(__x86_64__)
/* NV vectors of 8 channels summed over npix pixels in registers (NV a constant after inlining). */
INL T_AVX2 void sum_vectors(float *acc, const float *p, int64_t npix, int64_t stride, int NV) {
    __m256 a[12];
    for (int v = 0; v < NV; v++) a[v] = _mm256_loadu_ps(acc + 8 * v);
    for (int64_t i = 0; i < npix; i++) {
        const float *q = p + i * stride;
        for (int v = 0; v < NV; v++) a[v] = _mm256_add_ps(a[v], _mm256_loadu_ps(q + 8 * v));
    }
    for (int v = 0; v < NV; v++) _mm256_storeu_ps(acc + 8 * v, a[v]);
}

T_AVX2 static void f32_sum_pixels_avx2(float *acc, const float *p, int64_t npix, int64_t stride, int C) {
    switch (C / 8) {   /* C <= QTOP_GAP_MAX_C = 96: at most 12 vectors */
    case 0: break;
    case 1: sum_vectors(acc, p, npix, stride, 1); break;
    case 2: sum_vectors(acc, p, npix, stride, 2); break;
    case 3: sum_vectors(acc, p, npix, stride, 3); break;
    case 4: sum_vectors(acc, p, npix, stride, 4); break;
    case 5: sum_vectors(acc, p, npix, stride, 5); break;
    case 6: sum_vectors(acc, p, npix, stride, 6); break;
    case 7: sum_vectors(acc, p, npix, stride, 7); break;
    case 8: sum_vectors(acc, p, npix, stride, 8); break;
    case 9: sum_vectors(acc, p, npix, stride, 9); break;
    case 10: sum_vectors(acc, p, npix, stride, 10); break;
    case 11: sum_vectors(acc, p, npix, stride, 11); break;
    default: sum_vectors(acc, p, npix, stride, 12); break;
    }
    for (int ch = C / 8 * 8; ch < C; ch++) {   /* channel tail: each channel's own sum, pixels in order */
        float a = acc[ch];
        for (int64_t i = 0; i < npix; i++) a += p[i * stride + ch];
        acc[ch] = a;
    }
}

/* y(v) of q8_ops_se.c for 8 channels: v, v * s, or v + v * s. */
INL T_AVX2 __m256 se_y8(__m256 v, const float *s, int ch, int residual) {
    if (!s) return v;
    __m256 y = _mm256_mul_ps(v, _mm256_loadu_ps(s + ch));
    return residual ? _mm256_add_ps(v, y) : y;
}

static inline float se_y1(float v, const float *s, int ch, int residual) {
    if (!s) return v;
    float y = v * s[ch];
    return residual ? v + y : y;
}

/* y(v) + the NCHW addend's element, one lane */
static inline float se_z1(float v, const float *s, int ch, int residual, const float *z, int64_t at) {
    float y = se_y1(v, s, ch, residual);
    return z ? y + z[at] : y;
}

T_AVX2 static void f32_to_nchw_row_avx2(const float *src, int W, int C, const float *s, int residual, const float *z, float *dst,
                                        int64_t hw) {
    int x = 0;
    for (; x + 8 <= W; x += 8) {
        int ch = 0;
        for (; ch + 8 <= C; ch += 8) {
            __m256 r[8];
            for (int j = 0; j < 8; j++) r[j] = se_y8(_mm256_loadu_ps(src + (int64_t)(x + j) * C + ch), s, ch, residual);
            transpose8(r);
            if (z)
                for (int i = 0; i < 8; i++) r[i] = _mm256_add_ps(r[i], _mm256_loadu_ps(z + (int64_t)(ch + i) * hw + x));
            for (int i = 0; i < 8; i++) _mm256_storeu_ps(dst + (int64_t)(ch + i) * hw + x, r[i]);
        }
        for (; ch < C; ch++)
            for (int j = 0; j < 8; j++)
                dst[(int64_t)ch * hw + x + j] = se_z1(src[(int64_t)(x + j) * C + ch], s, ch, residual, z, (int64_t)ch * hw + x + j);
    }
    for (; x < W; x++)
        for (int ch = 0; ch < C; ch++)
            dst[(int64_t)ch * hw + x] = se_z1(src[(int64_t)x * C + ch], s, ch, residual, z, (int64_t)ch * hw + x);
}

T_AVX2 static void f32_quant_row_avx2(const float *src, int W, int C, const float *s, int residual, const float *z, int64_t hw,
                                      void *dst, int is_signed, float inv) {
    const __m256 vinv = _mm256_set1_ps(inv);
    const float flo = is_signed ? -128.0f : 0.0f, fhi = is_signed ? 127.0f : QTOP_U8_MAX;
    const __m256 lo = _mm256_set1_ps(flo), hi = _mm256_set1_ps(fhi);
    uint8_t *d = dst;
    int x = 0;
    if (z) {
        /* Per 8 pixels: the addend's channel rows (H·W floats apart, often a multiple of 4 KiB, so they share L1
         * sets) go through 8x8 register transposes into a pixel-order stack tile of up to 256 channels first, then
         * one contiguous pass computes y + z and requantizes. Interleaving those strided loads with the pixel loop
         * measured ~1.5x slower on the det FPN's 96x160x160. */
        float zt[8 * 256] __attribute__((aligned(32)));
        const int cv = C & ~7;
        for (; x + 8 <= W; x += 8) {
            for (int c0 = 0; c0 < cv; c0 += 256) {
                const int c1 = c0 + 256 < cv ? c0 + 256 : cv;
                for (int ch = c0; ch < c1; ch += 8) {
                    __m256 a[8];
                    for (int i = 0; i < 8; i++) a[i] = _mm256_loadu_ps(z + (int64_t)(ch + i) * hw + x);
                    transpose8(a);
                    for (int k = 0; k < 8; k++) _mm256_store_ps(zt + k * 256 + (ch - c0), a[k]);
                }
                for (int k = 0; k < 8; k++) {
                    const float *p = src + (int64_t)(x + k) * C;
                    uint8_t *o = d + (int64_t)(x + k) * C;
                    for (int ch = c0; ch < c1; ch += 8) {
                        __m256 y = _mm256_add_ps(se_y8(_mm256_loadu_ps(p + ch), s, ch, residual), _mm256_load_ps(zt + k * 256 + (ch - c0)));
                        store8(o + ch, quant8(y, vinv, lo, hi), is_signed);
                    }
                }
            }
            for (int ch = cv; ch < C; ch++)
                for (int k = 0; k < 8; k++)
                    d[(int64_t)(x + k) * C + ch] = (uint8_t)requant(se_z1(src[(int64_t)(x + k) * C + ch], s, ch, residual, z,
                                                                          (int64_t)ch * hw + x + k), inv, flo, fhi);
        }
        for (; x < W; x++)
            for (int ch = 0; ch < C; ch++)
                d[(int64_t)x * C + ch] = (uint8_t)requant(se_z1(src[(int64_t)x * C + ch], s, ch, residual, z, (int64_t)ch * hw + x),
                                                          inv, flo, fhi);
        return;
    }
    for (; x < W; x++) {
        const float *p = src + (int64_t)x * C;
        uint8_t *o = d + (int64_t)x * C;
        int ch = 0;
        for (; ch + 8 <= C; ch += 8) store8(o + ch, quant8(se_y8(_mm256_loadu_ps(p + ch), s, ch, residual), vinv, lo, hi), is_signed);
        for (; ch < C; ch++) o[ch] = (uint8_t)requant(se_y1(p[ch], s, ch, residual), inv, flo, fhi);
    }
}

const qtop_f32_nhwc_rows qtop__f32_nhwc_avx2 = { f32_sum_pixels_avx2, f32_to_nchw_row_avx2, f32_quant_row_avx2 };
#endif
