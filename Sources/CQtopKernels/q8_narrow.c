/* Int8 k×k convolutions with few output channels on large planes (DBNet's 3×3 96→24 heads at 160², 80²): a direct
 * path without im2col whose register tile is exactly the output channels. The GEMM path tiles channels in 16- or
 * 64-wide blocks, so 24 channels fill 75% (AVX2) or 37.5% (AVX-512) of its lanes, and it copies K = kh·kw·ic bytes
 * per output pixel into im2col rows. Here each task takes a band of output rows; every input row it needs is
 * converted once into a padded row of channel words (2 s16 channels for vpmaddwd, or 4 u8 channels for vpdpbusd,
 * s8 activations stored +128 with a per-channel correction), so a tap of consecutive output pixels reads words a
 * fixed step apart and pixels outside the image read the zero word: no bounds checks in the kernel. The microkernel
 * keeps mr pixels × 8·nv channels (nv = ⌈oc/8⌉ ymm vectors) in registers over a group of taps whose weights fit L1
 * (the int32 sums wait in the output row's tile between groups), and one epilogue call per output row (the ISA
 * row's own) requantizes it, so results are the scalar reference's bits. */
#include "isa_config.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define NARROW_MAXTAPS 64   /* kh·kw the tap table holds */
#define NARROW_MAXSPAN 16   /* input rows one output row reads ((kh-1)·dil_h + 1) */
#define NARROW_WBYTES 16384 /* weight bytes of one pass over an output row (half of a 32 KB L1) */

static int64_t rup(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

static int out_w(const qtop_qconv_desc *d) {
    int span = d->w + d->pad_l + d->pad_r - (d->dil_w * (d->kw - 1) + 1);
    return span < 0 || d->stride_w <= 0 ? 0 : span / d->stride_w + 1;
}

/* Served where the ISA row measured it faster than its GEMM path (bench/kernels/q8_narrow.sh): output channels
 * that leave 16-channel GEMM blocks part idle, up to the kernel's max_oc (beyond it the tile gets too few pixels);
 * whole blocks (16) only with few input channels on the rows that say so (there the GEMM's im2col dominates); and
 * output rows the pixel tiles cover with at most a quarter of their pixels past the row's end. */
const qtop_q8_narrow_kernel *qtop__q8_narrow_pick(const qtop_isa_config *cfg, const qtop_qconv_desc *d) {
    const qtop_q8_narrow_kernel *k = cfg ? cfg->q8_narrow : NULL;
    if (!k || d->groups != 1 || d->oc > k->max_oc || d->oc > 32 || d->ic < k->min_ic) return NULL;
    if (d->oc % 16 == 0 && d->ic > k->full_max_ic) return NULL;
    /* 1×1 stays a GEMM (no window to share; q8_deconv.c's inner 1×1 reads the GEMM's packing) */
    if (d->kh * d->kw < 2 || d->kh * d->kw > NARROW_MAXTAPS) return NULL;
    if ((d->kh - 1) * d->dil_h + 1 > NARROW_MAXSPAN) return NULL;
    int ow = out_w(d), mr = k->mr[(d->oc + 7) / 8 - 1];
    if (ow <= 0 || (rup(ow, mr) - ow) * 4 > rup(ow, mr)) return NULL;
    return k;
}

/* Words per pixel and bytes per padded-row pixel. */
static int words(const qtop_q8_narrow_kernel *k, int ic) { return k->s16 ? (ic + 1) / 2 : (ic + 3) / 4; }

int qtop__q8_narrow_create(qtop_qconv *c) {
    const qtop_qconv_desc *d = &c->d;
    c->nk = qtop__q8_narrow_pick(c->cfg, d);
    if (!c->nk) return 0;
    const int s16 = c->nk->s16, ic = d->ic, nq = words(c->nk, ic), ocp = (int)rup(d->oc, 8), taps = c->taps;
    c->wnarrow = calloc((size_t)taps * nq * ocp, sizeof(int32_t));
    if (!c->wnarrow) { c->nk = NULL; return 0; }
    c->kind = Q8_KIND_NARROW;
    c->nr_nq = nq;
    c->nr_ocp = ocp;
    for (int o = 0; o < d->oc; o++)
        for (int t = 0; t < taps; t++) {
            const int8_t *w = c->wref + (size_t)o * c->K + (size_t)t * ic;
            for (int q = 0; q < nq; q++) {
                uint32_t word = 0;
                if (s16)
                    for (int h = 0; h < 2 && 2 * q + h < ic; h++) word |= (uint32_t)(uint16_t)(int16_t)w[2 * q + h] << (16 * h);
                else
                    for (int h = 0; h < 4 && 4 * q + h < ic; h++) word |= (uint32_t)(uint8_t)w[4 * q + h] << (8 * h);
                c->wnarrow[((size_t)t * nq + q) * ocp + o] = (int32_t)word;
            }
        }
    if (!s16 && d->src_dt == QTOP_DT_S8) {
        /* s8 activations stored as x + 128 (outside the image: 0x80, i.e. 0): subtract 128 · Σw per channel */
        c->comp = malloc(sizeof(int32_t) * d->oc);
        if (!c->comp) { free(c->wnarrow); c->wnarrow = NULL; c->nk = NULL; c->kind = Q8_KIND_GEMM; return 0; }
        for (int o = 0; o < d->oc; o++) {
            int32_t s = 0;
            for (int k = 0; k < c->K; k++) s += c->wref[(size_t)o * c->K + k];
            c->comp[o] = -128 * s;
        }
    }
    return 1;
}

typedef struct {
    qtop_qconv *c;
    const uint8_t *src;
    void *dst, *dst2;
    const void *res;
    int64_t nrows;   /* n · oh */
    int band;        /* output rows per task */
    int mr;          /* the kernel's pixels per call */
    int lp;          /* pixels per padded row (pad_l + image + right pad and the last tile's overrun) */
    int64_t pxb;     /* bytes per padded-row pixel: nq words */
    size_t rowb;     /* bytes per padded row */
    int span;        /* padded rows kept: (kh-1)·dil_h + 1 */
    int owp;         /* output pixels computed per row: ow rounded up to mr */
    int tgroup;      /* taps per pass over an output row */
} narrow_run;

/* Input row x (NULL outside the image) → padded row: pixel p holds image column p - pad_l (the zero word outside
 * it): s16 pairs sign- or zero-extended, or u8 bytes (s8 xor 0x80); channels past ic are 0 (their weights are 0). */
static void build_row(const narrow_run *r, const uint8_t *x, uint8_t *row) {
    const qtop_qconv *c = r->c;
    const qtop_qconv_desc *d = &c->d;
    const int s16 = c->nk->s16, s8 = d->src_dt == QTOP_DT_S8, ic = d->ic, W = d->w;
    const int zero = !s16 && s8 ? 0x80 : 0;
    const int64_t pxb = r->pxb;
    if (!x) { memset(row, zero, (size_t)r->lp * pxb); return; }
    memset(row, zero, (size_t)d->pad_l * pxb);
    int64_t tail = (int64_t)(r->lp - d->pad_l - W) * pxb;
    if (tail > 0) memset(row + (int64_t)(d->pad_l + W) * pxb, zero, (size_t)tail);
    uint8_t *o = row + (int64_t)d->pad_l * pxb;
    if (s16) {
        const qtop_q8_widen_fn widen = c->cfg->q8_widen;
        if ((int64_t)ic * 2 == pxb) {   /* even ic: the widened image row is the padded row's middle */
            int64_t n = (int64_t)W * ic;
            if (widen && n <= INT_MAX) widen((int16_t *)o, x, (int)n, s8);
            else for (int64_t e = 0; e < n; e++) ((int16_t *)o)[e] = s8 ? (int8_t)x[e] : x[e];
            return;
        }
        for (int px = 0; px < W; px++, x += ic, o += pxb) {
            int16_t *p = (int16_t *)o;
            for (int ch = 0; ch < ic; ch++) p[ch] = s8 ? (int8_t)x[ch] : x[ch];
            p[ic] = 0;   /* odd ic: the last word's high half */
        }
        return;
    }
    if ((int64_t)ic == pxb) {
        int64_t n = (int64_t)W * ic;
        if (s8) qtop__q8_flip_sign(o, x, n);
        else memcpy(o, x, (size_t)n);
        return;
    }
    for (int px = 0; px < W; px++, x += ic, o += pxb) {
        for (int ch = 0; ch < ic; ch++) o[ch] = s8 ? x[ch] ^ 0x80 : x[ch];
        memset(o + ic, 0, (size_t)(pxb - ic));
    }
}

/* One task: output rows [task·band, +band). Padded rows live in `span` slots indexed by iy mod span, so the rows
 * one output row reads never collide and each input row is built once per task. */
static void narrow_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    narrow_run *r = vctx;
    qtop_qconv *c = r->c;
    const qtop_qconv_desc *d = &c->d;
    const int span = r->span, mr = r->mr, ocp = c->nr_ocp, nv = ocp / 8;
    const qtop_q8_narrow_fn fn = c->nk->fn[nv - 1];
    const int64_t pxb = r->pxb, pstep = pxb * d->stride_w;
    uint8_t *rows = qtop__tls_scratch(r->rowb * span + (size_t)r->owp * ocp * 4);
    int32_t *acc = (int32_t *)(rows + r->rowb * span);
    int tag[NARROW_MAXSPAN];
    const uint8_t *tap[NARROW_MAXTAPS];
    int64_t row0 = task * r->band, row1 = row0 + r->band < r->nrows ? row0 + r->band : r->nrows;
    int cur_n = -1;
    for (int64_t row = row0; row < row1; row++) {
        int n = (int)(row / c->oh), oy = (int)(row % c->oh);
        const uint8_t *img = r->src + (int64_t)n * d->h * d->w * d->ic;
        if (n != cur_n) { for (int i = 0; i < span; i++) tag[i] = INT_MIN; cur_n = n; }
        for (int ky = 0; ky < d->kh; ky++) {
            int iy = oy * d->stride_h - d->pad_t + ky * d->dil_h;
            int build;
            uint8_t *rp = qtop__q8_ring_slot(rows, r->rowb, tag, span, iy, &build);
            if (build) build_row(r, iy >= 0 && iy < d->h ? img + (int64_t)iy * d->w * d->ic : NULL, rp);
            for (int kx = 0; kx < d->kw; kx++) tap[ky * d->kw + kx] = rp + (int64_t)kx * d->dil_w * pxb;
        }
        /* a group of taps at a time across the whole output row: its weights (≤ NARROW_WBYTES) stay in L1 while
         * the row's pixel tiles stream past, instead of every tap's weights per tile from L2 */
        for (int t0 = 0; t0 < c->taps; t0 += r->tgroup) {
            const int nt = c->taps - t0 < r->tgroup ? c->taps - t0 : r->tgroup;
            const int32_t *w = c->wnarrow + (size_t)t0 * c->nr_nq * ocp;
            for (int ox = 0; ox < r->owp; ox += mr)
                fn(tap + t0, nt, ox * pstep, pstep, c->nr_nq, w, acc + (int64_t)ox * ocp, t0 > 0);
        }
        c->cfg->q8_epi(c, row * c->ow, c->ow, ocp, 0, d->oc, acc, r->dst, r->dst2, r->res);
    }
}

void qtop__q8_narrow_run(qtop_qconv *c, const uint8_t *src, void *dst, void *dst2, const void *res, qtop_pool *pool) {
    const qtop_qconv_desc *d = &c->d;
    int threads = qtop_pool_threads(pool);
    narrow_run r = { c, src, dst, dst2, res, (int64_t)d->n * c->oh, 1, 0, 0, 0, 0, (d->kh - 1) * d->dil_h + 1, 0, 1 };
    r.mr = c->nk->mr[c->nr_ocp / 8 - 1];
    r.owp = (int)rup(c->ow, r.mr);
    r.pxb = (int64_t)c->nr_nq * 4;
    /* the last tile's pixels past ow read up to (owp-1)·stride + (kw-1)·dil_w: keep them inside the row */
    int64_t need = (int64_t)(r.owp - 1) * d->stride_w + (int64_t)(d->kw - 1) * d->dil_w + 1;
    int64_t img = (int64_t)d->pad_l + d->w;
    r.lp = (int)(need > img ? need : img);
    r.rowb = (size_t)rup((int64_t)r.lp * r.pxb, 64);
    int64_t wtap = (int64_t)c->nr_nq * c->nr_ocp * 4;
    r.tgroup = wtap >= NARROW_WBYTES ? 1 : (int)(NARROW_WBYTES / wtap < c->taps ? NARROW_WBYTES / wtap : c->taps);
    /* about four bands per thread: dynamic balance, while each band rebuilds only its first span rows */
    int64_t tasks = 4 * (int64_t)threads;
    if (tasks > r.nrows) tasks = r.nrows;
    r.band = (int)((r.nrows + tasks - 1) / tasks);
    qtop_parallel_for(pool, (r.nrows + r.band - 1) / r.band, narrow_task, &r);
}
