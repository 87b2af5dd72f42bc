/* Int8 pooling (NHWC) and layout/precision reorders. Generic C (the compiler may vectorize the inner loops). */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#include "q8_internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>


typedef struct { const qtop_qpool_desc *d; const uint8_t *src; void *dst; float step_in, inv_out; } pool_ctx;

static void pool_window(const qtop_qpool_desc *d, int o, int in, int out, int k, int s, int p, int *b, int *e) {
    if (d->adaptive) {
        *b = (int)(((int64_t)o * in) / out);
        *e = (int)(((int64_t)(o + 1) * in + out - 1) / out);
    } else {
        int st = o * s - p;
        int en = st + k;
        if (en > in) en = in;
        if (st < 0) st = 0;
        *b = st;
        *e = en;
    }
}

static void pool_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    pool_ctx *pc = vctx;
    const qtop_qpool_desc *d = pc->d;
    int n = (int)(task / d->oh), oy = (int)(task % d->oh);
    int s8 = d->src_dt == QTOP_DT_S8;
    int C = d->c;
    int32_t *acc = d->is_avg ? malloc(sizeof(int32_t) * (size_t)C) : NULL;
    int y0, y1;
    pool_window(d, oy, d->h, d->oh, d->kh, d->stride_h, d->pad_t, &y0, &y1);
    for (int ox = 0; ox < d->ow; ox++) {
        int x0, x1;
        pool_window(d, ox, d->w, d->ow, d->kw, d->stride_w, d->pad_l, &x0, &x1);
        int64_t obase = (((int64_t)n * d->oh + oy) * d->ow + ox) * C;
        if (!d->is_avg) {
            /* byte-wise maximum (the result is the largest element; 0 for an empty window) */
            uint8_t *o = (uint8_t *)pc->dst + obase;
            int first = 1;
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++) {
                    const uint8_t *p = pc->src + (((int64_t)n * d->h + iy) * d->w + ix) * C;
                    if (first) { memcpy(o, p, (size_t)C); first = 0; }
                    else if (s8) for (int ch = 0; ch < C; ch++) { int8_t v = (int8_t)p[ch], w = (int8_t)o[ch]; o[ch] = (uint8_t)(v > w ? v : w); }
                    else for (int ch = 0; ch < C; ch++) o[ch] = p[ch] > o[ch] ? p[ch] : o[ch];
                }
            if (first) memset(o, 0, (size_t)C);
        } else {
            memset(acc, 0, sizeof(int32_t) * (size_t)C);
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++) {
                    const uint8_t *p = pc->src + (((int64_t)n * d->h + iy) * d->w + ix) * C;
                    if (s8) for (int ch = 0; ch < C; ch++) acc[ch] += (int8_t)p[ch];
                    else for (int ch = 0; ch < C; ch++) acc[ch] += p[ch];
                }
            int count = (d->exclusive || d->adaptive) ? (y1 - y0) * (x1 - x0) : d->kh * d->kw;
            if (count <= 0) count = 1;
            float f = pc->step_in / (float)count;
            for (int ch = 0; ch < C; ch++) {
                float y = (float)acc[ch] * f;
                switch (d->dst_dt) {
                case QTOP_DT_U8: ((uint8_t *)pc->dst)[obase + ch] = (uint8_t)requant(y, pc->inv_out, 0.0f, QTOP_U8_MAX); break;
                case QTOP_DT_S8: ((int8_t *)pc->dst)[obase + ch] = (int8_t)requant(y, pc->inv_out, -128.0f, 127.0f); break;
                default: ((float *)pc->dst)[obase + ch] = y; break;
                }
            }
        }
    }
    free(acc);
}

int qtop_qpool_run(const qtop_qpool_desc *d, const void *src, void *dst, qtop_pool *pool) {
    if (d->n <= 0 || d->h <= 0 || d->w <= 0 || d->c <= 0 || d->oh <= 0 || d->ow <= 0) return -1;
    if (!d->adaptive && (d->kh <= 0 || d->kw <= 0 || d->stride_h <= 0 || d->stride_w <= 0)) return -1;
    if (d->src_dt != QTOP_DT_U8 && d->src_dt != QTOP_DT_S8) return -1;
    if (!d->is_avg && d->dst_dt != d->src_dt) return -1;
    if (d->is_avg && (!(d->in_range > 0) || (d->dst_dt != QTOP_DT_F32 && !(d->out_range > 0)))) return -1;
    pool_ctx pc = { d, src, dst, d->in_range / 127.0f, d->dst_dt == QTOP_DT_F32 ? 0.0f : 127.0f / d->out_range };
    qtop_parallel_for(pool, (int64_t)d->n * d->oh, pool_task, &pc);
    return 0;
}

/* ------------------------------------------------------------------ reorders: one task per (n, h) row */

typedef struct { const void *src; void *dst; int dt, n, c, h, w; float f; } ro_ctx;

static void quant_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    ro_ctx *r = vctx;
    int n = (int)(task / r->h), y = (int)(task % r->h);
    const float *s = (const float *)r->src + (int64_t)n * r->c * r->h * r->w + (int64_t)y * r->w;
    int64_t hw = (int64_t)r->h * r->w;
    int64_t ob = (((int64_t)n * r->h + y) * r->w) * r->c;
    for (int x = 0; x < r->w; x++)
        for (int ch = 0; ch < r->c; ch++) {
            float v = s[ch * hw + x];
            if (r->dt == QTOP_DT_U8) ((uint8_t *)r->dst)[ob + (int64_t)x * r->c + ch] = (uint8_t)requant(v, r->f, 0.0f, QTOP_U8_MAX);
            else ((int8_t *)r->dst)[ob + (int64_t)x * r->c + ch] = (int8_t)requant(v, r->f, -128.0f, 127.0f);
        }
}

void qtop_quantize_nchw_to_nhwc(const float *src, void *dst, int dst_dt, int n, int c, int h, int w, float range,
                                qtop_pool *pool) {
    ro_ctx r = { src, dst, dst_dt, n, c, h, w, 127.0f / range };
    qtop_parallel_for(pool, (int64_t)n * h, quant_task, &r);
}

static void dequant_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    ro_ctx *r = vctx;
    int n = (int)(task / r->h), y = (int)(task % r->h);
    float *o = (float *)r->dst + (int64_t)n * r->c * r->h * r->w + (int64_t)y * r->w;
    int64_t hw = (int64_t)r->h * r->w;
    int64_t ib = (((int64_t)n * r->h + y) * r->w) * r->c;
    for (int x = 0; x < r->w; x++)
        for (int ch = 0; ch < r->c; ch++) {
            int64_t i = ib + (int64_t)x * r->c + ch;
            float q = r->dt == QTOP_DT_U8 ? (float)((const uint8_t *)r->src)[i] : r->dt == QTOP_DT_S8
                      ? (float)((const int8_t *)r->src)[i] : ((const float *)r->src)[i];
            o[ch * hw + x] = r->dt == QTOP_DT_F32 ? q : q * r->f;
        }
}

void qtop_dequantize_nhwc_to_nchw(const void *src, int src_dt, float *dst, int n, int c, int h, int w, float range,
                                  qtop_pool *pool) {
    ro_ctx r = { src, dst, src_dt, n, c, h, w, range / 127.0f };
    qtop_parallel_for(pool, (int64_t)n * h, dequant_task, &r);
}

static void transpose_f32_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    ro_ctx *r = vctx;
    int n = (int)(task / r->h), y = (int)(task % r->h);
    const int C = r->c, W = r->w;
    const int64_t hw = (int64_t)r->h * r->w;
    float *o = (float *)r->dst + (int64_t)n * C * hw + (int64_t)y * W;
    const float *s = (const float *)r->src + (((int64_t)n * r->h + y) * W) * C;
    for (int c0 = 0; c0 < C; c0 += 16) {
        int c1 = c0 + 16 < C ? c0 + 16 : C;
        for (int x = 0; x < W; x++)
            for (int ch = c0; ch < c1; ch++) o[ch * hw + x] = s[(int64_t)x * C + ch];
    }
}

void qtop_reorder_nhwc_to_nchw_f32(const float *src, float *dst, int n, int c, int h, int w, qtop_pool *pool) {
    ro_ctx r = { src, dst, QTOP_DT_F32, n, c, h, w, 1.0f };
    qtop_parallel_for(pool, (int64_t)n * h, transpose_f32_task, &r);
}
