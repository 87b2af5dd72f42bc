/* x86 fp32 depthwise "flat" microkernels (see f32_dw.c for the layout they run on):
 *   out[q] = act(bias + Σ_t w[t] · src[t][q])   for q in [0, round_up(n, 64))
 * 64 outputs per block: 8 ymm accumulators on AVX2 (two FMA pipes × four cycles of latency), 4 zmm on AVX-512.
 * The whole last block is computed: the driver gives every src row and out 64 floats of slack. */
#include "f32_internal.h"
#if defined(__x86_64__)
#include "f32_act_x86.h"

#define T_AVX2 __attribute__((target("avx2,fma")))
#define T_512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

T_AVX2 void qtop__f32_dw_flat_64_avx2(int n, int taps, const float *const *src, const float *w, float bias, int act,
                                      float *out) {
    const __m256 bv = _mm256_set1_ps(bias);
    for (int q = 0; q < n; q += 64) {
        __m256 a0 = bv, a1 = bv, a2 = bv, a3 = bv, a4 = bv, a5 = bv, a6 = bv, a7 = bv;
        for (int t = 0; t < taps; t++) {
            const float *p = src[t] + q;
            __m256 wv = _mm256_broadcast_ss(w + t);
            a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p), a0);
            a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 8), a1);
            a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 16), a2);
            a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 24), a3);
            a4 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 32), a4);
            a5 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 40), a5);
            a6 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 48), a6);
            a7 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 56), a7);
        }
        float *o = out + q;
        _mm256_storeu_ps(o, qtop__act256(a0, act));
        _mm256_storeu_ps(o + 8, qtop__act256(a1, act));
        _mm256_storeu_ps(o + 16, qtop__act256(a2, act));
        _mm256_storeu_ps(o + 24, qtop__act256(a3, act));
        _mm256_storeu_ps(o + 32, qtop__act256(a4, act));
        _mm256_storeu_ps(o + 40, qtop__act256(a5, act));
        _mm256_storeu_ps(o + 48, qtop__act256(a6, act));
        _mm256_storeu_ps(o + 56, qtop__act256(a7, act));
    }
}

T_512 void qtop__f32_dw_flat_64_avx512(int n, int taps, const float *const *src, const float *w, float bias, int act,
                                       float *out) {
    const __m512 bv = _mm512_set1_ps(bias);
    for (int q = 0; q < n; q += 64) {
        __m512 a0 = bv, a1 = bv, a2 = bv, a3 = bv;
        for (int t = 0; t < taps; t++) {
            const float *p = src[t] + q;
            __m512 wv = _mm512_set1_ps(w[t]);
            a0 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p), a0);
            a1 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 16), a1);
            a2 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 32), a2);
            a3 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 48), a3);
        }
        float *o = out + q;
        _mm512_storeu_ps(o, qtop__act512(a0, act));
        _mm512_storeu_ps(o + 16, qtop__act512(a1, act));
        _mm512_storeu_ps(o + 32, qtop__act512(a2, act));
        _mm512_storeu_ps(o + 48, qtop__act512(a3, act));
    }
}
#endif
