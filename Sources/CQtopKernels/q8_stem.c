/* Int8 convolutions with few input channels (the 3-channel stems: 3x3/s2 3->8 or 3->16, 7x7/s2 3->64): a direct
 * path without im2col. With K = kh*kw*cin tiny per tap, the GEMM path wastes its k-steps on padding and spends
 * its time building im2col rows; here the output pixels lie along the vector lanes instead. Each task takes a band
 * of output rows; every input row it needs is converted once into a padded row of channel words (one word = one
 * pixel's channels: 4 u8, s8 shifted by 128, for vpdpbusd; or 2 s16 planes for vpmaddwd), split into stride
 * phases so that the pixels one tap reads for consecutive output pixels are consecutive words. Pixels outside the
 * image are the zero word, so the kernel has no bounds checks. Results go through the ISA row's epilogue, so they
 * are the scalar reference's bits. */
#include "isa_config.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int64_t rup(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

const qtop_q8_stem_kernel *qtop__q8_stem_pick(const qtop_isa_config *cfg, const qtop_qconv_desc *d) {
    const qtop_q8_stem_kernel *k = cfg ? cfg->q8_stem : NULL;
    if (!k || d->groups != 1 || d->ic > Q8_STEM_MAXC) return NULL;
    /* 1×1 is a plain GEMM over few channels (int8 matmuls with k ≤ 4, the 1×1 inside q8_deconv.c, which reads
     * the GEMM's packing): the stem's padded rows buy nothing without a spatial window */
    if (d->kh * d->kw < 2) return NULL;
    if ((d->kh - 1) * d->dil_h + 1 > Q8_STEM_MAXSPAN || d->kw > Q8_STEM_MAXSPAN) return NULL;
    /* s16 words pad 3 channels to 4 per tap, the GEMM's K does not: with many taps and channels (resnet's 7×7
     * 3→64) the s16 GEMM measured a few % faster (7×7 3→24 and every 3×3 up to 3→64: the stem, by 15–40%) */
    return k;
}

/* Flat s16 pairs (see qtop_q8_stem_geom) when a kernel row's values are consecutive in the padded row and each
 * output pixel starts on a whole pair: 3 channels then cost 3 pair slots per 2 taps, not 4. */
static int flat_ok(const qtop_q8_stem_kernel *k, const qtop_qconv_desc *d) {
    return k->s16 && d->dil_w == 1 && (d->stride_w * d->ic) % 2 == 0;
}

static int flat_pairs(const qtop_qconv_desc *d) { return (d->kw * d->ic + 1) / 2; }

/* Padded-row geometry: Q words per phase (per-tap words) or per plane (flat). */
static int row_q(const qtop_qconv *c) {
    const qtop_qconv_desc *d = &c->d;
    int reach = c->stem_flat ? (flat_pairs(d) - 1) / (d->stride_w * d->ic / 2) : (d->kw - 1) * d->dil_w / d->stride_w;
    return (int)rup(c->ow, c->sk->lanes) + reach + 1;
}

static qtop_q8_stem_geom geom(const qtop_qconv *c) {
    const qtop_qconv_desc *d = &c->d;
    qtop_q8_stem_geom g = { d->stride_w, d->pad_l, d->w, d->ic, d->src_dt == QTOP_DT_S8, c->sk->s16, row_q(c),
                            c->stem_npl, c->stem_flat, c->stem_flat ? d->stride_w * d->ic / 2 : d->stride_w };
    return g;
}

static size_t row_bytes(const qtop_q8_stem_geom *g) {
    return (size_t)rup(((int64_t)(g->flat ? g->P : g->s * g->npl) * g->q + 16) * 4, 64);
}

int qtop__q8_stem_create(qtop_qconv *c) {
    const qtop_qconv_desc *d = &c->d;
    c->sk = qtop__q8_stem_pick(c->cfg, d);
    if (!c->sk) return 0;
    const int s16 = c->sk->s16, ic = d->ic;
    c->kind = Q8_KIND_STEM;
    c->stem_flat = flat_ok(c->sk, d);
    c->stem_npl = s16 && !c->stem_flat ? (ic + 1) / 2 : 1;
    c->stem_taps = c->stem_flat ? d->kh * flat_pairs(d) : c->taps;
    c->stem_ocp = (int)rup(d->oc, 8);
    const int npl = c->stem_npl, ocp = c->stem_ocp, taps = c->stem_taps, rowlen = d->kw * ic;
    c->wstem = calloc((size_t)ocp * taps * npl, sizeof(int32_t));
    for (int o = 0; o < d->oc; o++)
        for (int t = 0; t < taps; t++)
            for (int p = 0; p < npl; p++) {
                uint32_t word = 0;
                if (c->stem_flat) {
                    /* pair t % pairs of kernel row t / pairs: values m, m+1 of the row's (kx, channel) sequence */
                    int ky = t / flat_pairs(d), m = 2 * (t % flat_pairs(d));
                    const int8_t *w = c->wref + (size_t)o * c->K + (size_t)ky * rowlen;
                    for (int h = 0; h < 2 && m + h < rowlen; h++) word |= (uint32_t)(uint16_t)(int16_t)w[m + h] << (16 * h);
                } else {
                    const int8_t *w = c->wref + (size_t)o * c->K + (size_t)t * ic;
                    if (s16)
                        for (int h = 0; h < 2 && 2 * p + h < ic; h++) word |= (uint32_t)(uint16_t)(int16_t)w[2 * p + h] << (16 * h);
                    else
                        for (int q = 0; q < ic; q++) word |= (uint32_t)(uint8_t)w[q] << (8 * q);
                }
                c->wstem[qtop__q8_stem_widx(o, t, p, taps, npl, ocp, c->sk->cw)] = (int32_t)word;
            }
    if (!s16 && d->src_dt == QTOP_DT_S8) {
        /* s8 activations stored as x + 128 (the zero word is 0x80 bytes): subtract 128 · Σw per channel */
        c->comp = malloc(sizeof(int32_t) * d->oc);
        for (int o = 0; o < d->oc; o++) {
            int32_t s = 0;
            for (int k = 0; k < c->K; k++) s += c->wref[(size_t)o * c->K + k];
            c->comp[o] = -128 * s;
        }
    }
    return 1;
}

/* The plain C row builder (the contract the SIMD builders meet). */
void qtop__q8_stem_row_generic(const qtop_q8_stem_geom *g, const uint8_t *x, uint32_t *row, uint32_t *tmp) {
    (void)tmp;
    if (g->flat) {
        for (int r = 0; r < g->P; r++, row += g->q)
            for (int q = 0; q < g->q; q++) {
                int64_t e = 2 * ((int64_t)q * g->P + r);
                row[q] = (uint32_t)(uint16_t)qtop__q8_stem_flat_el(g, x, e) |
                         (uint32_t)(uint16_t)qtop__q8_stem_flat_el(g, x, e + 1) << 16;
            }
        return;
    }
    const uint32_t zero = qtop__q8_stem_zero(g);
    for (int p = 0; p < g->s; p++)
        for (int pl = 0; pl < g->npl; pl++, row += g->q)
            for (int q = 0; q < g->q; q++) {
                int ix = q * g->s + p - g->pad_l;
                row[q] = x && ix >= 0 && ix < g->w ? qtop__q8_stem_word(g, x + (int64_t)ix * g->ic, pl) : zero;
            }
}

typedef struct {
    qtop_qconv *c;
    const uint8_t *src;
    void *dst, *dst2;
    const void *res;
    int64_t nrows;   /* n · oh */
    int band;        /* output rows per task */
    size_t rowb;     /* bytes per padded row */
    size_t tmpb;     /* bytes of the row builder's scratch */
    int span;        /* padded rows kept: (kh-1)·dil_h + 1 */
    qtop_q8_stem_geom g;
} stem_run;

/* One task: output rows [task·band, +band). Padded rows live in `span` slots indexed by iy mod span, so the
 * rows one output row reads never collide and each input row is built once per task. */
static void stem_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    stem_run *r = vctx;
    qtop_qconv *c = r->c;
    const qtop_qconv_desc *d = &c->d;
    const qtop_q8_stem_kernel *k = c->sk;
    const int L = k->lanes, ocp = c->stem_ocp, span = r->span, s = d->stride_w, Q = r->g.q;
    const int64_t plane = (int64_t)Q * 4, phase = plane * c->stem_npl;
    const int pairs = flat_pairs(d);
    uint8_t *rows = qtop__tls_scratch(r->rowb * span + r->tmpb + (size_t)L * ocp * 4);
    uint32_t *tmp = (uint32_t *)(rows + r->rowb * span);
    int32_t *tile = (int32_t *)(rows + r->rowb * span + r->tmpb);
    int tag[Q8_STEM_MAXSPAN];
    const uint8_t *tap[Q8_STEM_MAXSPAN * Q8_STEM_MAXSPAN * 2];
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
            if (build) k->row(&r->g, iy >= 0 && iy < d->h ? img + (int64_t)iy * d->w * d->ic : NULL, (uint32_t *)rp, tmp);
            if (c->stem_flat)
                for (int j = 0; j < pairs; j++) tap[ky * pairs + j] = rp + (j % r->g.P) * plane + (int64_t)(j / r->g.P) * 4;
            else
                for (int kx = 0; kx < d->kw; kx++) {
                    int e = kx * d->dil_w;
                    tap[ky * d->kw + kx] = rp + (e % s) * phase + (int64_t)(e / s) * 4;
                }
        }
        int64_t pix = (int64_t)row * c->ow;
        for (int ox = 0; ox < c->ow; ox += L) {
            k->fn(tap, c->stem_taps, (int64_t)ox * 4, plane, c->stem_npl, c->wstem, ocp, tile);
            int mr = c->ow - ox < L ? c->ow - ox : L;
            c->cfg->q8_epi(c, pix + ox, mr, ocp, 0, d->oc, tile, r->dst, r->dst2, r->res);
        }
    }
}

void qtop__q8_stem_run(qtop_qconv *c, const uint8_t *src, void *dst, void *dst2, const void *res, qtop_pool *pool) {
    const qtop_qconv_desc *d = &c->d;
    int threads = qtop_pool_threads(pool);
    stem_run r = { c, src, dst, dst2, res, (int64_t)d->n * c->oh, 1, 0, 0, (d->kh - 1) * d->dil_h + 1, geom(c) };
    r.rowb = row_bytes(&r.g);
    r.tmpb = (size_t)rup(qtop__q8_stem_tmp_words(&r.g) * 4, 64);
    /* about four bands per thread: dynamic balance, while each band rebuilds only its first span rows */
    int64_t tasks = 4 * (int64_t)threads;
    if (tasks > r.nrows) tasks = r.nrows;
    r.band = (int)((r.nrows + tasks - 1) / tasks);
    qtop_parallel_for(pool, (r.nrows + r.band - 1) / r.band, stem_task, &r);
}
