/* Int8 pooling (NHWC) over caller-given windows, and layout/precision reorders. */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#include "isa_config.h"
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


struct qtop_qpool {
    qtop_qpool_desc d;
    const qtop_isa_config *cfg;
    int *rs, *re, *cs, *ce, *rdiv, *cdiv;
    float step_in, inv_out;
};

void qtop__q8_max_row_generic(uint8_t *o, const uint8_t *p, int C, int is_signed) {
    if (is_signed)
        for (int ch = 0; ch < C; ch++) { int8_t v = (int8_t)p[ch], w = (int8_t)o[ch]; o[ch] = (uint8_t)(v > w ? v : w); }
    else
        for (int ch = 0; ch < C; ch++) o[ch] = p[ch] > o[ch] ? p[ch] : o[ch];
}

void qtop__q8_sum_row_generic(int32_t *acc, const uint8_t *p, int C, int is_signed) {
    if (is_signed) for (int ch = 0; ch < C; ch++) acc[ch] += (int8_t)p[ch];
    else for (int ch = 0; ch < C; ch++) acc[ch] += p[ch];
}

static void pool_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const qtop_qpool *pp = ((void **)vctx)[0];
    const uint8_t *src = ((void **)vctx)[1];
    void *dst = ((void **)vctx)[2];
    const qtop_qpool_desc *d = &pp->d;
    int n = (int)(task / d->oh), oy = (int)(task % d->oh);
    int s8 = d->src_dt == QTOP_DT_S8;
    int C = d->c;
    int32_t *acc = d->is_avg ? qtop__tls_scratch(sizeof(int32_t) * (size_t)C) : NULL;
    int y0 = pp->rs[oy], y1 = pp->re[oy];
    for (int ox = 0; ox < d->ow; ox++) {
        int x0 = pp->cs[ox], x1 = pp->ce[ox];
        int64_t obase = (((int64_t)n * d->oh + oy) * d->ow + ox) * C;
        if (!d->is_avg) {
            uint8_t *o = (uint8_t *)dst + obase;
            int first = 1;
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++) {
                    const uint8_t *p = src + (((int64_t)n * d->h + iy) * d->w + ix) * C;
                    if (first) { memcpy(o, p, (size_t)C); first = 0; }
                    else pp->cfg->q8_max_row(o, p, C, s8);
                }
            if (first) memset(o, 0, (size_t)C);
        } else {
            memset(acc, 0, sizeof(int32_t) * (size_t)C);
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++)
                    pp->cfg->q8_sum_row(acc, src + (((int64_t)n * d->h + iy) * d->w + ix) * C, C, s8);
            int count = pp->rdiv[oy] * pp->cdiv[ox];
            if (count <= 0) count = 1;
            float f = pp->step_in / (float)count;
            for (int ch = 0; ch < C; ch++) {
                float y = (float)acc[ch] * f;
                switch (d->dst_dt) {
                case QTOP_DT_U8: ((uint8_t *)dst)[obase + ch] = (uint8_t)requant(y, pp->inv_out, 0.0f, QTOP_U8_MAX); break;
                case QTOP_DT_S8: ((int8_t *)dst)[obase + ch] = (int8_t)requant(y, pp->inv_out, -128.0f, 127.0f); break;
                default: ((float *)dst)[obase + ch] = y; break;
                }
            }
        }
    }
}

#define WHY(...) do { if (why && why_len) snprintf(why, why_len, __VA_ARGS__); } while (0)

static int *dup_ints(const int *a, int n) {
    int *p = malloc(sizeof(int) * (size_t)n);
    if (p) memcpy(p, a, sizeof(int) * (size_t)n);
    return p;
}

static int spans_ok(const int *s, const int *e, int n, int extent) {
    for (int i = 0; i < n; i++)
        if (s[i] < 0 || e[i] > extent) return 0;
    return 1;
}

qtop_qpool *qtop_qpool_create(const qtop_qpool_desc *d, const int *rs, const int *re, const int *cs, const int *ce,
                              const int *rdiv, const int *cdiv, int isa, char *why, size_t why_len) {
    if (why && why_len) why[0] = 0;
    if (d->n <= 0 || d->h <= 0 || d->w <= 0 || d->c <= 0 || d->oh <= 0 || d->ow <= 0) { WHY("invalid shape"); return NULL; }
    if (d->src_dt != QTOP_DT_U8 && d->src_dt != QTOP_DT_S8) { WHY("input must be u8 or s8"); return NULL; }
    if (!d->is_avg && d->dst_dt != d->src_dt) { WHY("max pool keeps the input dtype"); return NULL; }
    if (d->is_avg && d->dst_dt != QTOP_DT_U8 && d->dst_dt != QTOP_DT_S8 && d->dst_dt != QTOP_DT_F32) { WHY("bad output dtype"); return NULL; }
    if (d->is_avg && (!(d->in_range > 0) || (d->dst_dt != QTOP_DT_F32 && !(d->out_range > 0)))) {
        WHY("avg pool ranges must be > 0"); return NULL;
    }
    if (!rs || !re || !cs || !ce || !rdiv || !cdiv || !spans_ok(rs, re, d->oh, d->h) || !spans_ok(cs, ce, d->ow, d->w)) {
        WHY("pooling window outside the input"); return NULL;
    }
    const qtop_isa_config *cfg = qtop__isa_config(isa);
    if (!cfg || !cfg->q8_max_row || !cfg->q8_sum_row) { WHY("%s: no pooling kernel in this build", qtop_isa_name(isa)); return NULL; }
    if (!((qtop_cpu_isa_mask() >> isa) & 1)) { WHY("%s: cpu lacks %s", qtop_isa_name(isa), qtop_isa_name(isa)); return NULL; }
    qtop_qpool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->d = *d;
    p->cfg = cfg;
    p->rs = dup_ints(rs, d->oh); p->re = dup_ints(re, d->oh); p->rdiv = dup_ints(rdiv, d->oh);
    p->cs = dup_ints(cs, d->ow); p->ce = dup_ints(ce, d->ow); p->cdiv = dup_ints(cdiv, d->ow);
    if (!p->rs || !p->re || !p->rdiv || !p->cs || !p->ce || !p->cdiv) { qtop_qpool_destroy(p); return NULL; }
    p->step_in = d->in_range / 127.0f;
    p->inv_out = d->dst_dt == QTOP_DT_F32 || !d->is_avg ? 0.0f : 127.0f / d->out_range;
    return p;
}

void qtop_qpool_run(const qtop_qpool *p, const void *src, void *dst, qtop_pool *pool) {
    void *ctx[3] = { (void *)p, (void *)src, dst };
    qtop_parallel_for(pool, (int64_t)p->d.n * p->d.oh, pool_task, ctx);
}

void qtop_qpool_destroy(qtop_qpool *p) {
    if (!p) return;
    free(p->rs); free(p->re); free(p->cs); free(p->ce); free(p->rdiv); free(p->cdiv);
    free(p);
}

/* ------------------------------------------------------------------ reorders: one task per (n, h) row */

/* The scalar references of the reorder rows (every ISA's row kernel equals them bit for bit). One image row y:
 * src[ch*hw + x] (NCHW) ↔ dst[x*C + ch] (NHWC), x < W, ch < C. */
void qtop__q8_quant_row_generic(const float *src, int64_t hw, int W, int C, void *dst, int is_signed, float inv) {
    for (int x = 0; x < W; x++)
        for (int ch = 0; ch < C; ch++) {
            float v = src[ch * hw + x];
            if (is_signed) ((int8_t *)dst)[(int64_t)x * C + ch] = (int8_t)requant(v, inv, -128.0f, 127.0f);
            else ((uint8_t *)dst)[(int64_t)x * C + ch] = (uint8_t)requant(v, inv, 0.0f, QTOP_U8_MAX);
        }
}

void qtop__q8_dequant_row_generic(const void *src, int W, int C, int is_signed, float *dst, int64_t hw, float scale) {
    for (int x = 0; x < W; x++)
        for (int ch = 0; ch < C; ch++) {
            int64_t i = (int64_t)x * C + ch;
            float q = is_signed ? (float)((const int8_t *)src)[i] : (float)((const uint8_t *)src)[i];
            dst[ch * hw + x] = q * scale;
        }
}

typedef struct { const void *src; void *dst; int dt, n, c, h, w; float f; const qtop_isa_config *cfg; } ro_ctx;

static void quant_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    ro_ctx *r = vctx;
    int n = (int)(task / r->h), y = (int)(task % r->h);
    const float *s = (const float *)r->src + (int64_t)n * r->c * r->h * r->w + (int64_t)y * r->w;
    int64_t ob = (((int64_t)n * r->h + y) * r->w) * r->c;
    r->cfg->q8_quant_row(s, (int64_t)r->h * r->w, r->w, r->c, (uint8_t *)r->dst + ob, r->dt == QTOP_DT_S8, r->f);
}

/* The row for `isa` when it has reorder kernels, else the generic one. */
static const qtop_isa_config *reorder_config(int isa) {
    const qtop_isa_config *cfg = qtop__isa_config(isa);
    if (!cfg || !cfg->q8_quant_row || !cfg->q8_dequant_row || !((qtop_cpu_isa_mask() >> isa) & 1))
        cfg = qtop__isa_config(QTOP_ISA_GENERIC);
    return cfg;
}

void qtop_quantize_nchw_to_nhwc(const float *src, void *dst, int dst_dt, int n, int c, int h, int w, float range,
                                int isa, qtop_pool *pool) {
    ro_ctx r = { src, dst, dst_dt, n, c, h, w, 127.0f / range, reorder_config(isa) };
    qtop_parallel_for(pool, (int64_t)n * h, quant_task, &r);
}

static void dequant_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    ro_ctx *r = vctx;
    int n = (int)(task / r->h), y = (int)(task % r->h);
    float *o = (float *)r->dst + (int64_t)n * r->c * r->h * r->w + (int64_t)y * r->w;
    int64_t ib = (((int64_t)n * r->h + y) * r->w) * r->c;
    r->cfg->q8_dequant_row((const uint8_t *)r->src + ib, r->w, r->c, r->dt == QTOP_DT_S8, o, (int64_t)r->h * r->w, r->f);
}

void qtop_dequantize_nhwc_to_nchw(const void *src, int src_dt, float *dst, int n, int c, int h, int w, float range,
                                  int isa, qtop_pool *pool) {
    ro_ctx r = { src, dst, src_dt, n, c, h, w, range / 127.0f, reorder_config(isa) };
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
    ro_ctx r = { src, dst, QTOP_DT_F32, n, c, h, w, 1.0f, NULL };
    qtop_parallel_for(pool, (int64_t)n * h, transpose_f32_task, &r);
}
