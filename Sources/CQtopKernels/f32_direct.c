/* fp32 k×k convolution without im2col (NCHW): each task copies a band of input rows into a zero-padded buffer,
 * split into stride phases, so that every tap of every output pixel is one contiguous row of that buffer; the
 * ISA row's direct microkernel then runs output pixels along the vector lanes against a register tile of output
 * channels. The copy costs one pass over the input per band (plus the kernel's halo rows) instead of im2col's
 * kh·kw passes, and the weights are read broadcast from a packed [oc block][ic][tap][NO] panel. */
#include "isa_config.h"
#include <stdlib.h>
#include <string.h>

#ifndef FDIRECT_ENABLE
#define FDIRECT_ENABLE 1
#endif
/* Band buffer target (bytes): the band and one weight block stay in L2 while the kernel sweeps them. */
#ifndef FDIRECT_BAND_BYTES
#define FDIRECT_BAND_BYTES (512 * 1024)
#endif

/* Largest band buffer (one output row and its halo) the path accepts. */
#ifndef FDIRECT_MAX_BAND_BYTES
#define FDIRECT_MAX_BAND_BYTES (16 << 20)
#endif
/* Output planes up to this many pixels stay on f32.c's small-plane modes. */
#ifndef FDIRECT_MIN_HW
#define FDIRECT_MIN_HW 196
#endif
/* Up to this many input channels (stems: K = ic·kh·kw is too short for the GEMM's packing to pay) any oc. */
#ifndef FDIRECT_STEM_IC
#define FDIRECT_STEM_IC 4
#endif

struct qtop_fdirect {
    qtop_fconv_desc d;
    const qtop_f32_direct_kernel *k;
    qtop_f32_gather2_fn gather2;
    int oh, ow, K, taps, blocks, nvec;
    int s_h, s_w;              /* strides = phase counts per axis */
    int rows_max, cols_max;    /* largest tap offset in phase rows / columns */
    int wb;                    /* phase row width in floats */
    float *w;                  /* [blocks][ic][taps][NO] */
    int32_t *tapoff;
};

qtop_fdirect *qtop__fdirect_create(const qtop_fconv_desc *d, const float *weights, const qtop_isa_config *cfg) {
    if (!FDIRECT_ENABLE || !cfg || !cfg->f32_direct || d->groups != 1 || d->kh * d->kw < 2) return NULL;
    const qtop_f32_direct_kernel *k = cfg->f32_direct;
    /* large planes only (the small-plane GEMM modes of f32.c own the rest: 7×7 planes ran at 13-26 GMAC/s here
     * against 30-45 there) with a full vector per row; up to the row's oc limit, or any oc for a stem */
    int oh = qtop_fconv_out_h(d), ow = qtop_fconv_out_w(d);
    if ((int64_t)oh * ow <= FDIRECT_MIN_HW || ow < k->v) return NULL;
    if (d->oc > k->max_oc && d->ic > FDIRECT_STEM_IC) return NULL;
    qtop_fdirect *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->d = *d;
    c->k = k;
    c->gather2 = cfg->f32_gather2;
    c->oh = qtop_fconv_out_h(d);
    c->ow = qtop_fconv_out_w(d);
    c->taps = d->kh * d->kw;
    c->K = d->ic * c->taps;
    c->blocks = (d->oc + k->no - 1) / k->no;
    c->nvec = (c->ow + k->v - 1) / k->v;
    c->s_h = d->stride_h;
    c->s_w = d->stride_w;
    c->rows_max = (d->kh - 1) * d->dil_h / c->s_h;
    c->cols_max = (d->kw - 1) * d->dil_w / c->s_w;
    c->wb = c->nvec * k->v + c->cols_max;
    /* a one-row band must stay a modest per-thread scratch (tap offsets are int32; a failed scratch allocation in a
     * task would leave rows unwritten): very wide rows with many input channels keep the GEMM */
    if ((int64_t)sizeof(float) * d->ic * c->s_h * c->s_w * (1 + c->rows_max) * c->wb > FDIRECT_MAX_BAND_BYTES) {
        free(c);
        return NULL;
    }
    c->w = malloc(sizeof(float) * (size_t)c->blocks * c->K * k->no);
    c->tapoff = malloc(sizeof(int32_t) * (size_t)c->taps);
    if (!c->w || !c->tapoff) { qtop__fdirect_destroy(c); return NULL; }
    for (int b = 0; b < c->blocks; b++)
        for (int kk = 0; kk < c->K; kk++)
            for (int j = 0; j < k->no; j++) {
                int o = b * k->no + j;
                c->w[((int64_t)b * c->K + kk) * k->no + j] = o < d->oc ? weights[(int64_t)o * c->K + kk] : 0.0f;
            }
    return c;
}

void qtop__fdirect_destroy(qtop_fdirect *c) {
    if (!c) return;
    free(c->w); free(c->tapoff);
    free(c);
}

typedef struct {
    const qtop_fdirect *c;
    const float *img, *bias, *res;
    float *out;
    int band;          /* output rows per task */
    int hb;            /* phase rows in the band buffer */
    int64_t ic_stride; /* floats per input channel in the band buffer */
    const int32_t *tapoff;
} drun;

/* Phase (ry, rx) rows [0, rows) of the band starting at output row oy0, for every input channel: phase row r,
 * column x is padded input (r·s_h + ry + oy0·s_h, x·s_w + rx), zero outside the input. */
static void copy_band(const drun *r, int oy0, int rows, float *buf) {
    const qtop_fdirect *c = r->c;
    const qtop_fconv_desc *d = &c->d;
    for (int ic = 0; ic < d->ic; ic++) {
        const float *plane = r->img + (int64_t)ic * d->h * d->w;
        for (int ry = 0; ry < c->s_h; ry++)
            for (int rx = 0; rx < c->s_w; rx++) {
                float *ph = buf + ic * r->ic_stride + (int64_t)(ry * c->s_w + rx) * r->hb * c->wb;
                /* columns x with 0 <= x·s_w + rx - pad_l < w */
                int x0 = rx >= d->pad_l ? 0 : (d->pad_l - rx + c->s_w - 1) / c->s_w;
                int x1 = (d->w - 1 + d->pad_l - rx) < 0 ? 0 : (d->w - 1 + d->pad_l - rx) / c->s_w + 1;
                if (x1 > c->wb) x1 = c->wb;
                if (x0 > x1) x0 = x1;
                for (int rr = 0; rr < rows; rr++) {
                    float *o = ph + (int64_t)rr * c->wb;
                    int iy = (oy0 + rr) * c->s_h + ry - d->pad_t;
                    if (iy < 0 || iy >= d->h || x0 == x1) { memset(o, 0, sizeof(float) * c->wb); continue; }
                    const float *src = plane + (int64_t)iy * d->w + (int64_t)x0 * c->s_w + rx - d->pad_l;
                    memset(o, 0, sizeof(float) * x0);
                    if (c->s_w == 1) memcpy(o + x0, src, sizeof(float) * (x1 - x0));
                    else if (c->s_w == 2 && c->gather2) c->gather2(o + x0, src, x1 - x0);
                    else for (int x = x0; x < x1; x++) o[x] = src[(int64_t)(x - x0) * c->s_w];
                    memset(o + x1, 0, sizeof(float) * (c->wb - x1));
                }
            }
    }
}

static void band_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const drun *r = vctx;
    const qtop_fdirect *c = r->c;
    const qtop_f32_direct_kernel *k = c->k;
    int oy0 = (int)task * r->band, oy1 = oy0 + r->band < c->oh ? oy0 + r->band : c->oh;
    float *buf = qtop__tls_scratch(sizeof(float) * (size_t)(r->ic_stride * c->d.ic));
    if (!buf) return;
    copy_band(r, oy0, oy1 - oy0 + c->rows_max, buf);
    int64_t ohw = (int64_t)c->oh * c->ow;
    int step = k->np * k->v;
    qtop_f32_direct_args a;
    a.ic_stride = r->ic_stride;
    a.tapoff = r->tapoff;
    a.taps = c->taps;
    a.icg = c->d.ic;
    a.dst_cs = ohw;
    a.act = c->d.act;
    /* channel blocks innermost: the input segment (ic × taps rows of one vector tile) stays in L1 across the
     * blocks while the weights stream sequentially */
    for (int oy = oy0; oy < oy1; oy++)
        for (int x = 0; x < c->ow; x += step) {
            int n = c->ow - x;
            a.np = (n + k->v - 1) / k->v < k->np ? (n + k->v - 1) / k->v : k->np;
            a.nlast = n - (a.np - 1) * k->v < k->v ? n - (a.np - 1) * k->v : k->v;
            a.src = buf + (int64_t)(oy - oy0) * c->wb + x;
            for (int b = 0; b < c->blocks; b++) {
                int oc0 = b * k->no;
                a.no = c->d.oc - oc0 < k->no ? c->d.oc - oc0 : k->no;
                a.w = c->w + (int64_t)b * c->K * k->no;
                a.bias = r->bias + oc0;
                int64_t o = (int64_t)oc0 * ohw + (int64_t)oy * c->ow + x;
                a.dst = r->out + o;
                a.res = r->res ? r->res + o : NULL;
                k->fn(&a);
            }
        }
}

void qtop__fdirect_run(const qtop_fdirect *c, const float *src, float *dst, const float *bias, const float *res,
                       qtop_pool *pool) {
    const qtop_fconv_desc *d = &c->d;
    int threads = qtop__pool_thread_bound(pool);
    int64_t row_bytes = (int64_t)sizeof(float) * d->ic * c->s_h * c->s_w * c->wb;
    int band = (int)(FDIRECT_BAND_BYTES / (row_bytes > 0 ? row_bytes : 1)) - c->rows_max;
    if (band < 1) band = 1;
    /* enough bands for every thread to get a few (the pool hands them out dynamically) */
    if (threads > 1) {
        int want = (c->oh + 4 * threads - 1) / (4 * threads);
        if (want < band) band = want < 1 ? 1 : want;
    }
    if (band > c->oh) band = c->oh;
    drun r = { c, NULL, bias, NULL, NULL, band, band + c->rows_max, 0, NULL };
    r.ic_stride = (int64_t)c->s_h * c->s_w * r.hb * c->wb + 16;   /* +16: channels off a common cache set */
    int32_t off[64];
    int32_t *tapoff = c->taps <= 64 ? off : malloc(sizeof(int32_t) * (size_t)c->taps);
    if (!tapoff) return;
    for (int ky = 0; ky < d->kh; ky++)
        for (int kx = 0; kx < d->kw; kx++) {
            int py = ky * d->dil_h, px = kx * d->dil_w;
            int phase = (py % c->s_h) * c->s_w + px % c->s_w;
            tapoff[ky * d->kw + kx] = (int32_t)(((int64_t)phase * r.hb + py / c->s_h) * c->wb + px / c->s_w);
        }
    r.tapoff = tapoff;
    int64_t ohw = (int64_t)c->oh * c->ow, hw = (int64_t)d->h * d->w;
    for (int n = 0; n < d->n; n++) {
        r.img = src + (int64_t)n * d->ic * hw;
        r.out = dst + (int64_t)n * d->oc * ohw;
        r.res = res ? res + (int64_t)n * d->oc * ohw : NULL;
        qtop_parallel_for(pool, (c->oh + band - 1) / band, band_task, &r);
    }
    if (tapoff != off) free(tapoff);
}
