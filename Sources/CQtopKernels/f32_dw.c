/* fp32 depthwise convolution on NCHW planes, any kernel size, stride, dilation and padding, through one flat
 * microkernel per ISA.
 *
 * Layout: each input plane is copied (a strip of rows at a time, L1-sized) into its stride phases with the zero
 * padding made explicit: phase (a, b) holds padded pixel (sh·i + a, sw·j + b) at [i][j], rows Wq = ow + (dw·(kw-1))/sw
 * floats wide. Tap (ky, kx) then reads phase ((dh·ky) % sh, (dw·kx) % sw) at a constant offset
 * ((dh·ky)/sh)·Wq + (dw·kx)/sw from the output's flat index q = oy·Wq + ox, so every tap is one contiguous run over
 * all output rows of the strip: small planes (7×7, 14×14) fill whole vectors, stride 2 needs no gathers in the inner
 * loop. The Wq - ow columns at the end of each flat row are computed and dropped when the strip is written out. */
#include "isa_config.h"
#include <stdlib.h>
#include <string.h>

/* Slack (floats) after every phase buffer and the flat output: the microkernels compute whole 64-output blocks. */
#define DW_SLACK 64
/* Strip budget in floats: phase buffers + flat output of one strip stay L1-resident. */
#define DW_STRIP_FLOATS 6144

struct qtop_fdw {
    qtop_fconv_desc d;
    int oh, ow, Wq, rymax, rows;   /* rows: output rows per strip */
    int taps, nphase;              /* nphase: stride phases some tap reads (≤ taps) */
    int *phase_a, *phase_b;        /* [nphase]: row and column phase of each buffer */
    int *tap_phase;                /* [taps]: buffer index */
    int64_t *tap_off;              /* [taps]: row offset · Wq + column offset inside the phase */
    int64_t phase_floats;          /* per phase buffer, slack included */
    int64_t flat_floats;           /* flat output of one strip, slack included */
    float *w, *bias;
    qtop_f32_dw_flat_fn flat;
    qtop_f32_gather2_fn gather2;
};

static void flat_generic(int n, int taps, const float *const *src, const float *w, float bias, int act, float *out) {
    for (int q = 0; q < n; q++) {
        float s = bias;
        for (int t = 0; t < taps; t++) s += w[t] * src[t][q];
        out[q] = qtop__act_f(s, act);
    }
}

qtop_fdw *qtop__fdw_create(const qtop_fconv_desc *d, const float *weights, const float *bias,
                           const qtop_isa_config *cfg) {
    qtop_fdw *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->d = *d;
    c->oh = qtop_fconv_out_h(d);
    c->ow = qtop_fconv_out_w(d);
    int sh = d->stride_h, sw = d->stride_w;
    c->Wq = c->ow + (d->dil_w * (d->kw - 1)) / sw;
    c->rymax = (d->dil_h * (d->kh - 1)) / sh;
    c->taps = d->kh * d->kw;
    c->phase_a = malloc(sizeof(int) * (size_t)c->taps);
    c->phase_b = malloc(sizeof(int) * (size_t)c->taps);
    c->tap_phase = malloc(sizeof(int) * (size_t)c->taps);
    c->tap_off = malloc(sizeof(int64_t) * (size_t)c->taps);
    if (!c->phase_a || !c->phase_b || !c->tap_phase || !c->tap_off) { qtop__fdw_destroy(c); return NULL; }
    for (int ky = 0; ky < d->kh; ky++)
        for (int kx = 0; kx < d->kw; kx++) {
            int t = ky * d->kw + kx, a = (d->dil_h * ky) % sh, b = (d->dil_w * kx) % sw, p = 0;
            while (p < c->nphase && !(c->phase_a[p] == a && c->phase_b[p] == b)) p++;
            if (p == c->nphase) { c->phase_a[p] = a; c->phase_b[p] = b; c->nphase++; }
            c->tap_phase[t] = p;
            c->tap_off[t] = (int64_t)((d->dil_h * ky) / sh) * c->Wq + (d->dil_w * kx) / sw;
        }
    int64_t per_row = (int64_t)c->Wq * (c->nphase + 1);
    int64_t rows = DW_STRIP_FLOATS / per_row - c->rymax;
    if (rows < 1) rows = 1;
    if (rows > c->oh) rows = c->oh;
    c->rows = (int)rows;
    /* multiples of 16 floats: every buffer starts 64-byte aligned, the pointer array after them too */
    c->phase_floats = ((int64_t)(c->rows + c->rymax) * c->Wq + c->Wq + DW_SLACK + 15) & ~(int64_t)15;
    c->flat_floats = ((int64_t)c->rows * c->Wq + c->Wq + DW_SLACK + 15) & ~(int64_t)15;
    c->w = malloc(sizeof(float) * (size_t)d->oc * c->taps);
    c->bias = malloc(sizeof(float) * (size_t)d->oc);
    if (!c->w || !c->bias) { qtop__fdw_destroy(c); return NULL; }
    memcpy(c->w, weights, sizeof(float) * (size_t)d->oc * c->taps);
    for (int o = 0; o < d->oc; o++) c->bias[o] = bias ? bias[o] : 0.0f;
    c->flat = cfg->f32_dw_flat ? cfg->f32_dw_flat : flat_generic;
    c->gather2 = cfg->f32_gather2;
    return c;
}

void qtop__fdw_destroy(qtop_fdw *c) {
    if (!c) return;
    free(c->w); free(c->bias); free(c->phase_a); free(c->phase_b); free(c->tap_phase); free(c->tap_off);
    free(c);
}

/* The image part of phase rows [i0, i1) of phase (a, b): padded pixel (sh·i + a, sw·j + b) where it lies inside the
 * image. The caller zeroes the buffer once per task; the image columns are the same for every strip and plane, so
 * the padding columns, dropped columns and slack stay zero. Rows of the strip outside the image (top / bottom
 * padding) are zeroed here: an earlier strip may have left image rows there. */
static void fill_phase(const qtop_fdw *c, const float *pl, int a, int b, int i0, int i1, float *dst) {
    const qtop_fconv_desc *d = &c->d;
    int sh = d->stride_h, sw = d->stride_w, Wq = c->Wq;
    /* columns j with 0 <= sw·j + b - pad_l < w */
    int x0 = b - d->pad_l;
    int jlo = x0 >= 0 ? 0 : (-x0 + sw - 1) / sw;
    int jhi = d->w - 1 - x0 < 0 ? 0 : (d->w - 1 - x0) / sw + 1;
    if (jhi > Wq) jhi = Wq;
    if (jlo >= jhi) return;
    int len = jhi - jlo;
    /* rows i with 0 <= sh·i + a - pad_t < h */
    int y0 = a - d->pad_t;
    int ilo = y0 >= 0 ? 0 : (-y0 + sh - 1) / sh;
    int ihi = d->h - 1 - y0 < 0 ? 0 : (d->h - 1 - y0) / sh + 1;
    if (ilo < i0) ilo = i0;
    if (ihi > i1) ihi = i1;
    if (ihi < ilo) ihi = ilo;
    for (int i = i0; i < ilo && i < i1; i++) memset(dst + (int64_t)(i - i0) * Wq, 0, sizeof(float) * (size_t)Wq);
    for (int i = ihi > i0 ? ihi : i0; i < i1; i++) memset(dst + (int64_t)(i - i0) * Wq, 0, sizeof(float) * (size_t)Wq);
    for (int i = ilo; i < ihi; i++) {
        float *restrict o = dst + (int64_t)(i - i0) * Wq + jlo;
        const float *restrict row = pl + (int64_t)(sh * i + y0) * d->w + x0 + (int64_t)jlo * sw;
        if (sw == 1) {
            if (len >= 32) memcpy(o, row, sizeof(float) * len);
            else for (int j = 0; j < len; j++) o[j] = row[j];
        } else if (sw == 2 && c->gather2) {
            c->gather2(o, row, len);
        } else {
            for (int j = 0; j < len; j++) o[j] = row[(int64_t)j * sw];
        }
    }
}

typedef struct { const qtop_fdw *c; const float *src; float *dst; const float *res; int per_task; } dw_run;

/* scratch: the phase buffers, the flat output, then the per-tap row pointers */
static void dw_channel(const qtop_fdw *c, const float *pl, int ch, float *out, const float *res, float *scratch) {
    const qtop_fconv_desc *d = &c->d;
    int Wq = c->Wq, ow = c->ow;
    float *phase = scratch, *flat = scratch + (int64_t)c->nphase * c->phase_floats;
    const float **src = (const float **)(flat + c->flat_floats);
    const float *w = c->w + (int64_t)ch * c->taps;
    float b = c->bias[ch];
    int act = res ? QTOP_ACT_NONE : d->act;   /* with a residual: act(acc + b + res) after the add */
    for (int r0 = 0; r0 < c->oh; r0 += c->rows) {
        int r1 = r0 + c->rows < c->oh ? r0 + c->rows : c->oh;
        for (int p = 0; p < c->nphase; p++)
            fill_phase(c, pl, c->phase_a[p], c->phase_b[p], r0, r1 + c->rymax, phase + (int64_t)p * c->phase_floats);
        for (int t = 0; t < c->taps; t++) src[t] = phase + (int64_t)c->tap_phase[t] * c->phase_floats + c->tap_off[t];
        int n = (r1 - r0 - 1) * Wq + ow;
        c->flat(n, c->taps, src, w, b, act, flat);
        for (int oy = r0; oy < r1; oy++) {
            const float *f = flat + (int64_t)(oy - r0) * Wq;
            float *o = out + (int64_t)oy * ow;
            if (!res) {
                if (ow >= 32) memcpy(o, f, sizeof(float) * ow);
                else for (int x = 0; x < ow; x++) o[x] = f[x];
                continue;
            }
            const float *rr = res + (int64_t)oy * ow;
            for (int x = 0; x < ow; x++) o[x] = qtop__act_f(f[x] + rr[x], d->act);
        }
    }
}

static void dw_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const dw_run *r = vctx;
    const qtop_fdw *c = r->c;
    const qtop_fconv_desc *d = &c->d;
    int64_t total = (int64_t)d->n * d->oc;
    int64_t p0 = task * r->per_task, p1 = p0 + r->per_task < total ? p0 + r->per_task : total;
    float *scratch = qtop__tls_scratch(sizeof(float) * (size_t)(c->nphase * c->phase_floats + c->flat_floats) +
                                       sizeof(const float *) * (size_t)c->taps);
    if (!scratch) return;
    memset(scratch, 0, sizeof(float) * (size_t)(c->nphase * c->phase_floats));
    int64_t ihw = (int64_t)d->h * d->w, ohw = (int64_t)c->oh * c->ow;
    for (int64_t p = p0; p < p1; p++) {
        int ch = (int)(p % d->oc);
        dw_channel(c, r->src + p * ihw, ch, r->dst + p * ohw, r->res ? r->res + p * ohw : NULL, scratch);
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
