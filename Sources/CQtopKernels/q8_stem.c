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
    if ((d->kh - 1) * d->dil_h + 1 > Q8_STEM_MAXSPAN || d->kw > Q8_STEM_MAXSPAN) return NULL;
    /* s16 words pad 3 channels to 4 per tap, the GEMM's K does not: with many taps and channels (resnet's 7×7
     * 3→64) the s16 GEMM measured a few % faster (7×7 3→24 and every 3×3 up to 3→64: the stem, by 15–40%) */
    if (k->s16 && d->kh * d->kw > 9 && d->oc > 24) return NULL;
    return k;
}

/* Padded-row geometry: Q words per phase per plane, stride_w phases. */
static int row_q(const qtop_qconv *c) {
    const qtop_qconv_desc *d = &c->d;
    return (int)rup(c->ow, c->sk->lanes) + (d->kw - 1) * d->dil_w / d->stride_w + 1;
}

static size_t row_bytes(const qtop_qconv *c) {
    return (size_t)rup((int64_t)c->d.stride_w * c->stem_npl * row_q(c) * 4, 64);
}

int qtop__q8_stem_create(qtop_qconv *c) {
    const qtop_qconv_desc *d = &c->d;
    c->sk = qtop__q8_stem_pick(c->cfg, d);
    if (!c->sk) return 0;
    const int s16 = c->sk->s16, taps = c->taps, ic = d->ic;
    c->kind = Q8_KIND_STEM;
    c->stem_npl = s16 ? (ic + 1) / 2 : 1;
    c->stem_ocp = (int)rup(d->oc, 8);
    const int npl = c->stem_npl, ocp = c->stem_ocp;
    c->wstem = calloc((size_t)ocp * taps * npl, sizeof(int32_t));
    for (int o = 0; o < d->oc; o++)
        for (int t = 0; t < taps; t++) {
            const int8_t *w = c->wref + (size_t)o * c->K + (size_t)t * ic;
            for (int p = 0; p < npl; p++) {
                uint32_t word = 0;
                if (s16)
                    for (int h = 0; h < 2 && 2 * p + h < ic; h++) word |= (uint32_t)(uint16_t)(int16_t)w[2 * p + h] << (16 * h);
                else
                    for (int q = 0; q < ic; q++) word |= (uint32_t)(uint8_t)w[q] << (8 * q);
                c->wstem[qtop__q8_stem_widx(o, t, p, taps, npl, ocp, c->sk->cw)] = (int32_t)word;
            }
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

static qtop_q8_stem_geom geom(const qtop_qconv *c) {
    const qtop_qconv_desc *d = &c->d;
    qtop_q8_stem_geom g = { d->stride_w, d->pad_l, d->w, d->ic, d->src_dt == QTOP_DT_S8, c->sk->s16, row_q(c),
                            c->stem_npl };
    return g;
}

/* The plain C row builder (the contract the SIMD builders meet). */
void qtop__q8_stem_row_generic(const qtop_q8_stem_geom *g, const uint8_t *x, uint32_t *row) {
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
    const int L = k->lanes, ocp = c->stem_ocp, span = r->span, s = d->stride_w, Q = row_q(c);
    const int64_t plane = (int64_t)Q * 4, phase = plane * c->stem_npl;
    uint8_t *rows = qtop__tls_scratch(r->rowb * span + (size_t)L * ocp * 4);
    int32_t *tile = (int32_t *)(rows + r->rowb * span);
    int tag[Q8_STEM_MAXSPAN];
    const uint8_t *tap[Q8_STEM_MAXSPAN * Q8_STEM_MAXSPAN];
    int64_t row0 = task * r->band, row1 = row0 + r->band < r->nrows ? row0 + r->band : r->nrows;
    int cur_n = -1;
    for (int64_t row = row0; row < row1; row++) {
        int n = (int)(row / c->oh), oy = (int)(row % c->oh);
        const uint8_t *img = r->src + (int64_t)n * d->h * d->w * d->ic;
        if (n != cur_n) { for (int i = 0; i < span; i++) tag[i] = INT_MIN; cur_n = n; }
        for (int ky = 0; ky < d->kh; ky++) {
            int iy = oy * d->stride_h - d->pad_t + ky * d->dil_h;
            int slot = ((iy % span) + span) % span;
            uint8_t *rp = rows + r->rowb * slot;
            if (tag[slot] != iy) {
                k->row(&r->g, iy >= 0 && iy < d->h ? img + (int64_t)iy * d->w * d->ic : NULL, (uint32_t *)rp);
                tag[slot] = iy;
            }
            for (int kx = 0; kx < d->kw; kx++) {
                int e = kx * d->dil_w;
                tap[ky * d->kw + kx] = rp + (e % s) * phase + (int64_t)(e / s) * 4;
            }
        }
        int64_t pix = (int64_t)row * c->ow;
        for (int ox = 0; ox < c->ow; ox += L) {
            k->fn(tap, c->taps, (int64_t)ox * 4, plane, c->stem_npl, c->wstem, ocp, tile);
            int mr = c->ow - ox < L ? c->ow - ox : L;
            c->cfg->q8_epi(c, pix + ox, mr, ocp, 0, d->oc, tile, r->dst, r->dst2, r->res);
        }
    }
}

void qtop__q8_stem_run(qtop_qconv *c, const uint8_t *src, void *dst, void *dst2, const void *res, qtop_pool *pool) {
    const qtop_qconv_desc *d = &c->d;
    int threads = qtop_pool_threads(pool);
    stem_run r = { c, src, dst, dst2, res, (int64_t)d->n * c->oh, 1, row_bytes(c), (d->kh - 1) * d->dil_h + 1, geom(c) };
    /* about four bands per thread: dynamic balance, while each band rebuilds only its first span rows */
    int64_t tasks = 4 * (int64_t)threads;
    if (tasks > r.nrows) tasks = r.nrows;
    r.band = (int)((r.nrows + tasks - 1) / tasks);
    qtop_parallel_for(pool, (r.nrows + r.band - 1) / r.band, stem_task, &r);
}
