/* Data-movement ops of the model families that compute nothing: concat on any axis (any element size), nearest
 * resize of 4-byte elements in NCHW, and a threaded copy (the executor's feed). Each output byte is a copy of one
 * input byte, so there is no rounding to match: the scalar form below is the reference and the only form; the
 * speed comes from memcpy (already vectorised), from writing duplicated rows with memcpy instead of gathering them
 * again, from a 2x widening loop the compiler vectorises, and from splitting the work over the pool. */
#include "q8_internal.h"
#include <string.h>

/* ------------------------------------------------------------------ threaded copy: 256 KiB per task */

#define COPY_CHUNK ((int64_t)256 << 10)

typedef struct { const uint8_t *src; uint8_t *dst; int64_t bytes; } copy_ctx;

static void copy_task(void *vctx, int64_t t, int thread) {
    (void)thread;
    const copy_ctx *c = vctx;
    int64_t a = t * COPY_CHUNK, b = a + COPY_CHUNK < c->bytes ? a + COPY_CHUNK : c->bytes;
    memcpy(c->dst + a, c->src + a, (size_t)(b - a));
}

void qtop_copy_bytes(void *dst, const void *src, int64_t bytes, qtop_pool *pool) {
    if (bytes <= 0) return;
    copy_ctx c = { src, dst, bytes };
    qtop_parallel_for(pool, (bytes + COPY_CHUNK - 1) / COPY_CHUNK, copy_task, &c);
}

/* ------------------------------------------------------------------ concat: tasks are output byte ranges */

typedef struct {
    const uint8_t *const *srcs;
    const int64_t *row_bytes; /* bytes of input i per outer index */
    int k;
    uint8_t *dst;
    int64_t out_row, total;   /* bytes per outer index of the output; outer * out_row */
} cat_ctx;

static void cat_task(void *vctx, int64_t t, int thread) {
    (void)thread;
    const cat_ctx *c = vctx;
    int64_t a = t * COPY_CHUNK, b = a + COPY_CHUNK < c->total ? a + COPY_CHUNK : c->total;
    int64_t o = a / c->out_row, off = a % c->out_row;
    int i = 0;
    int64_t start = 0; /* offset of input i inside an output row */
    while (off >= start + c->row_bytes[i]) { start += c->row_bytes[i]; i++; }
    while (a < b) {
        int64_t in_off = off - start, n = c->row_bytes[i] - in_off;
        if (n > b - a) n = b - a;
        memcpy(c->dst + a, c->srcs[i] + o * c->row_bytes[i] + in_off, (size_t)n);
        a += n; off += n;
        if (off == start + c->row_bytes[i]) {
            start += c->row_bytes[i];
            i++;
            if (i == c->k) { i = 0; start = 0; off = 0; o++; }
        }
    }
}

int qtop_concat_bytes(const void *const *srcs, const int64_t *row_bytes, int k, void *dst, int64_t outer, qtop_pool *pool) {
    if (k <= 0 || outer < 0) return 0;
    int64_t out_row = 0;
    for (int i = 0; i < k; i++) {
        if (row_bytes[i] < 0 || (row_bytes[i] > 0 && !srcs[i])) return 0;
        out_row += row_bytes[i];
    }
    if (outer == 0 || out_row == 0) return 1;
    /* skip empty inputs in the walk: the task loop assumes each visited input has bytes */
    const void *s2[k];
    int64_t r2[k];
    int k2 = 0;
    for (int i = 0; i < k; i++) if (row_bytes[i] > 0) { s2[k2] = srcs[i]; r2[k2] = row_bytes[i]; k2++; }
    cat_ctx c = { (const uint8_t *const *)s2, r2, k2, dst, out_row, outer * out_row };
    qtop_parallel_for(pool, (c.total + COPY_CHUNK - 1) / COPY_CHUNK, cat_task, &c);
    return 1;
}

/* ------------------------------------------------------------------ nearest resize, NCHW, 4-byte elements */

typedef struct {
    const uint32_t *src; uint32_t *dst;
    int64_t planes; int ih, iw, oh, ow, per;
    const int *rows, *cols;
    int twice; /* cols[x] == x / 2 for every x: the 2x widening loop */
} near_ctx;

/* One output row from input row `s`. */
static void near_row(const near_ctx *c, const uint32_t *s, uint32_t *o) {
    if (c->twice) {
        int x = 0;
        for (; x + 1 < c->ow; x += 2) { uint32_t v = s[x >> 1]; o[x] = v; o[x + 1] = v; }
        if (x < c->ow) o[x] = s[x >> 1];
        return;
    }
    for (int x = 0; x < c->ow; x++) o[x] = s[c->cols[x]];
}

/* task: `per` consecutive output rows of one plane; a row whose source row equals the previous one's is a memcpy */
static void near_task(void *vctx, int64_t t, int thread) {
    (void)thread;
    const near_ctx *c = vctx;
    int64_t blocks = (c->oh + c->per - 1) / c->per;
    int64_t p = t / blocks;
    int y0 = (int)(t % blocks) * c->per, y1 = y0 + c->per < c->oh ? y0 + c->per : c->oh;
    const uint32_t *src = c->src + p * c->ih * (int64_t)c->iw;
    uint32_t *dst = c->dst + p * c->oh * (int64_t)c->ow;
    for (int y = y0; y < y1; y++) {
        uint32_t *o = dst + (int64_t)y * c->ow;
        if (y > y0 && c->rows[y] == c->rows[y - 1]) memcpy(o, o - c->ow, (size_t)c->ow * 4);
        else near_row(c, src + (int64_t)c->rows[y] * c->iw, o);
    }
}

int qtop_nearest_nchw_f32(const void *src, void *dst, int64_t planes, int ih, int iw, int oh, int ow, const int *rows,
                          const int *cols, qtop_pool *pool) {
    if (planes <= 0 || ih <= 0 || iw <= 0 || oh <= 0 || ow <= 0) return 0;
    for (int i = 0; i < oh; i++) if (rows[i] < 0 || rows[i] >= ih) return 0;
    int twice = 1;
    for (int i = 0; i < ow; i++) {
        if (cols[i] < 0 || cols[i] >= iw) return 0;
        if (cols[i] != i / 2) twice = 0;
    }
    /* about 16 K output elements per task */
    int per = ow >= 16384 ? 1 : 16384 / ow;
    if (per > oh) per = oh;
    near_ctx c = { src, dst, planes, ih, iw, oh, ow, per, rows, cols, twice };
    qtop_parallel_for(pool, planes * ((oh + per - 1) / per), near_task, &c);
    return 1;
}
