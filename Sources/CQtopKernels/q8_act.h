/* Internal to CQtopKernels: the int8 epilogue's sigmoid-family activations (docs/int8-semantics.md step 5), defined
 * once as scalar C. The SIMD epilogues (q8_act_x86.h) and the Swift integer oracle repeat exactly these operations
 * in this order, each a separately rounded Float operation (no FMA: FP_CONTRACT is off where this is included), so
 * every implementation agrees bit for bit. exp is not libm's (which differs between libraries and has no SIMD twin)
 * but a fixed polynomial: clamp x to [-87, 88], n = rint(x · log2 e), r = (x - n · ln2_hi) - n · ln2_lo,
 * p = 1 + r + r² · P(r) (degree-5 P, Cephes-style coefficients), result p · 2^n (n in [-126, 127], built in the
 * exponent bits). Relative error a few ulp: far below one quantization step. The clamps are written as SIMD max/min
 * compute them (`x > lo ? x : lo`), so a NaN input becomes the lower bound. */
#ifndef QTOP_Q8_ACT_H
#define QTOP_Q8_ACT_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#define Q8_EXP_LO (-87.0f)
#define Q8_EXP_HI 88.0f
#define Q8_LOG2E 1.44269504088896341f
#define Q8_LN2_HI 0.693359375f
#define Q8_LN2_LO (-2.12194440e-4f)
#define Q8_EXP_P0 1.9875691500e-4f
#define Q8_EXP_P1 1.3981999507e-3f
#define Q8_EXP_P2 8.3334519073e-3f
#define Q8_EXP_P3 4.1665795894e-2f
#define Q8_EXP_P4 1.6666665459e-1f
#define Q8_EXP_P5 5.0000001201e-1f

static inline float q8_exp(float x) {
    x = x > Q8_EXP_LO ? x : Q8_EXP_LO;
    x = x < Q8_EXP_HI ? x : Q8_EXP_HI;
    float t = x * Q8_LOG2E;
    float n = rintf(t);
    float r = x - n * Q8_LN2_HI;
    r = r - n * Q8_LN2_LO;
    float z = r * r;
    float p = Q8_EXP_P0;
    p = p * r; p = p + Q8_EXP_P1;
    p = p * r; p = p + Q8_EXP_P2;
    p = p * r; p = p + Q8_EXP_P3;
    p = p * r; p = p + Q8_EXP_P4;
    p = p * r; p = p + Q8_EXP_P5;
    p = p * z; p = p + r; p = p + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float s;
    memcpy(&s, &bits, sizeof s);
    return p * s;
}

/* sigmoid: 1 / (1 + exp(-y)). */
static inline float q8_sigmoid(float y) {
    float e = q8_exp(-y);
    float d = 1.0f + e;
    return 1.0f / d;
}

/* hard_sigmoid (Paddle's slope / offset): t = y · slope + offset, then clamped to [0, 1] as max/min do. */
static inline float q8_hard_sigmoid(float y, float slope, float offset) {
    float t = y * slope;
    t = t + offset;
    t = t > 0 ? t : 0.0f;
    return t < 1.0f ? t : 1.0f;
}

/* swish / silu (beta 1): y · sigmoid(y). */
static inline float q8_swish(float y) { return y * q8_sigmoid(y); }
#endif
