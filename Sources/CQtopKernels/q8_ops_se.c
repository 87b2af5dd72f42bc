/* f32 NHWC boundaries of an int8 graph: what an SE block (global average pool → two small convs → channel scale)
 * and its RSE shortcut (x + x * s) need when the tensor they read is an f32 NHWC conv output. Without these the
 * graph would reorder that tensor to NCHW, pool it, multiply and add in NCHW, and quantize it back to NHWC.
 * Drivers and the generic (scalar reference) rows; each ISA's rows are bit-exact with these: every lane does the
 * same separately rounded Float operations in the same order (no contraction). */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#include "isa_config.h"
#include <stdatomic.h>
#include <string.h>

static void sum_pixels_generic(float *acc, const float *p, int64_t npix, int64_t stride, int C) {
    for (int64_t i = 0; i < npix; i++)
        for (int ch = 0; ch < C; ch++) acc[ch] += p[i * stride + ch];
}

static inline float se_y(float v, const float *s, int ch, int residual) {
    if (!s) return v;
    float y = v * s[ch];
    return residual ? v + y : y;
}

static void to_nchw_row_generic(const float *src, int W, int C, const float *s, int residual, const float *z, float *dst, int64_t hw) {
    for (int x = 0; x < W; x++)
        for (int ch = 0; ch < C; ch++) {
            float y = se_y(src[(int64_t)x * C + ch], s, ch, residual);
            dst[ch * hw + x] = z ? y + z[ch * hw + x] : y;
        }
}

static void quant_row_generic(const float *src, int W, int C, const float *s, int residual, const float *z, int64_t hw, void *dst,
                              int is_signed, float inv) {
    for (int64_t i = 0; i < (int64_t)W * C; i++) {
        float y = se_y(src[i], s, (int)(i % C), residual);
        if (z) y = y + z[(i % C) * hw + i / C];
        if (is_signed) ((int8_t *)dst)[i] = (int8_t)requant(y, inv, -128.0f, 127.0f);
        else ((uint8_t *)dst)[i] = (uint8_t)requant(y, inv, 0.0f, QTOP_U8_MAX);
    }
}

const qtop_f32_nhwc_rows qtop__f32_nhwc_generic = { sum_pixels_generic, to_nchw_row_generic, quant_row_generic };

/* The rows of `isa` when the build has them and the CPU runs them, else the generic rows. */
static const qtop_f32_nhwc_rows *rows_for(int isa) {
    const qtop_isa_config *cfg = qtop__isa_config(isa);
    if (!cfg || !cfg->f32_nhwc || !((qtop_cpu_isa_mask() >> isa) & 1)) return &qtop__f32_nhwc_generic;
    return cfg->f32_nhwc;
}

/* ------------------------------------------------------------------ global average pool: one task per channel block */

/* Each task sums its channel block over every pixel in one sum_pixels call (accumulators in registers, one
 * sequential stream); the blocks split the channels among the pool's threads (one block when single-threaded), at
 * most QTOP_GAP_MAX_C wide. Per channel the order is the reference's whatever the split. */

typedef struct { const float *src; float *dst; int n, hw, c, cb, cblocks; const qtop_f32_nhwc_rows *rows; } gap_ctx;

static void gap_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const gap_ctx *g = vctx;
    int n = (int)(task / g->cblocks), c0 = (int)(task % g->cblocks) * g->cb;
    int cb = g->c - c0 < g->cb ? g->c - c0 : g->cb;
    float acc[QTOP_GAP_MAX_C];
    for (int i = 0; i < cb; i++) acc[i] = 0.0f;
    g->rows->sum_pixels(acc, g->src + (int64_t)n * g->hw * g->c + c0, g->hw, g->c, cb);
    float cnt = (float)g->hw;
    for (int i = 0; i < cb; i++) g->dst[(int64_t)n * g->c + c0 + i] = acc[i] / cnt;
}

void qtop_gap_nhwc_f32(const float *src, float *dst, int n, int hw, int c, int isa, qtop_pool *pool) {
    if (n <= 0 || hw <= 0 || c <= 0) return;
    int t = qtop_pool_threads(pool), per = (c + t - 1) / t;
    int cb = (per + 7) / 8 * 8;
    if (cb > QTOP_GAP_MAX_C) cb = QTOP_GAP_MAX_C;
    gap_ctx g = { src, dst, n, hw, c, cb, (c + cb - 1) / cb, rows_for(isa) };
    qtop_parallel_for(pool, (int64_t)n * g.cblocks, gap_task, &g);
}

/* ------------------------------------------------------------------ channel scale: one task per (n, image row) */

/* The addend z is f32 NCHW [n, c, h / zf, w / zf]: output pixel (y, x) adds z's (y / zf, x / zf) (zf 1: z has x's
 * extents). With zf > 1 (fuse-se-upsample: the FPN's nearest 2x resize folded into the add) the task copies the
 * one coarse z row it needs, widened, into a [c][w] thread-local row and hands that to the rows (z stride w): the
 * same values the resize would have written, without writing or re-reading the whole fine tensor. Consecutive
 * rows sharing a coarse row reuse the widened copy (keyed by call, batch and coarse row). */

typedef struct {
    const float *src, *s, *z; void *dst; int residual, dt, n, c, h, w, zf; float inv; const qtop_f32_nhwc_rows *rows;
    uint64_t call;
} scale_ctx;

static _Atomic uint64_t scale_calls;
static __thread struct { uint64_t call; int64_t row; const float *buf; } widened;

/* z's coarse row (n, zy) widened to [c][w] in thread-local scratch (NULL when it cannot be allocated). */
static const float *widen_row(const scale_ctx *r, int n, int zy) {
    const int zh = r->h / r->zf, zw = r->w / r->zf, W = r->w, f = r->zf;
    const int64_t key = (int64_t)n * zh + zy;
    if (widened.call == r->call && widened.row == key && widened.buf) return widened.buf;
    float *buf = qtop__tls_scratch(sizeof(float) * (size_t)r->c * (size_t)W);
    if (!buf) return NULL;
    const int64_t zhw = (int64_t)zh * zw;
    for (int ch = 0; ch < r->c; ch++) {
        const float *zr = r->z + ((int64_t)n * r->c + ch) * zhw + (int64_t)zy * zw;
        float *o = buf + (int64_t)ch * W;
        if (f == 2)
            for (int x = 0; x < W; x++) o[x] = zr[x >> 1];
        else
            for (int x = 0; x < W; x++) o[x] = zr[x / f];
    }
    widened.call = r->call; widened.row = key; widened.buf = buf;
    return buf;
}

/* Without scratch memory for the widened row: the generic arithmetic, z read in place. */
static void scale_row_unwidened(const scale_ctx *r, int n, int y, const float *src, const float *s) {
    const int64_t hw = (int64_t)r->h * r->w, zw = r->w / r->zf, zhw = (int64_t)(r->h / r->zf) * zw;
    const float *zr = r->z + (int64_t)n * r->c * zhw + (int64_t)(y / r->zf) * zw;
    for (int x = 0; x < r->w; x++)
        for (int ch = 0; ch < r->c; ch++) {
            float v = se_y(src[(int64_t)x * r->c + ch], s, ch, r->residual) + zr[(int64_t)ch * zhw + x / r->zf];
            if (r->dt == QTOP_DT_F32) ((float *)r->dst)[(int64_t)n * r->c * hw + (int64_t)ch * hw + (int64_t)y * r->w + x] = v;
            else {
                int64_t i = (((int64_t)n * r->h + y) * r->w + x) * r->c + ch;
                if (r->dt == QTOP_DT_S8) ((int8_t *)r->dst)[i] = (int8_t)requant(v, r->inv, -128.0f, 127.0f);
                else ((uint8_t *)r->dst)[i] = (uint8_t)requant(v, r->inv, 0.0f, QTOP_U8_MAX);
            }
        }
}

static void scale_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const scale_ctx *r = vctx;
    int n = (int)(task / r->h), y = (int)(task % r->h);
    const int64_t hw = (int64_t)r->h * r->w;
    const float *src = r->src + (((int64_t)n * r->h + y) * r->w) * r->c;
    const float *s = r->s ? r->s + (int64_t)n * r->c : NULL;
    const float *z = NULL, *zw = NULL;   /* z: full-size NCHW row (stride hw); zw: widened row (stride w) */
    if (r->z && r->zf == 1) z = r->z + (int64_t)n * r->c * hw + (int64_t)y * r->w;
    else if (r->z && !(zw = widen_row(r, n, y / r->zf))) { scale_row_unwidened(r, n, y, src, s); return; }
    if (r->dt == QTOP_DT_F32) {
        float *o = (float *)r->dst + (int64_t)n * r->c * hw + (int64_t)y * r->w;
        r->rows->to_nchw_row(src, r->w, r->c, s, r->residual, z, o, hw);
        if (zw)   /* y + z, rounded once, as the rows add a full-size z */
            for (int ch = 0; ch < r->c; ch++) {
                float *oc = o + (int64_t)ch * hw;
                const float *zc = zw + (int64_t)ch * r->w;
                for (int x = 0; x < r->w; x++) oc[x] = oc[x] + zc[x];
            }
    } else {
        uint8_t *o = (uint8_t *)r->dst + (((int64_t)n * r->h + y) * r->w) * r->c;
        if (zw) r->rows->quant_row(src, r->w, r->c, s, r->residual, zw, r->w, o, r->dt == QTOP_DT_S8, r->inv);
        else r->rows->quant_row(src, r->w, r->c, s, r->residual, z, hw, o, r->dt == QTOP_DT_S8, r->inv);
    }
}

void qtop_scale_nhwc_f32(const float *src, const float *s, int residual, void *dst, int dst_dt, float range,
                         int n, int c, int h, int w, int isa, qtop_pool *pool) {
    qtop_scale_add_up_nhwc_f32(src, s, residual, NULL, 1, dst, dst_dt, range, n, c, h, w, isa, pool);
}

void qtop_scale_add_nhwc_f32(const float *src, const float *s, int residual, const float *z, void *dst, int dst_dt, float range,
                             int n, int c, int h, int w, int isa, qtop_pool *pool) {
    qtop_scale_add_up_nhwc_f32(src, s, residual, z, 1, dst, dst_dt, range, n, c, h, w, isa, pool);
}

int qtop_scale_add_up_nhwc_f32(const float *src, const float *s, int residual, const float *z, int zf, void *dst, int dst_dt,
                               float range, int n, int c, int h, int w, int isa, qtop_pool *pool) {
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || zf < 1) return 0;
    if (dst_dt != QTOP_DT_F32 && dst_dt != QTOP_DT_U8 && dst_dt != QTOP_DT_S8) return 0;
    if (z && (h % zf != 0 || w % zf != 0)) return 0;
    scale_ctx r = { src, s, z, dst, residual && s, dst_dt, n, c, h, w, z ? zf : 1, dst_dt == QTOP_DT_F32 ? 1.0f : 127.0f / range,
                    rows_for(isa), 0 };
    r.call = ++scale_calls;
    qtop_parallel_for(pool, (int64_t)n * h, scale_task, &r);
    return 1;
}

/* ------------------------------------------------------------------ int8 nearest interp (NHWC): row copies */

typedef struct { const uint8_t *src; uint8_t *dst; int n, ih, iw, c, oh, ow; const int *rows, *cols; } near_ctx;

static void near_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const near_ctx *r = vctx;
    int n = (int)(task / r->oh), oy = (int)(task % r->oh);
    const size_t C = (size_t)r->c;
    const uint8_t *srow = r->src + ((int64_t)n * r->ih + r->rows[oy]) * r->iw * (int64_t)C;
    uint8_t *o = r->dst + ((int64_t)n * r->oh + oy) * r->ow * (int64_t)C;
    for (int ox = 0; ox < r->ow; ox++) memcpy(o + (size_t)ox * C, srow + (size_t)r->cols[ox] * C, C);
}

int qtop_q8_nearest_nhwc(const void *src, void *dst, int n, int ih, int iw, int c, int oh, int ow, const int *rows,
                         const int *cols, qtop_pool *pool) {
    if (n <= 0 || ih <= 0 || iw <= 0 || c <= 0 || oh <= 0 || ow <= 0) return 0;
    for (int i = 0; i < oh; i++) if (rows[i] < 0 || rows[i] >= ih) return 0;
    for (int i = 0; i < ow; i++) if (cols[i] < 0 || cols[i] >= iw) return 0;
    near_ctx r = { src, dst, n, ih, iw, c, oh, ow, rows, cols };
    qtop_parallel_for(pool, (int64_t)n * oh, near_task, &r);
    return 1;
}

/* ------------------------------------------------------------------ int8 channel concat (NHWC): one task per 64 rows */

#define CAT_ROWS 64

void qtop__q8_rescale_row_generic(const uint8_t *s, int in_signed, uint8_t *o, int out_signed, int n, float ratio) {
    const float lo = out_signed ? -128.0f : 0.0f, hi = out_signed ? 127.0f : QTOP_U8_MAX;
    for (int ch = 0; ch < n; ch++) {
        float q = in_signed ? (float)(int8_t)s[ch] : (float)s[ch];
        o[ch] = (uint8_t)requant(q, ratio, lo, hi);
    }
}

typedef struct {
    const void *const *srcs; const int *dts, *chans; const float *ratios; int k; void *dst; int dst_dt, cout; int64_t rows;
    qtop_q8_rescale_row_fn rescale;
} cat_ctx;

static void cat_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const cat_ctx *r = vctx;
    int64_t r0 = task * CAT_ROWS, r1 = r0 + CAT_ROWS < r->rows ? r0 + CAT_ROWS : r->rows;
    const int out_s8 = r->dst_dt == QTOP_DT_S8;
    uint8_t *dst = r->dst;
    int off = 0;
    for (int i = 0; i < r->k; i++) {
        const int ct = r->chans[i], in_s8 = r->dts[i] == QTOP_DT_S8;
        const uint8_t *src = r->srcs[i];
        const float ratio = r->ratios[i];
        /* ratio 1 into the same type is the identity (an s8 value is in range; a u8 one is <= 127 only when Paddle's
         * grid produced it, so u8 still goes through the clamp below) */
        const int copy = ratio == 1.0f && in_s8 && out_s8;
        for (int64_t row = r0; row < r1; row++) {
            const uint8_t *s = src + row * ct;
            uint8_t *o = dst + row * r->cout + off;
            if (copy) memcpy(o, s, (size_t)ct);
            else r->rescale(s, in_s8, o, out_s8, ct, ratio);
        }
        off += ct;
    }
}

int qtop_q8_concat_nhwc(const void *const *srcs, const int *src_dts, const int *chans, const float *ratios, int k,
                        void *dst, int dst_dt, int64_t rows, int cout, int isa, qtop_pool *pool) {
    if (k <= 0 || rows <= 0 || (dst_dt != QTOP_DT_U8 && dst_dt != QTOP_DT_S8)) return 0;
    int sum = 0;
    for (int i = 0; i < k; i++) {
        if (chans[i] <= 0 || (src_dts[i] != QTOP_DT_U8 && src_dts[i] != QTOP_DT_S8) || !(ratios[i] == ratios[i])) return 0;
        sum += chans[i];
    }
    if (sum != cout) return 0;
    const qtop_isa_config *cfg = qtop__isa_config(isa);
    qtop_q8_rescale_row_fn rescale = cfg && cfg->q8_rescale_row && ((qtop_cpu_isa_mask() >> isa) & 1) ? cfg->q8_rescale_row
                                                                                                    : qtop__q8_rescale_row_generic;
    cat_ctx r = { srcs, src_dts, chans, ratios, k, dst, dst_dt, cout, rows, rescale };
    qtop_parallel_for(pool, (rows + CAT_ROWS - 1) / CAT_ROWS, cat_task, &r);
    return 1;
}
