/* Int8 transposed convolution (lower-int8's qconv2d_transpose): u8/s8 NHWC input, s8 filter [ic][oc/g][kh][kw],
 * output u8/s8 NHWC or f32 NCHW, the qconv epilogue of docs/int8-semantics.md (steps 1–6, no residual).
 *
 * Every input pixel contributes x · W[ic][o][ky][kx] to output (iy·sh - pad_t + ky·dh, ix·sw - pad_l + kx·dw), so
 * per group the products of one input pixel are one row of a 1×1 convolution with cols = kh·kw·ocg output columns
 * ordered (ky, kx, o). That 1×1 convolution is an ordinary qtop_qconv (`gemm`): its weight packing, the ISA row's
 * int8 GEMM microkernel, its s8 correction and, in exact-cover mode, its fused epilogue. Two modes:
 * - exact cover (kernel == stride, dilation 1, no padding, output exactly in·stride: DBNet's 2×2/2): every output
 *   element receives exactly one product sum, so the 1×1 conv's epilogue (per-column scale / bias / activation /
 *   requantization) gives the final values in a tile, which a pixel-shuffle scatter stores into the output (few
 *   columns: the tile's int32 sums first, then one wide epilogue over them, see `repl`);
 * - general (overlapping taps, gaps, padding, output_padding / output_size, dilation, any groups): a task owns a
 *   block of output rows of one image and accumulates the raw int32 products of every input row whose taps reach it
 *   (rows at a block edge are computed by both neighbours), then one epilogue (`epi`, a qtop_qconv used only for
 *   its per-channel epilogue over [OC]) runs over the block.
 * Integer sums are exact (wrapping int32 addition is associative), so both modes, every ISA row and every thread
 * count give the scalar oracle's bits. */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#include "isa_config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHY(...) do { if (why && why_len) snprintf(why, why_len, __VA_ARGS__); } while (0)

#define TILE_BYTES (64 * 1024)     /* exact mode: the per-task output tile */
#define BLOCK_BYTES (256 * 1024)   /* general mode: a task's int32 output block */
#define REPL_MIN 64                /* exact mode: fewer columns than this take the wide (replicated) epilogue */

struct qtop_qdeconv {
    qtop_qdeconv_desc d;
    const qtop_isa_config *cfg;
    qtop_qconv *gemm;   /* 1×1, ic → groups·cols columns (g, ky, kx, o) */
    qtop_qconv *epi;    /* general mode: epilogue over [oc] channels (NULL in exact mode) */
    qtop_qconv *repl;   /* exact mode with few columns: the epilogue over `vcols` virtual channels, column j taking
                         * column j % (groups·cols)'s scale and bias, so a run of pixels is one wide epilogue row */
    int vcols;
    int icg, ocg, kk, cols, exact;
};

static int64_t mul_ok(int64_t a, int64_t b) { return a > 0 && b > 0 && a <= INT64_MAX / b ? a * b : -1; }

static int is_exact(const qtop_qdeconv_desc *d) {
    return d->kh == d->stride_h && d->kw == d->stride_w && d->dil_h == 1 && d->dil_w == 1 && d->pad_t == 0 &&
           d->pad_l == 0 && d->oh == d->h * d->stride_h && d->ow == d->w * d->stride_w;
}

/* The 1×1 conv whose output columns are the deconv's (ky, kx, o) products, per group. */
static qtop_qconv_desc gemm_desc(const qtop_qdeconv_desc *d, int exact) {
    qtop_qconv_desc c;
    memset(&c, 0, sizeof c);
    c.n = 1; c.h = 1; c.w = 1; c.ic = d->ic;   /* never run: only its packing, microkernel and epilogue */
    c.oc = d->groups * (d->oc / d->groups) * d->kh * d->kw; c.kh = 1; c.kw = 1;
    c.stride_h = c.stride_w = 1; c.dil_h = c.dil_w = 1; c.groups = d->groups;
    c.src_dt = d->src_dt; c.res_dt = QTOP_DT_NONE; c.in_range = d->in_range;
    /* exact mode writes final values; general mode reads only the packing (the epilogue fields stay neutral) */
    c.dst_dt = exact ? d->dst_dt : QTOP_DT_F32;
    c.act = exact ? d->act : QTOP_ACT_NONE;
    c.out_range = d->out_range; c.act_alpha = d->act_alpha; c.act_beta = d->act_beta;
    return c;
}

/* The epilogue-only conv of general mode: its scale / bias / activation / requantization over [oc]. */
static qtop_qconv_desc epi_desc(const qtop_qdeconv_desc *d) {
    qtop_qconv_desc c;
    memset(&c, 0, sizeof c);
    c.n = 1; c.h = 1; c.w = 1; c.ic = 1; c.oc = d->oc; c.kh = 1; c.kw = 1;
    c.stride_h = c.stride_w = 1; c.dil_h = c.dil_w = 1; c.groups = 1;
    c.src_dt = QTOP_DT_U8;   /* no s8 correction: the int32 sums arrive corrected */
    c.dst_dt = d->dst_dt; c.res_dt = QTOP_DT_NONE; c.act = d->act;
    c.in_range = d->in_range; c.out_range = d->out_range; c.act_alpha = d->act_alpha; c.act_beta = d->act_beta;
    return c;
}

int qtop_qdeconv_query(const qtop_qdeconv_desc *d, int isa, int cap, char *why, size_t why_len) {
    if (why && why_len) why[0] = 0;
    if (d->n <= 0 || d->ic <= 0 || d->h <= 0 || d->w <= 0 || d->oc <= 0 || d->kh <= 0 || d->kw <= 0 || d->oh <= 0 ||
        d->ow <= 0 || d->stride_h <= 0 || d->stride_w <= 0 || d->dil_h <= 0 || d->dil_w <= 0 || d->groups <= 0 ||
        d->ic % d->groups || d->oc % d->groups) {
        WHY("invalid conv2d_transpose shape"); return 0;
    }
    if (d->src_dt != QTOP_DT_U8 && d->src_dt != QTOP_DT_S8) { WHY("input must be u8 or s8"); return 0; }
    if (d->dst_dt != QTOP_DT_U8 && d->dst_dt != QTOP_DT_S8 && d->dst_dt != QTOP_DT_F32) { WHY("bad output dtype"); return 0; }
    if (d->act < QTOP_ACT_NONE || d->act > QTOP_ACT_MAX_INT8) { WHY("bad activation"); return 0; }
    if (!(d->in_range > 0) || (d->dst_dt != QTOP_DT_F32 && !(d->out_range > 0))) { WHY("quantization ranges must be > 0"); return 0; }
    int64_t cols = mul_ok(mul_ok(d->oc / d->groups, d->kh), d->kw);
    int64_t xs = mul_ok(mul_ok(mul_ok(d->n, d->ic), d->h), d->w);
    int64_t ys = mul_ok(mul_ok(mul_ok(d->n, d->oc), d->oh), d->ow);
    if (cols < 0 || cols * d->groups > (1 << 20) || xs < 0 || ys < 0 || (int64_t)d->oh * d->ow > INT32_MAX ||
        (int64_t)d->h * d->w > INT32_MAX || mul_ok(d->ow, d->oc) < 0 || mul_ok(d->ow, d->oc) > (1 << 26) ||
        (int64_t)(d->h - 1) * d->stride_h + (int64_t)(d->kh - 1) * d->dil_h > INT32_MAX / 2 ||
        (int64_t)(d->w - 1) * d->stride_w + (int64_t)(d->kw - 1) * d->dil_w > INT32_MAX / 2 ||
        d->pad_t < -(INT32_MAX / 4) || d->pad_t > INT32_MAX / 4 || d->pad_l < -(INT32_MAX / 4) || d->pad_l > INT32_MAX / 4) {
        WHY("conv2d_transpose extents too large"); return 0;
    }
    if (d->ic / d->groups > 65000) { WHY("reduction length %d too large for int32 accumulation", d->ic / d->groups); return 0; }
    if (isa < 0 || isa >= QTOP_ISA_COUNT) { WHY("unknown isa"); return 0; }
    qtop_qconv_desc g = gemm_desc(d, is_exact(d));
    return qtop_qconv_query(&g, isa, cap, why, why_len);
}

const char *qtop_qdeconv_mode(const qtop_qdeconv *k) { return k->exact ? "exact-cover" : "scatter-accumulate"; }

qtop_qdeconv *qtop_qdeconv_create(const qtop_qdeconv_desc *d, const int8_t *weights, const float *weight_ranges,
                                  const float *bias, int isa) {
    if (!qtop_qdeconv_query(d, isa, isa, NULL, 0)) return NULL;
    qtop_qdeconv *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    k->d = *d;
    k->cfg = qtop__isa_config(isa);
    k->icg = d->ic / d->groups;
    k->ocg = d->oc / d->groups;
    k->kk = d->kh * d->kw;
    k->cols = k->ocg * k->kk;
    k->exact = is_exact(d);
    int64_t ncol = (int64_t)d->groups * k->cols;
    /* 1×1 weights [g·cols + (ky·kw + kx)·ocg + o][icg] = W[g·icg + ic][o][ky][kx]; per-column ranges and bias */
    int8_t *w1 = malloc((size_t)(ncol * k->icg));
    float *rg = malloc(sizeof(float) * (size_t)ncol), *bs = malloc(sizeof(float) * (size_t)ncol);
    if (!w1 || !rg || !bs) { free(w1); free(rg); free(bs); free(k); return NULL; }
    for (int g = 0; g < d->groups; g++)
        for (int t = 0; t < k->kk; t++)
            for (int o = 0; o < k->ocg; o++) {
                int64_t col = (int64_t)g * k->cols + (int64_t)t * k->ocg + o;
                rg[col] = weight_ranges[g * k->ocg + o];
                bs[col] = bias ? bias[g * k->ocg + o] : 0.0f;
                for (int ic = 0; ic < k->icg; ic++)
                    w1[col * k->icg + ic] = weights[(((int64_t)g * k->icg + ic) * k->ocg + o) * k->kk + t];
            }
    qtop_qconv_desc gd = gemm_desc(d, k->exact);
    k->gemm = qtop_qconv_create(&gd, w1, rg, bs, isa);
    if (k->gemm && k->exact && ncol < REPL_MIN) {
        /* DBNet's last deconv has 4 columns: per-tile epilogue calls of 4 channels would run its masked / scalar
         * tail; the int32 sums of a pixel run are contiguous, so one epilogue over vcols ≥ REPL_MIN channels does it */
        int reps = (int)((REPL_MIN + ncol - 1) / ncol);
        k->vcols = (int)ncol * reps;
        float *vr = malloc(sizeof(float) * (size_t)k->vcols), *vb = malloc(sizeof(float) * (size_t)k->vcols);
        int8_t *zero = calloc((size_t)k->vcols, 1);
        if (vr && vb && zero) {
            for (int j = 0; j < k->vcols; j++) { vr[j] = rg[j % ncol]; vb[j] = bs[j % ncol]; }
            qtop_qconv_desc ed = epi_desc(d);
            ed.oc = k->vcols;
            k->repl = qtop_qconv_create(&ed, zero, vr, vb, isa);
        }
        free(vr); free(vb); free(zero);
        if (!k->repl) { qtop_qconv_destroy(k->gemm); k->gemm = NULL; }
    }
    free(w1); free(rg); free(bs);
    if (k->gemm && !k->exact) {
        qtop_qconv_desc ed = epi_desc(d);
        int8_t *zero = calloc((size_t)d->oc, 1);
        if (zero) k->epi = qtop_qconv_create(&ed, zero, weight_ranges, bias, isa);
        free(zero);
    }
    if (!k->gemm || (!k->exact && !k->epi)) { qtop_qdeconv_destroy(k); return NULL; }
    return k;
}

void qtop_qdeconv_destroy(qtop_qdeconv *k) {
    if (!k) return;
    qtop_qconv_destroy(k->gemm);
    qtop_qconv_destroy(k->epi);
    qtop_qconv_destroy(k->repl);
    free(k);
}

static inline int32_t ld_src(const uint8_t *p, int s8) { return s8 ? (int32_t)(int8_t)*p : (int32_t)*p; }

/* Scratch for the A rows of one tile: [mc][Kp] bytes or s16. */
static size_t abuf_bytes(const qtop_qconv *c, int mc) { return (size_t)mc * (size_t)(c->Kp > c->K ? c->Kp : c->K) * 2 + 64; }

typedef struct {
    const qtop_qdeconv *k;
    const uint8_t *src;
    void *dst;
    int64_t M;        /* exact: input pixels */
    int mb;           /* exact: pixels per task; general: input columns per GEMM tile */
    int rows;         /* general: output rows per task */
    int blocks;       /* general: row blocks per image */
} qdrun;

/* The products of pixels p0 .. p0+mc of group g for 16-column blocks [b0, b1) of the group, one tile of up to
 * MR rows × 64 columns at a time. Exact mode (T != NULL): the gemm conv's epilogue writes the final values to
 * T[r][g·cols + col] (row stride groups·cols); general mode: acc[r·ldacc + col] = the exact int32 sum. */
static void tile_products(const qtop_qdeconv *k, const uint8_t *src, int64_t p0, int mc, int g, int b0, int b1,
                          void *abuf, void *T, int32_t *acc, int64_t ldacc) {
    const qtop_qconv *c = k->gemm;
    const qtop_qdeconv_desc *d = &k->d;
    const int s8 = d->src_dt == QTOP_DT_S8, icg = k->icg, ic = d->ic;
    const qtop_q8_gemm_kernel *gk = c->kind == Q8_KIND_GEMM ? c->gk : NULL;
    int32_t tile[Q8_MR * Q8_EPI_BLOCKS * 16];
    const void *A = NULL;
    int64_t lda = 0;
    int xor_src = 0;
    qtop_q8_gemm_fn ukr = gk ? gk->fn : NULL;
    if (gk) {
        if (c->direct) {
            A = src + p0 * ic;
            lda = ic;
            xor_src = c->xor_direct;
        } else if (c->a_s16) {
            int16_t *b = abuf;
            for (int r = 0; r < mc; r++) {
                const uint8_t *x = src + (p0 + r) * ic + (int64_t)g * icg;
                int16_t *o = b + (int64_t)r * c->Kp;
                if (c->cfg->q8_widen) c->cfg->q8_widen(o, x, icg, s8);
                else for (int i = 0; i < icg; i++) o[i] = (int16_t)ld_src(x + i, s8);
                for (int i = icg; i < c->Kp; i++) o[i] = 0;
            }
            A = b;
            lda = c->Kp;
        } else {
            uint8_t *b = abuf;
            for (int r = 0; r < mc; r++) {
                const uint8_t *x = src + (p0 + r) * ic + (int64_t)g * icg;
                uint8_t *o = b + (int64_t)r * c->Kp;
                if (c->shift_im2col) for (int i = 0; i < icg; i++) o[i] = x[i] ^ 0x80;
                else memcpy(o, x, (size_t)icg);
                memset(o + icg, 0, (size_t)(c->Kp - icg));
            }
            A = b;
            lda = c->Kp;
        }
        if (gk->over127 && gk->over127((const uint8_t *)A, lda, mc, c->K)) ukr = qtop__q8_gemm_u8_ref;
    }
    const int MR = gk ? gk->mr : Q8_MR, nbmax = gk ? gk->nbmax : Q8_EPI_BLOCKS;
    const size_t wesz = gk && gk->kstep == 4 ? 1 : 2;
    const int ksteps = gk ? c->Kp / gk->kstep : 0;
    for (int i = 0; i < mc; i += MR) {
        int mr = mc - i < MR ? mc - i : MR;
        for (int bg = b0; bg < b1; bg += Q8_EPI_BLOCKS) {
            int nbg = b1 - bg < Q8_EPI_BLOCKS ? b1 - bg : Q8_EPI_BLOCKS;
            int ch0 = bg * 16;
            int cnt = k->cols - ch0 < nbg * 16 ? k->cols - ch0 : nbg * 16;
            if (gk) {
                const char *Ai = (const char *)A + (int64_t)i * lda * (int64_t)wesz;
                for (int s = 0; s < nbg; s += nbmax) {
                    int nb = nbg - s < nbmax ? nbg - s : nbmax;
                    const char *W = (const char *)c->wpack + (g * c->wgroup_elems + (size_t)(bg + s) * c->wblock_elems) * wesz;
                    ukr(Ai, lda, mr, W, (int64_t)c->wblock_elems, nb, ksteps, xor_src, tile + s * 16);
                }
            } else {
                /* no GEMM microkernel at this row (generic): the 1×1 conv's reference weights [col][icg] */
                for (int r = 0; r < mr; r++) {
                    const uint8_t *x = src + (p0 + i + r) * ic + (int64_t)g * icg;
                    for (int j = 0; j < cnt; j++) {
                        const int8_t *w = c->wref + ((int64_t)g * k->cols + ch0 + j) * icg;
                        int32_t s = 0;
                        for (int q = 0; q < icg; q++) s += ld_src(x + q, s8) * (int32_t)w[q];
                        tile[r * 64 + j] = s;
                    }
                }
            }
            if (T) {
                /* gemm_desc's columns: this group's block at g·cols + ch0; s8 correction, scale, bias, activation,
                 * requantization per column in the row's epilogue */
                k->cfg->q8_epi(c, i, mr, Q8_EPI_BLOCKS * 16, g * k->cols + ch0, cnt, tile, T, NULL, NULL);
            } else {
                const int32_t *comp = gk && c->comp ? c->comp + (int64_t)g * k->cols + ch0 : NULL;
                for (int r = 0; r < mr; r++) {
                    int32_t *a = acc + (int64_t)(i + r) * ldacc + ch0;
                    const int32_t *t = tile + r * 64;
                    if (comp) for (int j = 0; j < cnt; j++) a[j] = t[j] + comp[j];
                    else for (int j = 0; j < cnt; j++) a[j] = t[j];   /* often 4..16 values: no memcpy call */
                }
            }
        }
    }
}

/* Exact cover: pixels [p0, p0+mc) → T [mc][groups·cols] final values → output pixel (iy·kh + ky, ix·kw + kx). */
static void exact_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const qdrun *r = vctx;
    const qtop_qdeconv *k = r->k;
    const qtop_qdeconv_desc *d = &k->d;
    int64_t p0 = task * r->mb;
    int mc = (int)(r->M - p0 < r->mb ? r->M - p0 : r->mb);
    const int f32 = d->dst_dt == QTOP_DT_F32;
    const size_t esz = f32 ? 4 : 1;
    const int64_t ncol = (int64_t)d->groups * k->cols;
    const size_t tbytes = ((size_t)r->mb * (size_t)ncol * esz + 63) / 64 * 64;
    const size_t accb = k->repl ? ((size_t)r->mb * (size_t)ncol * 4 + 63) / 64 * 64 : 0;
    uint8_t *T = qtop__tls_scratch(tbytes + accb + abuf_bytes(k->gemm, r->mb));
    if (!T) return;
    int32_t *A32 = (int32_t *)(T + tbytes);
    void *abuf = T + tbytes + accb;
    const int nb = (k->cols + 15) / 16;
    if (k->repl) {
        /* exact int32 sums [mc][ncol], then the wide epilogue: rows of vcols, the last one partial */
        for (int g = 0; g < d->groups; g++) tile_products(k, r->src, p0, mc, g, 0, nb, abuf, NULL, A32 + (int64_t)g * k->cols, ncol);
        int64_t total = (int64_t)mc * ncol, full = total / k->vcols, rem = total - full * k->vcols;
        if (full) k->cfg->q8_epi(k->repl, 0, (int)full, k->vcols, 0, k->vcols, A32, T, NULL, NULL);
        if (rem) k->cfg->q8_epi(k->repl, full, 1, k->vcols, 0, (int)rem, A32 + full * k->vcols, T, NULL, NULL);
    } else {
        for (int g = 0; g < d->groups; g++) tile_products(k, r->src, p0, mc, g, 0, nb, abuf, T, NULL, 0);
    }
    const int kh = d->kh, kw = d->kw, ocg = k->ocg, OC = d->oc, OH = d->oh, OW = d->ow;
    /* (n, iy, ix) of pixel p0, then runs of pixels within one input row (no divisions per pixel) */
    int ix = (int)(p0 % d->w);
    int iy = (int)((p0 / d->w) % d->h);
    int64_t n = p0 / d->w / d->h;
    for (int i = 0; i < mc;) {
        int run = d->w - ix < mc - i ? d->w - ix : mc - i;
        if (!f32) {
            uint8_t *y = r->dst;
            for (int ky = 0; ky < kh; ky++) {
                int64_t row = (n * OH + (int64_t)iy * kh + ky) * OW + (int64_t)ix * kw;
                for (int j = 0; j < run; j++) {
                    const uint8_t *tp = T + (size_t)(i + j) * (size_t)ncol;
                    if (d->groups == 1) {
                        memcpy(y + (row + (int64_t)j * kw) * OC, tp + (size_t)ky * kw * ocg, (size_t)kw * ocg);
                    } else {
                        for (int g = 0; g < d->groups; g++)
                            for (int kx = 0; kx < kw; kx++)
                                memcpy(y + (row + (int64_t)j * kw + kx) * OC + (int64_t)g * ocg,
                                       tp + (size_t)g * k->cols + (size_t)(ky * kw + kx) * ocg, (size_t)ocg);
                    }
                }
            }
        } else {
            const float *tf = (const float *)T + (int64_t)i * ncol;
            for (int g = 0; g < d->groups; g++)
                for (int o = 0; o < ocg; o++) {
                    float *plane = (float *)r->dst + (n * OC + (int64_t)g * ocg + o) * OH * OW;
                    for (int ky = 0; ky < kh; ky++) {
                        float *dst = plane + ((int64_t)iy * kh + ky) * OW + (int64_t)ix * kw;
                        const float *src = tf + (int64_t)g * k->cols + (int64_t)ky * kw * ocg + o;
                        if (kw == 2) {
                            for (int j = 0; j < run; j++) { dst[2 * j] = src[(int64_t)j * ncol]; dst[2 * j + 1] = src[(int64_t)j * ncol + ocg]; }
                        } else {
                            for (int j = 0; j < run; j++)
                                for (int kx = 0; kx < kw; kx++) dst[(int64_t)j * kw + kx] = src[(int64_t)j * ncol + (int64_t)kx * ocg];
                        }
                    }
                }
        }
        i += run;
        ix += run;
        if (ix == d->w) { ix = 0; if (++iy == d->h) { iy = 0; n++; } }
    }
}

static int floor_div(int64_t a, int64_t b) { return (int)(a >= 0 ? a / b : -((-a + b - 1) / b)); }

/* General: output rows [oy0, oy1) of image n: int32 block = Σ of every contributing product, then the epilogue. */
static void general_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const qdrun *r = vctx;
    const qtop_qdeconv *k = r->k;
    const qtop_qdeconv_desc *d = &k->d;
    int blk = (int)(task % r->blocks);
    int64_t n = task / r->blocks;
    int oy0 = blk * r->rows, oy1 = oy0 + r->rows < d->oh ? oy0 + r->rows : d->oh;
    const int OW = d->ow, OC = d->oc, ocg = k->ocg, kw = d->kw, cols = k->cols, f32 = d->dst_dt == QTOP_DT_F32;
    const int64_t rowlen = (int64_t)OW * OC;
    const size_t accb = (size_t)(oy1 - oy0) * (size_t)rowlen * 4, tb = (size_t)r->mb * (size_t)cols * 4;
    const size_t rowb = f32 ? (size_t)rowlen * 4 : 0;
    uint8_t *base = qtop__tls_scratch(accb + tb + rowb + abuf_bytes(k->gemm, r->mb) + 192);
    if (!base) return;
    int32_t *acc = (int32_t *)base;
    int32_t *T = (int32_t *)(base + (accb + 63) / 64 * 64);
    float *row = (float *)((uint8_t *)T + (tb + 63) / 64 * 64);
    void *abuf = (uint8_t *)row + (rowb + 63) / 64 * 64;
    memset(acc, 0, accb);
    int iy_lo = floor_div((int64_t)oy0 + d->pad_t - (int64_t)(d->kh - 1) * d->dil_h + d->stride_h - 1, d->stride_h);
    int iy_hi = floor_div((int64_t)oy1 - 1 + d->pad_t, d->stride_h);
    if (iy_lo < 0) iy_lo = 0;
    if (iy_hi > d->h - 1) iy_hi = d->h - 1;
    for (int iy = iy_lo; iy <= iy_hi; iy++) {
        int64_t oyb = (int64_t)iy * d->stride_h - d->pad_t;
        int ky0 = 0, ky1 = d->kh;
        while (ky0 < d->kh && oyb + (int64_t)ky0 * d->dil_h < oy0) ky0++;
        while (ky1 > ky0 && oyb + (int64_t)(ky1 - 1) * d->dil_h >= oy1) ky1--;
        if (ky0 >= ky1) continue;
        int c0 = ky0 * kw * ocg, c1 = ky1 * kw * ocg;
        for (int g = 0; g < d->groups; g++)
            for (int x0 = 0; x0 < d->w; x0 += r->mb) {
                int mc = d->w - x0 < r->mb ? d->w - x0 : r->mb;
                int64_t p0 = (n * d->h + iy) * d->w + x0;
                tile_products(k, r->src, p0, mc, g, c0 / 16, (c1 + 15) / 16, abuf, NULL, T, cols);
                for (int j = 0; j < mc; j++) {
                    int64_t oxb = (int64_t)(x0 + j) * d->stride_w - d->pad_l;
                    for (int ky = ky0; ky < ky1; ky++) {
                        int64_t oy = oyb + (int64_t)ky * d->dil_h;
                        int32_t *arow = acc + (oy - oy0) * rowlen + (int64_t)g * ocg;
                        for (int kx = 0; kx < kw; kx++) {
                            int64_t ox = oxb + (int64_t)kx * d->dil_w;
                            if (ox < 0 || ox >= OW) continue;
                            int32_t *a = arow + ox * OC;
                            const int32_t *t = T + (int64_t)j * cols + (ky * kw + kx) * ocg;
                            for (int o = 0; o < ocg; o++) a[o] = (int32_t)((uint32_t)a[o] + (uint32_t)t[o]);
                        }
                    }
                }
            }
    }
    for (int oy = oy0; oy < oy1; oy++) {
        const int32_t *a = acc + (int64_t)(oy - oy0) * rowlen;
        int64_t pix0 = (n * d->oh + oy) * OW;
        if (!f32) {
            k->cfg->q8_epi(k->epi, pix0, OW, OC, 0, OC, a, r->dst, NULL, NULL);
        } else {
            /* NHWC row through the epilogue, then into the NCHW planes */
            k->cfg->q8_epi(k->epi, 0, OW, OC, 0, OC, a, row, NULL, NULL);
            float *y = (float *)r->dst + n * OC * (int64_t)d->oh * OW + (int64_t)oy * OW;
            for (int o = 0; o < OC; o++) {
                float *dst = y + (int64_t)o * d->oh * OW;
                for (int x = 0; x < OW; x++) dst[x] = row[(int64_t)x * OC + o];
            }
        }
    }
}

void qtop_qdeconv_run(const qtop_qdeconv *k, const void *src, void *dst, qtop_pool *pool) {
    const qtop_qdeconv_desc *d = &k->d;
    int64_t threads = qtop_pool_threads(pool);
    const int MR = Q8_MR;
    qdrun r = { k, src, dst, 0, 0, 0, 0 };
    if (k->exact) {
        /* pixel tiles: the tile fits TILE_BYTES, a multiple of the microkernel height, ~8 tiles per thread */
        r.M = (int64_t)d->n * d->h * d->w;
        int64_t esz = d->dst_dt == QTOP_DT_F32 ? 4 : 1;
        int64_t per = (int64_t)d->groups * k->cols * esz;
        int64_t mb = TILE_BYTES / (per > 0 ? per : 1);
        int64_t want = (r.M + 8 * threads - 1) / (8 * threads);
        if (mb > want) mb = want;
        mb = (mb + MR - 1) / MR * MR;
        if (mb < MR) mb = MR;
        if (mb > 1024) mb = 1024;
        r.mb = (int)mb;
        qtop_parallel_for(pool, (r.M + mb - 1) / mb, exact_task, &r);
        return;
    }
    /* output row blocks small enough for L2, several tasks per thread when images are few */
    int64_t rowb = (int64_t)d->ow * d->oc * 4;
    int64_t rows = BLOCK_BYTES / (rowb > 0 ? rowb : 1);
    int64_t want = 4 * threads;
    if (d->n < want) {
        int64_t per = ((int64_t)d->oh * d->n + want - 1) / want;
        if (rows > per) rows = per;
    }
    if (rows < 1) rows = 1;
    if (rows > d->oh) rows = d->oh;
    int64_t mb = 32768 / ((int64_t)k->cols * 4);
    if (mb < MR) mb = MR;
    if (mb > d->w) mb = d->w;
    r.mb = (int)mb;
    r.rows = (int)rows;
    r.blocks = (int)((d->oh + rows - 1) / rows);
    qtop_parallel_for(pool, (int64_t)d->n * r.blocks, general_task, &r);
}
