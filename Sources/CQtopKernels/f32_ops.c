/* fp32 non-convolution ops of the OCR / detection / transformer families: broadcasting elementwise binaries,
 * activations (relu, sigmoid, swish, hard_sigmoid, hard_swish), layer_norm rows, softmax rows and per-channel
 * affine rows (inference batch_norm), and scale_residual rows (x + x * s, the RSE shortcut).
 *
 * Each op has a scalar reference (the generic row of isa_config) and an AVX2+FMA version (also the avx512_core
 * row's: these ops are memory-bound, 8 lanes already keep up with the loads); every ISA gives the same bits, so
 * int8 graphs that end in these float ops stay bit-identical across ISAs and thread counts. Binaries, relu,
 * hard_sigmoid and hard_swish are Paddle's formulas operation for operation (max/min operand order matching
 * std::max/std::min NaN behaviour). The exp-based ops (sigmoid, swish, softmax) use one polynomial exp (range
 * reduction by ln 2, degree-6 Taylor on [-ln2/2, ln2/2], FMA steps, < 2 ulp from expf), written once per width;
 * layer_norm and softmax sum in 8 lanes reduced in a fixed tree, which the scalar rows mirror. Those agree with
 * Paddle's expf / sequential sums to a few ulp (tests bound it).
 * The driver functions (qtop_f32_*) only split rows over the pool and call the row's kernels. */
#include "isa_config.h"
#include <math.h>
/* No a*b+c contraction: every row must round exactly as the others (FMA only where written as fmaf / fmadd). */
#pragma STDC FP_CONTRACT OFF
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* ---------------------------------------------------------------- scalar references ----------------------- */

static inline float smax(float a, float b) { return a < b ? b : a; } /* std::max */
static inline float smin(float a, float b) { return b < a ? b : a; } /* std::min */

static inline float bin1(int op, float a, float b) {
    switch (op) {
    case QTOP_BIN_ADD: return a + b;
    case QTOP_BIN_SUB: return a - b;
    case QTOP_BIN_MUL: return a * b;
    case QTOP_BIN_DIV: return a / b;
    case QTOP_BIN_MAX: return a > b ? a : b;
    default: return a < b ? a : b;
    }
}

/* out[i] = x[i*xs] op y[i*ys] for i < n; xs, ys ∈ {0, 1}. */
static void bin_row_generic(int op, const float *x, int xs, const float *y, int ys, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = bin1(op, x[i * xs], y[i * ys]);
}

/* The SIMD exp (exp8 below), one lane: same clamp, rounding, FMA steps and scaling, so the same bits. */
static inline float exp1(float x) {
    if (x != x) return x;
    if (x > 88.72283f) return INFINITY;
    x = -87.33654f > x ? -87.33654f : x;
    x = 88.72283f < x ? 88.72283f : x;
    float n = nearbyintf(x * 1.44269504088896341f);
    float r = fmaf(n, -0.693145751953125f, x);
    r = fmaf(n, -1.428606765330187e-06f, r);
    float p = 1.0f / 720;
    p = fmaf(p, r, 1.0f / 120);
    p = fmaf(p, r, 1.0f / 24);
    p = fmaf(p, r, 1.0f / 6);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    int32_t ni = (int32_t)n, n1 = ni >> 1, n2 = ni - n1;
    uint32_t b1 = (uint32_t)(n1 + 127) << 23, b2 = (uint32_t)(n2 + 127) << 23;
    float s1, s2;
    memcpy(&s1, &b1, 4);
    memcpy(&s2, &b2, 4);
    return p * s1 * s2;
}

/* Sum of 8 lane accumulators in exp8's horizontal order: (l0+l4 + l2+l6) + (l1+l5 + l3+l7). */
static inline float lanes_sum(const float l[8]) {
    float a0 = l[0] + l[4], a1 = l[1] + l[5], a2 = l[2] + l[6], a3 = l[3] + l[7];
    return (a0 + a2) + (a1 + a3);
}

static inline float un1(const qtop_unary_desc *d, float x) {
    switch (d->op) {
    case QTOP_UN_RELU: return x > 0 ? x : 0;
    case QTOP_UN_SIGMOID: return 1.0f / (1.0f + exp1(0.0f - x));
    case QTOP_UN_SWISH: return x / (1.0f + exp1(-d->a * x));
    case QTOP_UN_HARD_SIGMOID: return smin(smax(x * d->a + d->b, 0.0f), 1.0f);
    default: return smin(smax(x + d->c, 0.0f), d->a) * x / d->b; /* hard_swish */
    }
}

static void unary_generic(const qtop_unary_desc *d, const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = un1(d, x[i]);
}

/* Columns from..cols-1 of a normalised row (the scalar form, and the SIMD rows' tail), then the row's statistics. */
static inline void layer_norm_finish(const float *x, float *y, int64_t from, int64_t cols, float m, float v, float inv,
                                     const float *scale, const float *bias, float *mean, float *var) {
    for (int64_t j = from; j < cols; j++) {
        float o = (x[j] - m) * inv;
        if (scale) o *= scale[j];
        if (bias) o += bias[j];
        y[j] = o;
    }
    if (mean) *mean = m;
    if (var) *var = v;
}

static void layer_norm_row_generic(const float *x, float *y, int64_t cols, float eps, const float *scale,
                                   const float *bias, float *mean, float *var) {
    float l[8] = { 0 };
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8)
        for (int q = 0; q < 8; q++) l[q] += x[j + q];
    float sum = lanes_sum(l);
    for (; j < cols; j++) sum += x[j];
    float m = sum / (float)cols;
    memset(l, 0, sizeof l);
    for (j = 0; j + 8 <= cols; j += 8)
        for (int q = 0; q < 8; q++) { float d = x[j + q] - m; l[q] = fmaf(d, d, l[q]); }
    float sq = lanes_sum(l);
    for (; j < cols; j++) { float d = x[j] - m; sq += d * d; }
    float v = sq / (float)cols;
    float inv = 1.0f / sqrtf(v + eps);
    layer_norm_finish(x, y, 0, cols, m, v, inv, scale, bias, mean, var);
}

static void softmax_row_generic(const float *x, float *y, int64_t n) {
    float m = -INFINITY;
    for (int64_t k = 0; k < n; k++) m = m > x[k] ? m : x[k];
    float l[8] = { 0 };
    for (int64_t k = 0; k < n; k++) { y[k] = exp1(x[k] - m); l[k % 8] += y[k]; }
    float sum = lanes_sum(l);
    for (int64_t k = 0; k < n; k++) y[k] = y[k] / sum;
}

/* y = x * s + b (two roundings, as inference batch_norm's reference). */
static void affine_row_generic(const float *x, float *y, int64_t n, float s, float b) {
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * s + b;
}

/* y = x + x * s (scale_residual: the product rounded, then the sum, as elementwise_mul then elementwise_add), then
 * y + z when z != NULL. */
static void scale_residual_row_generic(const float *x, const float *z, float *y, int64_t n, float s) {
    for (int64_t i = 0; i < n; i++) {
        float m = x[i] * s;
        float r = x[i] + m;
        y[i] = z ? r + z[i] : r;
    }
}

const qtop_f32_ops qtop__f32_ops_generic = {
    bin_row_generic, unary_generic, layer_norm_row_generic, softmax_row_generic, affine_row_generic,
    scale_residual_row_generic,
};

/* ---------------------------------------------------------------- AVX2 + FMA ------------------------------ */
#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,fma")))

/* Lanes [0, n) of a partial vector: load / store through a mask (n < 8). */
AVX2 static inline __m256i tail_mask(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* e^x for x in [-87.3, 88.7] (clamped): x = n ln2 + r, |r| <= ln2/2, e^r by its degree-6 Taylor polynomial
 * (error < r^7/7! < 1.3e-7 relative), 2^n built in the exponent field in two halves so n = 128 stays finite.
 * Above 88.72 it is +inf like expf's; below -87.34 it stays at 1.2e-38 where expf goes subnormal, then 0:
 * sigmoid / swish / softmax differ there by less than 1e-30 absolute. */
AVX2 static inline __m256 exp8(__m256 x) {
    /* overflow is +inf, as expf's (so x / (1 + e^-x) at x = -inf is NaN, and 1 / (1 + e^95) is 0, as in Paddle) */
    __m256 overflow = _mm256_cmp_ps(x, _mm256_set1_ps(88.72283f), _CMP_GT_OQ);
    /* bound first, x second: max_ps / min_ps return their second operand when unordered, so NaN stays NaN */
    x = _mm256_min_ps(_mm256_set1_ps(88.72283f), _mm256_max_ps(_mm256_set1_ps(-87.33654f), x));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-0.693145751953125f), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(-1.428606765330187e-06f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    return _mm256_blendv_ps(_mm256_mul_ps(_mm256_mul_ps(p, s1), s2), _mm256_set1_ps(INFINITY), overflow);
}

AVX2 static inline __m256 bin8(int op, __m256 a, __m256 b) {
    switch (op) {
    case QTOP_BIN_ADD: return _mm256_add_ps(a, b);
    case QTOP_BIN_SUB: return _mm256_sub_ps(a, b);
    case QTOP_BIN_MUL: return _mm256_mul_ps(a, b);
    case QTOP_BIN_DIV: return _mm256_div_ps(a, b);
    case QTOP_BIN_MAX: return _mm256_max_ps(a, b); /* a > b ? a : b */
    default: return _mm256_min_ps(a, b);            /* a < b ? a : b */
    }
}

AVX2 static void bin_row_avx2(int op, const float *x, int xs, const float *y, int ys, float *out, int64_t n) {
    __m256 xb = _mm256_set1_ps(x[0]), yb = _mm256_set1_ps(y[0]);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 a = xs ? _mm256_loadu_ps(x + i) : xb, b = ys ? _mm256_loadu_ps(y + i) : yb;
        _mm256_storeu_ps(out + i, bin8(op, a, b));
    }
    if (i < n) {
        __m256i m = tail_mask(n - i);
        __m256 a = xs ? _mm256_maskload_ps(x + i, m) : xb, b = ys ? _mm256_maskload_ps(y + i, m) : yb;
        _mm256_maskstore_ps(out + i, m, bin8(op, a, b));
    }
}

AVX2 static inline __m256 un8(const qtop_unary_desc *d, __m256 x) {
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    switch (d->op) {
    case QTOP_UN_RELU: return _mm256_max_ps(x, zero); /* x > 0 ? x : 0 */
    case QTOP_UN_SIGMOID:
        return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(zero, x))));
    case QTOP_UN_SWISH:
        return _mm256_div_ps(x, _mm256_add_ps(one, exp8(_mm256_mul_ps(_mm256_set1_ps(-d->a), x))));
    case QTOP_UN_HARD_SIGMOID: {
        __m256 t = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(d->a)), _mm256_set1_ps(d->b));
        /* std::max(t, 0) = 0 < t ? t : 0 = max_ps(t, 0)... as `a < b ? b : a` = max_ps(b, a) */
        t = _mm256_max_ps(zero, t);
        return _mm256_min_ps(one, t); /* std::min(t, 1) = 1 < t ? 1 : t = min_ps(1, t) */
    }
    default: {
        __m256 t = _mm256_max_ps(zero, _mm256_add_ps(x, _mm256_set1_ps(d->c)));
        t = _mm256_min_ps(_mm256_set1_ps(d->a), t);
        return _mm256_div_ps(_mm256_mul_ps(t, x), _mm256_set1_ps(d->b));
    }
    }
}

AVX2 static void unary_avx2(const qtop_unary_desc *d, const float *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, un8(d, _mm256_loadu_ps(x + i)));
    if (i < n) {
        __m256i m = tail_mask(n - i);
        _mm256_maskstore_ps(y + i, m, un8(d, _mm256_maskload_ps(x + i, m)));
    }
}

AVX2 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static inline float hmax8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static void layer_norm_row_avx2(const float *x, float *y, int64_t cols, float eps, const float *scale,
                                     const float *bias, float *mean, float *var) {
    __m256 acc = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(x + j));
    float sum = hsum8(acc);
    for (; j < cols; j++) sum += x[j];
    float m = sum / (float)cols;
    __m256 vm = _mm256_set1_ps(m);
    acc = _mm256_setzero_ps();
    for (j = 0; j + 8 <= cols; j += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + j), vm);
        acc = _mm256_fmadd_ps(d, d, acc);
    }
    float sq = hsum8(acc);
    for (; j < cols; j++) { float d = x[j] - m; sq += d * d; }
    float v = sq / (float)cols;
    float inv = 1.0f / sqrtf(v + eps);
    __m256 vi = _mm256_set1_ps(inv);
    for (j = 0; j + 8 <= cols; j += 8) {
        __m256 o = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm), vi);
        if (scale) o = _mm256_mul_ps(o, _mm256_loadu_ps(scale + j));
        if (bias) o = _mm256_add_ps(o, _mm256_loadu_ps(bias + j));
        _mm256_storeu_ps(y + j, o);
    }
    layer_norm_finish(x, y, j, cols, m, v, inv, scale, bias, mean, var);
}

AVX2 static void softmax_row_avx2(const float *x, float *y, int64_t n) {
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + k));
    float m = hmax8(vmax);
    for (; k < n; k++) m = m > x[k] ? m : x[k];
    __m256 vm = _mm256_set1_ps(m), acc = _mm256_setzero_ps();
    for (k = 0; k + 8 <= n; k += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + k), vm));
        _mm256_storeu_ps(y + k, e);
        acc = _mm256_add_ps(acc, e);
    }
    if (k < n) {
        __m256i msk = tail_mask(n - k);
        __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + k, msk), vm));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(msk));
        _mm256_maskstore_ps(y + k, msk, e);
        acc = _mm256_add_ps(acc, e);
    }
    __m256 inv = _mm256_set1_ps(hsum8(acc));
    for (k = 0; k + 8 <= n; k += 8) _mm256_storeu_ps(y + k, _mm256_div_ps(_mm256_loadu_ps(y + k), inv));
    if (k < n) {
        __m256i msk = tail_mask(n - k);
        _mm256_maskstore_ps(y + k, msk, _mm256_div_ps(_mm256_maskload_ps(y + k, msk), inv));
    }
}

AVX2 static void affine_row_avx2(const float *x, float *y, int64_t n, float s, float b) {
    __m256 vs = _mm256_set1_ps(s), vb = _mm256_set1_ps(b);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs), vb));
    if (i < n) {
        __m256i m = tail_mask(n - i);
        _mm256_maskstore_ps(y + i, m, _mm256_add_ps(_mm256_mul_ps(_mm256_maskload_ps(x + i, m), vs), vb));
    }
}

AVX2 static void scale_residual_row_avx2(const float *x, const float *z, float *y, int64_t n, float s) {
    __m256 vs = _mm256_set1_ps(s);
    int64_t i = 0;
    if (z) {
        for (; i + 8 <= n; i += 8) {
            __m256 a = _mm256_loadu_ps(x + i);
            _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_add_ps(a, _mm256_mul_ps(a, vs)), _mm256_loadu_ps(z + i)));
        }
        if (i < n) {
            __m256i m = tail_mask(n - i);
            __m256 a = _mm256_maskload_ps(x + i, m);
            _mm256_maskstore_ps(y + i, m, _mm256_add_ps(_mm256_add_ps(a, _mm256_mul_ps(a, vs)), _mm256_maskload_ps(z + i, m)));
        }
        return;
    }
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        _mm256_storeu_ps(y + i, _mm256_add_ps(a, _mm256_mul_ps(a, vs)));
        _mm256_storeu_ps(y + i + 8, _mm256_add_ps(b, _mm256_mul_ps(b, vs)));
    }
    for (; i + 8 <= n; i += 8) {
        __m256 a = _mm256_loadu_ps(x + i);
        _mm256_storeu_ps(y + i, _mm256_add_ps(a, _mm256_mul_ps(a, vs)));
    }
    if (i < n) {
        __m256i m = tail_mask(n - i);
        __m256 a = _mm256_maskload_ps(x + i, m);
        _mm256_maskstore_ps(y + i, m, _mm256_add_ps(a, _mm256_mul_ps(a, vs)));
    }
}

const qtop_f32_ops qtop__f32_ops_avx2 = {
    bin_row_avx2, unary_avx2, layer_norm_row_avx2, softmax_row_avx2, affine_row_avx2, scale_residual_row_avx2,
};
#endif

/* ---------------------------------------------------------------- drivers --------------------------------- */

static const qtop_f32_ops *ops_for(int isa) {
    const qtop_isa_config *c = qtop__isa_config(isa);
    return c && c->f32_ops ? c->f32_ops : NULL;
}

int qtop_f32_ops_available(int isa) {
    return ops_for(isa) != NULL && ((qtop_cpu_isa_mask() >> isa) & 1u);
}

/* Row blocks per task: about 64 KiB of output each, so small tensors stay on one thread. */
static int64_t rows_per_task(int64_t rows, int64_t inner) {
    int64_t per = (16384 + inner - 1) / (inner > 0 ? inner : 1);
    if (per < 1) per = 1;
    return per > rows ? rows : per;
}

typedef struct {
    const qtop_f32_ops *k;
    int op, xs, ys;
    const float *x, *y;
    float *out;
    int64_t rows, inner, per;
    const int64_t *xoff, *yoff;
} bin_job;

static void bin_task(void *ctx, int64_t t, int thread) {
    (void)thread;
    const bin_job *j = ctx;
    int64_t r0 = t * j->per, r1 = r0 + j->per < j->rows ? r0 + j->per : j->rows;
    for (int64_t r = r0; r < r1; r++)
        j->k->bin_row(j->op, j->x + (j->xoff ? j->xoff[r] : 0), j->xs, j->y + (j->yoff ? j->yoff[r] : 0), j->ys,
                      j->out + r * j->inner, j->inner);
}

int qtop_f32_binary_rows(int isa, int op, const float *x, const float *y, float *out, int64_t rows, int64_t inner,
                         const int64_t *xoff, const int64_t *yoff, int xstep, int ystep, qtop_pool *pool) {
    const qtop_f32_ops *k = ops_for(isa);
    if (!k || op < QTOP_BIN_ADD || op > QTOP_BIN_MIN || rows < 0 || inner < 0) return 0;
    if (rows == 0 || inner == 0) return 1;
    bin_job j = { k, op, xstep ? 1 : 0, ystep ? 1 : 0, x, y, out, rows, inner, rows_per_task(rows, inner), xoff, yoff };
    qtop_parallel_for(pool, (rows + j.per - 1) / j.per, bin_task, &j);
    return 1;
}

typedef struct {
    const qtop_f32_ops *k;
    const qtop_unary_desc *d;
    const float *x;
    float *y;
    int64_t n, per;
} un_job;

static void un_task(void *ctx, int64_t t, int thread) {
    (void)thread;
    const un_job *j = ctx;
    int64_t a = t * j->per, b = a + j->per < j->n ? a + j->per : j->n;
    j->k->unary(j->d, j->x + a, j->y + a, b - a);
}

int qtop_f32_unary(int isa, const qtop_unary_desc *d, const float *x, float *y, int64_t n, qtop_pool *pool) {
    const qtop_f32_ops *k = ops_for(isa);
    if (!k || d->op < QTOP_UN_RELU || d->op > QTOP_UN_HARD_SWISH || n < 0) return 0;
    if (n == 0) return 1;
    un_job j = { k, d, x, y, n, 16384 };
    qtop_parallel_for(pool, (n + j.per - 1) / j.per, un_task, &j);
    return 1;
}

typedef struct {
    const qtop_f32_ops *k;
    const float *x, *scale, *bias;
    float *y, *mean, *var;
    int64_t rows, cols, per;
    float eps;
    int softmax;
} row_job;

static void row_task(void *ctx, int64_t t, int thread) {
    (void)thread;
    const row_job *j = ctx;
    int64_t r0 = t * j->per, r1 = r0 + j->per < j->rows ? r0 + j->per : j->rows;
    for (int64_t r = r0; r < r1; r++) {
        if (j->softmax)
            j->k->softmax_row(j->x + r * j->cols, j->y + r * j->cols, j->cols);
        else
            j->k->layer_norm_row(j->x + r * j->cols, j->y + r * j->cols, j->cols, j->eps, j->scale, j->bias,
                                 j->mean ? j->mean + r : NULL, j->var ? j->var + r : NULL);
    }
}

int qtop_f32_layer_norm(int isa, const float *x, float *y, int64_t rows, int64_t cols, float eps, const float *scale,
                        const float *bias, float *mean, float *var, qtop_pool *pool) {
    const qtop_f32_ops *k = ops_for(isa);
    if (!k || rows < 0 || cols <= 0) return 0;
    if (rows == 0) return 1;
    row_job j = { k, x, scale, bias, y, mean, var, rows, cols, rows_per_task(rows, cols), eps, 0 };
    qtop_parallel_for(pool, (rows + j.per - 1) / j.per, row_task, &j);
    return 1;
}

int qtop_f32_softmax_rows(int isa, const float *x, float *y, int64_t rows, int64_t cols, qtop_pool *pool) {
    const qtop_f32_ops *k = ops_for(isa);
    if (!k || rows < 0 || cols <= 0) return 0;
    if (rows == 0) return 1;
    row_job j = { k, x, NULL, NULL, y, NULL, NULL, rows, cols, rows_per_task(rows, cols), 0, 1 };
    qtop_parallel_for(pool, (rows + j.per - 1) / j.per, row_task, &j);
    return 1;
}

typedef struct {
    const qtop_f32_ops *k;
    const float *x, *scale, *bias;
    float *y;
    int64_t rows, inner, channels, per;
} affine_job;

static void affine_task(void *ctx, int64_t t, int thread) {
    (void)thread;
    const affine_job *j = ctx;
    int64_t r0 = t * j->per, r1 = r0 + j->per < j->rows ? r0 + j->per : j->rows;
    for (int64_t r = r0; r < r1; r++) {
        int64_t c = r % j->channels;
        j->k->affine_row(j->x + r * j->inner, j->y + r * j->inner, j->inner, j->scale[c], j->bias[c]);
    }
}

int qtop_f32_affine_rows(int isa, const float *x, float *y, int64_t rows, int64_t inner, const float *scale,
                         const float *bias, int64_t channels, qtop_pool *pool) {
    const qtop_f32_ops *k = ops_for(isa);
    if (!k || rows < 0 || inner < 0 || channels <= 0) return 0;
    if (rows == 0 || inner == 0) return 1;
    affine_job j = { k, x, scale, bias, y, rows, inner, channels, rows_per_task(rows, inner) };
    qtop_parallel_for(pool, (rows + j.per - 1) / j.per, affine_task, &j);
    return 1;
}

typedef struct {
    const qtop_f32_ops *k;
    const float *x, *s, *z;
    float *y;
    int64_t rows, inner, channels, per;
    int shared;
} sres_job;

static void sres_task(void *ctx, int64_t t, int thread) {
    (void)thread;
    const sres_job *j = ctx;
    int64_t r0 = t * j->per, r1 = r0 + j->per < j->rows ? r0 + j->per : j->rows;
    for (int64_t r = r0; r < r1; r++)
        j->k->scale_residual_row(j->x + r * j->inner, j->z ? j->z + r * j->inner : NULL, j->y + r * j->inner, j->inner,
                                 j->s[j->shared ? r % j->channels : r]);
}

int qtop_f32_scale_residual_rows(int isa, const float *x, const float *s, const float *z, float *y, int64_t rows, int64_t inner,
                                 int64_t channels, int shared, qtop_pool *pool) {
    const qtop_f32_ops *k = ops_for(isa);
    if (!k || !k->scale_residual_row || rows < 0 || inner < 0 || channels <= 0) return 0;
    if (rows == 0 || inner == 0) return 1;
    sres_job j = { k, x, s, z, y, rows, inner, channels, rows_per_task(rows, inner), shared != 0 };
    qtop_parallel_for(pool, (rows + j.per - 1) / j.per, sres_task, &j);
    return 1;
}
