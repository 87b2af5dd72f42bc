/* fp32 depthwise convolution on NCHW planes, any kernel size, stride, dilation and padding: the driver hands the
 * ISA row's microkernel groups of up to QTOP_FDW_MAX_R output rows of one channel (see qtop_fdw_rows).
 *
 * Stride 1 reads the input planes where they are: tap row ky of output row oy is input row oy - pad_t + dil·ky, or a
 * zero row above / below the image, and the microkernel masks the columns left and right of the image (masked
 * loads at the edge vectors, plain loads inside). Nothing is copied, except on short rows (ow ≤ 32, where nearly
 * every vector is an edge one): each plane is copied into a zero-padded one (padding rows and columns included) and
 * the microkernel reads it with plain loads only.
 * Stride 2 with a kernel span ≤ QTOP_FDW_S2_SPAN (3×3, 5×5) reads the input rows in place too: the microkernel
 * splits each vector's columns into even and odd ones in registers (sx = 2).
 * Other strides s ≥ 2 would need a gather per tap, so each input row a row group needs is split once into its s
 * column phases in a small strip (a few rows, L1-resident): phase b holds padded column s·j + b at [j], zero outside
 * the image, and tap (ky, kx) reads phase (dil·kx) % s at offset (dil·kx) / s — every tap a contiguous run again.
 * Threading is by channel planes (several per task on small planes). */
#include "isa_config.h"
#include <stdlib.h>
#include <string.h>

/* Widest vector of any rows microkernel (floats): strips and the zero row stay readable that far past ow. */
#define DW_VMAX 16

struct qtop_fdw {
    qtop_fconv_desc d;
    int oh, ow, s, taps, R;
    int sx;                        /* 2: the microkernel reads stride-2 columns itself (no strip); else 1 */
    int nphase, Wq;                /* strides ≥ 2: phases of a strip row and the floats of each (slack included) */
    int window;                    /* input rows one group of R output rows reads */
    int Wp, Hp;                    /* Wp > 0: small stride-1 planes are copied into Hp zero-padded rows of Wp floats */
    int *koff;                     /* [kw]: column offset of kernel column kx (see qtop_fdw_rows) */
    int koff_lo, koff_hi;
    float *zero;                   /* a zero row: image rows above / below the image */
    float *w, *bias;
    qtop_f32_dw_rows_fn rows;
    qtop_f32_gather2_fn gather2;
};

/* The contract of qtop_fdw_rows in plain C: the generic row, and the reference the SIMD rows are tested against. */
static void rows_generic(const qtop_fdw_rows *j) {
    for (int i = 0; i < j->R; i++)
        for (int x = 0; x < j->ow; x++) {
            float s = j->bias;
            for (int ky = 0; ky < j->kh; ky++) {
                const float *row = j->row[i * j->rs + ky * j->rd];
                for (int kx = 0; kx < j->kw; kx++) {
                    int c = j->sx * x + j->koff[kx];
                    if (j->masked && (c < 0 || c >= j->iw)) continue;
                    s += j->w[ky * j->kw + kx] * row[c];
                }
            }
            int64_t o = (int64_t)i * j->ow + x;
            j->out[o] = qtop__act_f(j->res ? s + j->res[o] : s, j->act);
        }
}

qtop_fdw *qtop__fdw_create(const qtop_fconv_desc *d, const float *weights, const float *bias,
                           const qtop_isa_config *cfg) {
    qtop_fdw *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->d = *d;
    c->oh = qtop_fconv_out_h(d);
    c->ow = qtop_fconv_out_w(d);
    c->s = d->stride_w;
    c->taps = d->kh * d->kw;
    /* rows per group: 8 on short rows (more accumulators per call); 4 on wide ones, where 8 rows' streams through
     * the caches cost more than they save (measured: 112×112 3×3 ~20% slower at 8) */
    c->R = c->ow <= 32 ? QTOP_FDW_MAX_R : 4;
    if (c->R > c->oh) c->R = c->oh;
    c->koff = malloc(sizeof(int) * (size_t)d->kw);
    if (!c->koff) { qtop__fdw_destroy(c); return NULL; }
    c->window = (c->R - 1) * d->stride_h + d->dil_h * (d->kh - 1) + 1;
    /* stride 2 with a short kernel: the microkernel splits the columns itself (sx = 2), no strip */
    c->sx = c->s == 2 && d->dil_w * (d->kw - 1) <= QTOP_FDW_S2_SPAN && c->window <= QTOP_FDW_S2_WINDOW ? 2 : 1;
    int s = c->sx == 2 ? 1 : c->s, maxcol = (d->dil_w * (d->kw - 1)) / s;
    /* Short stride-1 rows are nearly all edge vectors: copy each plane into zero-padded rows (left padding
     * included, so every tap is a plain load) wide enough for the widest tile (32 columns) plus the kernel span. */
    if (c->s == 1 && c->ow <= 32 && d->h <= 64) {
        c->Wp = ((c->ow > 32 ? c->ow : 32) + maxcol + 7) & ~7;
        c->Hp = d->pad_t + d->h + d->pad_b;   /* the padding rows too: a group's rows are consecutive ones */
    }
    if (s > 1) {
        for (int kx = 0; kx < d->kw; kx++)   /* phases 0 .. the highest one a tap reads */
            if ((d->dil_w * kx) % s + 1 > c->nphase) c->nphase = (d->dil_w * kx) % s + 1;
        /* readable up to max(ow, DW_VMAX) + maxcol: microkernels compute whole vectors */
        c->Wq = ((c->ow > DW_VMAX ? c->ow : DW_VMAX) + maxcol + 15) & ~15;
    }
    for (int kx = 0; kx < d->kw; kx++) {
        int k = d->dil_w * kx;
        /* stride 1: the input column of tap kx at output column x is x + k - pad_l; strips: phase · Wq + k / s */
        c->koff[kx] = c->Wp ? k : s == 1 ? k - d->pad_l : (k % s) * c->Wq + k / s;
        if (kx == 0 || c->koff[kx] < c->koff_lo) c->koff_lo = c->koff[kx];
        if (kx == 0 || c->koff[kx] > c->koff_hi) c->koff_hi = c->koff[kx];
    }
    int64_t zlen = s == 1 ? d->w : (int64_t)c->nphase * c->Wq;
    c->zero = calloc((size_t)(zlen + 2 * DW_VMAX), sizeof(float));
    c->w = malloc(sizeof(float) * (size_t)d->oc * c->taps);
    c->bias = malloc(sizeof(float) * (size_t)d->oc);
    if (!c->zero || !c->w || !c->bias) { qtop__fdw_destroy(c); return NULL; }
    memcpy(c->w, weights, sizeof(float) * (size_t)d->oc * c->taps);
    for (int o = 0; o < d->oc; o++) c->bias[o] = bias ? bias[o] : 0.0f;
    c->rows = cfg->f32_dw_rows ? cfg->f32_dw_rows : rows_generic;
    c->gather2 = cfg->f32_gather2;
    return c;
}

void qtop__fdw_destroy(qtop_fdw *c) {
    if (!c) return;
    free(c->w); free(c->bias); free(c->koff); free(c->zero);
    free(c);
}

/* Input row iy (inside the image) split into its column phases at dst (phase b at dst + b·Wq): padded column
 * s·j + b where it lies inside the image. The padding columns are zeroed once per task and never written (the
 * image columns of a phase are the same for every row). */
static void fill_strip_row(const qtop_fdw *c, const float *row, float *dst) {
    const qtop_fconv_desc *d = &c->d;
    int s = c->s;
    for (int p = 0; p < c->nphase; p++) {
        int x0 = p - d->pad_l;   /* input column of j = 0 */
        int jlo = x0 >= 0 ? 0 : (-x0 + s - 1) / s;
        int jhi = d->w - 1 - x0 < 0 ? 0 : (d->w - 1 - x0) / s + 1;
        if (jhi > c->Wq) jhi = c->Wq;
        if (jlo >= jhi) continue;
        int len = jhi - jlo;
        float *restrict o = dst + (int64_t)p * c->Wq + jlo;
        const float *restrict r = row + x0 + (int64_t)jlo * s;
        if (s == 2 && c->gather2) c->gather2(o, r, len);
        else for (int j = 0; j < len; j++) o[j] = r[(int64_t)j * s];
    }
}

typedef struct { const qtop_fdw *c; const float *src; float *dst; const float *res; int per_task; } dw_run;

/* The image of a padded plane (Wp > 0): its padding rows and columns were zeroed once per task and stay zero.
 * Fixed-size copies (whole vectors, then 4, then single floats): a call per short row would cost more. */
static void pad_plane(const qtop_fdw *c, const float *pl, float *dst) {
    const qtop_fconv_desc *d = &c->d;
    for (int y = 0; y < d->h; y++) {
        float *o = dst + (int64_t)(d->pad_t + y) * c->Wp + d->pad_l;
        const float *r = pl + (int64_t)y * d->w;
        int x = 0;
        for (; x + 8 <= d->w; x += 8) memcpy(o + x, r + x, 32);
        if (x + 4 <= d->w) { memcpy(o + x, r + x, 16); x += 4; }
        for (; x < d->w; x++) o[x] = r[x];
    }
}

/* One channel plane (already padded when Wp > 0). strip: window · nphase · Wq floats (strides ≥ 2); rowp: window
 * row pointers. */
static void dw_plane(const qtop_fdw *c, const float *pl, int ch, float *out, const float *res, float *strip,
                     const float **rowp) {
    const qtop_fconv_desc *d = &c->d;
    int sh = d->stride_h;
    int64_t slot = (int64_t)c->nphase * c->Wq;
    qtop_fdw_rows j = {
        .row = rowp, .koff = c->koff, .w = c->w + (int64_t)ch * c->taps, .kh = d->kh, .kw = d->kw, .ow = c->ow,
        .rs = sh, .rd = d->dil_h, .sx = c->sx, .masked = !c->Wp && (c->s == 1 || c->sx == 2), .iw = d->w,
        .koff_lo = c->koff_lo, .koff_hi = c->koff_hi,
        .bias = c->bias[ch], .act = d->act,
    };
    for (int oy0 = 0; oy0 < c->oh; oy0 += c->R) {
        int R = c->oh - oy0 < c->R ? c->oh - oy0 : c->R;
        j.R = R;
        j.out = out + (int64_t)oy0 * c->ow;
        j.res = res ? res + (int64_t)oy0 * c->ow : NULL;
        j.left = (int64_t)(c->oh - oy0) * c->ow;
        if (c->Wp) {   /* rowp: every row of the padded plane */
            j.row = rowp + (int64_t)oy0 * sh;
            c->rows(&j);
            continue;
        }
        int base = oy0 * sh - d->pad_t;   /* input row of window row 0 */
        int need = (R - 1) * sh + d->dil_h * (d->kh - 1) + 1;
        for (int wr = 0; wr < need; wr++) {
            int iy = base + wr;
            if (iy < 0 || iy >= d->h) { rowp[wr] = c->zero; continue; }
            if (c->s == 1 || c->sx == 2) { rowp[wr] = pl + (int64_t)iy * d->w; continue; }
            fill_strip_row(c, pl + (int64_t)iy * d->w, strip + wr * slot);
            rowp[wr] = strip + wr * slot;
        }
        j.row = rowp;
        c->rows(&j);
    }
}

static void dw_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const dw_run *r = vctx;
    const qtop_fdw *c = r->c;
    const qtop_fconv_desc *d = &c->d;
    int64_t total = (int64_t)d->n * d->oc;
    int64_t p0 = task * r->per_task, p1 = p0 + r->per_task < total ? p0 + r->per_task : total;
    size_t strip_floats = c->Wp ? (size_t)c->Hp * c->Wp : (size_t)c->window * c->nphase * c->Wq;
    size_t nrowp = c->Wp ? (size_t)c->Hp : (size_t)c->window;
    float *strip = qtop__tls_scratch(sizeof(float) * strip_floats + sizeof(const float *) * nrowp);
    if (!strip) return;
    if (strip_floats) memset(strip, 0, sizeof(float) * strip_floats);
    const float **rowp = (const float **)(strip + strip_floats);
    for (int y = 0; c->Wp && y < c->Hp; y++) rowp[y] = strip + (int64_t)y * c->Wp;
    int64_t ihw = (int64_t)d->h * d->w, ohw = (int64_t)c->oh * c->ow;
    for (int64_t p = p0; p < p1; p++) {
        int ch = (int)(p % d->oc);
        const float *pl = r->src + p * ihw;
        if (c->Wp) {
            pad_plane(c, pl, strip);
            pl = strip;
        }
        dw_plane(c, pl, ch, r->dst + p * ohw, r->res ? r->res + p * ohw : NULL, strip, rowp);
    }
}

void qtop__fdw_run(const qtop_fdw *c, const float *src, float *dst, const float *res, qtop_pool *pool) {
    const qtop_fconv_desc *d = &c->d;
    int64_t planes = (int64_t)d->n * d->oc;
    /* several planes per task when planes are small (a 7×7 plane is ~0.1 µs of work), ≥ 8 tasks per thread */
    int threads = qtop__pool_thread_bound(pool);
    int64_t per = planes / (8 * (int64_t)threads);
    int64_t macs = (int64_t)c->oh * c->ow * c->taps;
    int64_t cap = 8192 / (macs > 0 ? macs : 1);
    if (per > cap) per = cap;
    if (per < 1) per = 1;
    dw_run r = { c, src, dst, res, (int)per };
    qtop_parallel_for(pool, (planes + per - 1) / per, dw_task, &r);
}
