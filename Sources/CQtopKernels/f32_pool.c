/* fp32 NCHW pooling over windows precomputed by the caller (Paddle's window rules live in one place, Swift).
 *
 * Two routes, each giving the same bits on every ISA row (int8 graphs with a float pool stay bit-identical across
 * ISAs and thread counts):
 * - qtop_fpool_nchw: the window walk, any windows (adaptive ones too): max starts at -FLT_MAX, y = y > x ? y : x
 *   in row-major window order; avg sums in that order. Scalar, the reference's arithmetic exactly.
 * - qtop_fpool2d: global windows (one window over the plane) sum or max each plane in order, as the window walk,
 *   eight planes at a time (eight independent chains instead of one: the adds' latency no longer serializes the
 *   plane), so the result is the reference's bit for bit; regular column windows (cs[q] = max(0, q·s - p), ce[q] = min(w, q·s - p + k)) fold each input row
 *   of the window into the output row with the row's pool_row, over a copy of the input row padded with the
 *   operation's neutral value (0 / -FLT_MAX), so the window sum of row a is ((x0 + x1) + x2) and the output is
 *   ((0 + row a0) + row a1) + …: the reference's values reassociated per row. Other windows take the window walk. */
#include "isa_config.h"
#include <float.h>
#include <string.h>
/* every row must round exactly as the others: no contraction of a*b+c */
#pragma STDC FP_CONTRACT OFF

typedef struct {
    const float *src;
    float *dst;
    int h, w, oh, ow, is_max;
    const int *rs, *re, *cs, *ce, *rdiv, *cdiv;
} fpool_job;

static void fpool_task(void *vctx, int64_t plane, int thread) {
    (void)thread;
    const fpool_job *j = vctx;
    const float *x = j->src + plane * (int64_t)j->h * j->w;
    float *y = j->dst + plane * (int64_t)j->oh * j->ow;
    for (int i = 0; i < j->oh; i++) {
        int r0 = j->rs[i], r1 = j->re[i];
        for (int q = 0; q < j->ow; q++) {
            int c0 = j->cs[q], c1 = j->ce[q];
            if (j->is_max) {
                float m = -FLT_MAX;
                for (int a = r0; a < r1; a++) {
                    const float *row = x + (int64_t)a * j->w;
                    for (int b = c0; b < c1; b++) { float v = row[b]; m = m > v ? m : v; }
                }
                y[(int64_t)i * j->ow + q] = m;
            } else {
                float s = 0.0f;
                for (int a = r0; a < r1; a++) {
                    const float *row = x + (int64_t)a * j->w;
                    for (int b = c0; b < c1; b++) s += row[b];
                }
                y[(int64_t)i * j->ow + q] = s / (float)(j->rdiv[i] * j->cdiv[q]);
            }
        }
    }
}

void qtop_fpool_nchw(const float *src, float *dst, int planes, int h, int w, int oh, int ow, const int *rs,
                     const int *re, const int *cs, const int *ce, const int *rdiv, const int *cdiv, int is_max,
                     qtop_pool *pool) {
    fpool_job j = { src, dst, h, w, oh, ow, is_max, rs, re, cs, ce, rdiv, cdiv };
    qtop_parallel_for(pool, planes, fpool_task, &j);
}

/* ---------------------------------------------------------------- scalar rows (generic) ------------------- */

static inline float fmax1(float a, float b) { return a > b ? a : b; }

void qtop__f32_pool_row_generic(float *acc, const float *pad, int64_t n, int k, int s, int is_max) {
    for (int64_t q = 0; q < n; q++) {
        const float *p = pad + q * s;
        float v = p[0];
        for (int t = 1; t < k; t++) v = is_max ? fmax1(v, p[t]) : v + p[t];
        acc[q] = is_max ? fmax1(acc[q], v) : acc[q] + v;
    }
}

const qtop_f32_pool_ops qtop__f32_pool_generic = { qtop__f32_pool_row_generic };

/* ---------------------------------------------------------------- drivers --------------------------------- */

static const qtop_f32_pool_ops *pool_ops_for(int isa) {
    const qtop_isa_config *c = qtop__isa_config(isa);
    if (!c || !((qtop_cpu_isa_mask() >> isa) & 1u)) return NULL;
    return c->f32_pool ? c->f32_pool : &qtop__f32_pool_generic;
}

typedef struct {
    const qtop_f32_pool_ops *k;
    const qtop_fpool_desc *d;
    const float *src;
    float *dst;
    int64_t per;        /* planes per task */
    int64_t pad_floats; /* padded row buffer, slack included */
} pool2d_job;

#define GLOBAL_PLANES 8

static void global_task(void *vctx, int64_t t, int thread) {
    (void)thread;
    const pool2d_job *j = vctx;
    const qtop_fpool_desc *d = j->d;
    int64_t hw = (int64_t)d->h * d->w, p1 = (t + 1) * j->per < d->planes ? (t + 1) * j->per : d->planes;
    float div = (float)(d->rdiv[0] * d->cdiv[0]);
    for (int64_t p = t * j->per; p < p1; p += GLOBAL_PLANES) {
        int m = p1 - p < GLOBAL_PLANES ? (int)(p1 - p) : GLOBAL_PLANES;
        const float *x[GLOBAL_PLANES];
        float acc[GLOBAL_PLANES];
        for (int c = 0; c < GLOBAL_PLANES; c++) {
            x[c] = j->src + (p + (c < m ? c : 0)) * hw;
            acc[c] = d->is_max ? -FLT_MAX : 0.0f;
        }
        if (d->is_max) {
            for (int64_t i = 0; i < hw; i++)
                for (int c = 0; c < GLOBAL_PLANES; c++) { float v = x[c][i]; acc[c] = acc[c] > v ? acc[c] : v; }
        } else {
            for (int64_t i = 0; i < hw; i++)
                for (int c = 0; c < GLOBAL_PLANES; c++) acc[c] += x[c][i];
        }
        for (int c = 0; c < m; c++) j->dst[p + c] = d->is_max ? acc[c] : acc[c] / div;
    }
}

static void rows_task(void *vctx, int64_t t, int thread) {
    (void)thread;
    const pool2d_job *j = vctx;
    const qtop_fpool_desc *d = j->d;
    float *pad = qtop__tls_scratch(sizeof(float) * (size_t)(j->pad_floats + d->ow));
    if (!pad) return;
    float *acc = pad + j->pad_floats;
    const float neutral = d->is_max ? -FLT_MAX : 0.0f;
    for (int64_t i = 0; i < j->pad_floats; i++) pad[i] = neutral;
    int64_t hw = (int64_t)d->h * d->w, ohw = (int64_t)d->oh * d->ow;
    int64_t p1 = (t + 1) * j->per < d->planes ? (t + 1) * j->per : d->planes;
    for (int64_t p = t * j->per; p < p1; p++) {
        const float *x = j->src + p * hw;
        float *y = j->dst + p * ohw;
        for (int i = 0; i < d->oh; i++) {
            for (int q = 0; q < d->ow; q++) acc[q] = neutral;
            for (int a = d->rs[i]; a < d->re[i]; a++) {
                memcpy(pad + d->col_p, x + (int64_t)a * d->w, sizeof(float) * (size_t)d->w);
                j->k->pool_row(acc, pad, d->ow, d->col_k, d->col_s, d->is_max);
            }
            float *yr = y + (int64_t)i * d->ow;
            if (d->is_max) {
                memcpy(yr, acc, sizeof(float) * (size_t)d->ow);
            } else {
                for (int q = 0; q < d->ow; q++) yr[q] = acc[q] / (float)(d->rdiv[i] * d->cdiv[q]);
            }
        }
    }
}

/* The column windows are the regular ones col_k / col_s / col_p describe (checked, not trusted). */
static int regular_cols(const qtop_fpool_desc *d) {
    if (d->col_k <= 0 || d->col_s <= 0 || d->col_p < 0 || d->col_p >= d->col_k) return 0;
    for (int q = 0; q < d->ow; q++) {
        int64_t s = (int64_t)q * d->col_s - d->col_p, e = s + d->col_k;
        if (d->cs[q] != (s > 0 ? s : 0) || d->ce[q] != (e < d->w ? e : d->w) || d->cs[q] >= d->ce[q]) return 0;
    }
    for (int i = 0; i < d->oh; i++)
        if (d->rs[i] < 0 || d->re[i] > d->h) return 0;
    return 1;
}

int qtop_fpool2d(int isa, const qtop_fpool_desc *d, const float *src, float *dst, qtop_pool *pool) {
    const qtop_f32_pool_ops *k = pool_ops_for(isa);
    if (!k || d->planes < 0 || d->h <= 0 || d->w <= 0 || d->oh <= 0 || d->ow <= 0) return 0;
    if (d->planes == 0) return 1;
    int64_t hw = (int64_t)d->h * d->w;
    if (d->global) {
        if (d->oh != 1 || d->ow != 1) return 0;
        pool2d_job j = { k, d, src, dst, 0, 0 };
        j.per = ((32768 + hw - 1) / hw + GLOBAL_PLANES - 1) / GLOBAL_PLANES * GLOBAL_PLANES;   /* ~128 KiB per task */
        qtop_parallel_for(pool, (d->planes + j.per - 1) / j.per, global_task, &j);
        return 1;
    }
    if (!regular_cols(d)) {
        qtop_fpool_nchw(src, dst, d->planes, d->h, d->w, d->oh, d->ow, d->rs, d->re, d->cs, d->ce, d->rdiv, d->cdiv,
                        d->is_max, pool);
        return 1;
    }
    /* the padded row covers every window, (ow-1)·s + k floats from column -p, and the SIMD rows' over-read:
     * whole 16- / 32-float blocks at up to twice the output width */
    int64_t need = (int64_t)(d->ow - 1) * d->col_s + d->col_k, img = (int64_t)d->col_p + d->w;
    int64_t width = need > img ? need : img;
    pool2d_job j = { k, d, src, dst, 0, (width + 2 * (int64_t)d->ow + 64 + 15) & ~(int64_t)15 };
    int64_t work = (int64_t)d->oh * d->ow * d->col_k * (d->h / (d->oh > 0 ? d->oh : 1) + 1);
    j.per = (65536 + work - 1) / (work > 0 ? work : 1);
    if (j.per < 1) j.per = 1;
    qtop_parallel_for(pool, (d->planes + j.per - 1) / j.per, rows_task, &j);
    return 1;
}
