/* fp32 NCHW transposed convolution (Paddle's conv2d_transpose) on the fp32 GEMM microkernel of the ISA row.
 *
 * Per group, the filter [icg][ocg][kh][kw] becomes A = [kh·ocg·kw][icg] (row r = (ky, o, kx): the taps of one
 * kernel row are contiguous, so an input row computes only the kernel rows that land in the task's output block),
 * packed once in the microkernel's panels. For one input row iy and a run of input columns, the columns are copied
 * into a contiguous [icg][cw] panel (the NCHW planes sit a power-of-two-ish stride apart and would thrash L1 sets),
 * the microkernel computes T[r][ix] = Σ_ic A[r][ic] · x[ic][iy][ix], and T is scattered to output (o, iy·sh - pad_t + ky·dh, ix·sw - pad_l + kx·dw). Tasks own disjoint
 * output row blocks of one (image, group), so no two threads write the same pixel and no output buffer beyond
 * the destination is needed.
 *
 * Two modes:
 * - exact cover (kernel == stride, dilation 1, no padding, output exactly in·stride: DBNet's 2×2/2 upsampling):
 *   every output pixel receives exactly one tap, so bias and activation run in the microkernel's epilogue and the
 *   scatter is a plain interleaving store;
 * - general (overlapping taps, gaps, padding, output_padding / output_size, dilation): the task's output block is
 *   filled with the bias, every contributing input row (those whose taps reach the block; rows near a block edge
 *   are computed by both neighbours) is accumulated into it, then the activation runs over the block. */
#include "isa_config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHY(...) do { if (why && why_len) snprintf(why, why_len, __VA_ARGS__); } while (0)

/* Target bytes of one task's output block and of the per-thread tile. */
#define BLOCK_BYTES (256 * 1024)
#define TILE_FLOATS 8192

struct qtop_fdeconv {
    qtop_fdeconv_desc d;
    const qtop_sgemm_kernel *kern;
    int icg, ocg, kk, M, exact;
    int max_rows;        /* output rows whose block fits BLOCK_BYTES */
    int cw;              /* input columns per tile (multiple of NR) */
    float *apack;        /* per group [ceil(M/MR)][icg][MR] */
    int64_t agroup;
    float *bias;         /* [oc] */
    float *bias_rows;    /* exact mode: per group [M] = bias of row r's channel */
};

static int64_t mul_ok(int64_t a, int64_t b) { return a > 0 && b > 0 && a <= INT64_MAX / b ? a * b : -1; }

int qtop_fdeconv_query(const qtop_fdeconv_desc *d, int isa, int cap, char *why, size_t why_len) {
    if (why && why_len) why[0] = 0;
    if (d->n <= 0 || d->ic <= 0 || d->h <= 0 || d->w <= 0 || d->oc <= 0 || d->kh <= 0 || d->kw <= 0 || d->oh <= 0 ||
        d->ow <= 0 || d->stride_h <= 0 || d->stride_w <= 0 || d->dil_h <= 0 || d->dil_w <= 0 || d->groups <= 0 ||
        d->ic % d->groups || d->oc % d->groups) {
        WHY("invalid conv2d_transpose shape"); return 0;
    }
    if (d->act < QTOP_ACT_NONE || d->act > QTOP_ACT_HARD_SWISH) { WHY("activation %d not in the fp32 epilogue", d->act); return 0; }
    int64_t m = mul_ok(mul_ok(d->oc / d->groups, d->kh), d->kw);
    int64_t xs = mul_ok(mul_ok(mul_ok(d->n, d->ic), d->h), d->w);
    int64_t ys = mul_ok(mul_ok(mul_ok(d->n, d->oc), d->oh), d->ow);
    int64_t ws = mul_ok(mul_ok(d->ic, d->oc / d->groups), (int64_t)d->kh * d->kw);
    /* int offsets inside rows/planes; the 4-D element counts stay in int64 */
    if (m < 0 || m > (1 << 20) || xs < 0 || ys < 0 || ws < 0 || (int64_t)d->h * d->w > INT32_MAX ||
        (int64_t)d->oh * d->ow > INT32_MAX || (int64_t)(d->h - 1) * d->stride_h + (int64_t)(d->kh - 1) * d->dil_h > INT32_MAX / 2 ||
        (int64_t)(d->w - 1) * d->stride_w + (int64_t)(d->kw - 1) * d->dil_w > INT32_MAX / 2 || d->pad_t < -(INT32_MAX / 4) ||
        d->pad_t > INT32_MAX / 4 || d->pad_l < -(INT32_MAX / 4) || d->pad_l > INT32_MAX / 4) {
        WHY("conv2d_transpose extents too large"); return 0;
    }
    if (isa < 0 || isa >= QTOP_ISA_COUNT) { WHY("unknown isa"); return 0; }
    const qtop_isa_config *cfg = qtop__isa_config(isa);
    if (!cfg) { WHY("%s: not in this build", qtop_isa_name(isa)); return 0; }
    if (!cfg->f32_gemm) { WHY("%s: no fp32 GEMM microkernel at this level", qtop_isa_name(isa)); return 0; }
    if (!((qtop_cpu_isa_mask() >> isa) & 1)) { WHY("%s: cpu lacks %s", qtop_isa_name(isa), qtop_isa_name(isa)); return 0; }
    if (isa > cap) { WHY("%s: capped by --isa %s", qtop_isa_name(isa), qtop_isa_name(cap)); return 0; }
    return 1;
}

static int is_exact(const qtop_fdeconv_desc *d) {
    return d->kh == d->stride_h && d->kw == d->stride_w && d->dil_h == 1 && d->dil_w == 1 && d->pad_t == 0 &&
           d->pad_l == 0 && d->oh == d->h * d->stride_h && d->ow == d->w * d->stride_w;
}

const char *qtop_fdeconv_mode(const qtop_fdeconv *c) { return c->exact ? "exact-cover" : "scatter-accumulate"; }

qtop_fdeconv *qtop_fdeconv_create(const qtop_fdeconv_desc *d, const float *weights, const float *bias, int isa) {
    if (!qtop_fdeconv_query(d, isa, isa, NULL, 0)) return NULL;
    qtop_fdeconv *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->d = *d;
    c->kern = qtop__isa_config(isa)->f32_gemm;
    c->icg = d->ic / d->groups;
    c->ocg = d->oc / d->groups;
    c->kk = d->kh * d->kw;
    c->M = c->ocg * c->kk;
    c->exact = is_exact(d);
    int MR = c->kern->mr, NR = c->kern->nr;
    int panels = (c->M + MR - 1) / MR;
    c->agroup = (int64_t)panels * c->icg * MR;
    c->apack = calloc((size_t)(c->agroup * d->groups), sizeof(float));
    c->bias = malloc(sizeof(float) * (size_t)d->oc);
    c->bias_rows = malloc(sizeof(float) * (size_t)c->M * d->groups);
    if (!c->apack || !c->bias || !c->bias_rows) { qtop_fdeconv_destroy(c); return NULL; }
    for (int o = 0; o < d->oc; o++) c->bias[o] = bias ? bias[o] : 0.0f;
    for (int g = 0; g < d->groups; g++) {
        float *ap = c->apack + g * c->agroup;
        for (int r = 0; r < c->M; r++) {
            int ky = r / (c->ocg * d->kw), o = (r / d->kw) % c->ocg, t = ky * d->kw + r % d->kw;
            c->bias_rows[(int64_t)g * c->M + r] = c->bias[g * c->ocg + o];
            for (int ic = 0; ic < c->icg; ic++)
                ap[((int64_t)(r / MR) * c->icg + ic) * MR + r % MR] =
                    weights[(((int64_t)g * c->icg + ic) * c->ocg + o) * c->kk + t];
        }
    }
    /* tile columns: the [M][cw] tile stays in L1/L2; the output block fits L2 and every thread gets tasks */
    int cw = (TILE_FLOATS / c->M) / NR * NR;
    int wr = (d->w + NR - 1) / NR * NR;
    c->cw = cw < NR ? NR : cw > wr ? wr : cw;
    int64_t row_bytes = (int64_t)c->ocg * d->ow * (int64_t)sizeof(float);
    int64_t rows = BLOCK_BYTES / (row_bytes > 0 ? row_bytes : 1);
    c->max_rows = rows < 1 ? 1 : rows > d->oh ? d->oh : (int)rows;
    return c;
}

void qtop_fdeconv_destroy(qtop_fdeconv *c) {
    if (!c) return;
    free(c->apack); free(c->bias); free(c->bias_rows);
    free(c);
}

typedef struct {
    const qtop_fdeconv *c;
    const float *src;
    float *dst;
    int rows_per_task;   /* output rows per task (exact mode: a multiple of kh) */
    int blocks;          /* row blocks per (image, group) */
} drun;

/* Rows [r0, r1) of T[M][cw] (ldc = cw) = A_g · x[:, iy, x0 .. x0+cols) with the optional epilogue per row; Bp is
 * the [icg][cw] panel scratch. r0 is a multiple of MR. */
static void tile_gemm(const qtop_fdeconv *c, const float *A, const float *xg, int iy, int x0, int cols, int r0, int r1,
                      float *T, float *Bp, const float *bias_rows, int act) {
    const qtop_sgemm_kernel *k = c->kern;
    int MR = k->mr, NR = k->nr;
    int64_t hw = (int64_t)c->d.h * c->d.w, ldc = c->cw;
    const float *b0 = xg + (int64_t)iy * c->d.w + x0;
    for (int ic = 0; ic < c->icg; ic++) memcpy(Bp + (int64_t)ic * ldc, b0 + ic * hw, sizeof(float) * (size_t)cols);
    for (int j = 0; j < cols; j += NR) {
        int nr = cols - j < NR ? cols - j : NR;
        for (int r = r0; r < r1; r += MR) {
            int mr = r1 - r < MR ? r1 - r : MR;
            qtop_sgemm_epi e = { bias_rows ? bias_rows + r : NULL, NULL, act };
            k->ukr(c->icg, A + (int64_t)(r / MR) * c->icg * MR, Bp + j, ldc, T + (int64_t)r * ldc + j, ldc, 0, mr, nr,
                   bias_rows ? &e : NULL);
        }
    }
}

/* Exact cover: output row iy·kh + ky, column ix·kw + kx takes T[(ky, o, kx)][ix] as is. */
static void exact_store(const qtop_fdeconv *c, const float *T, int64_t ldc, int cols, float *yg, int iy, int x0) {
    const qtop_fdeconv_desc *d = &c->d;
    int kh = d->kh, kw = d->kw, ow = d->ow;
    int64_t ohw = (int64_t)d->oh * ow;
    for (int o = 0; o < c->ocg; o++)
        for (int ky = 0; ky < kh; ky++) {
            float *dst = yg + o * ohw + ((int64_t)iy * kh + ky) * ow + (int64_t)x0 * kw;
            const float *t0 = T + (((int64_t)ky * c->ocg + o) * kw) * ldc;
            if (kw == 2) {
                const float *t1 = t0 + ldc;
                for (int j = 0; j < cols; j++) { dst[2 * j] = t0[j]; dst[2 * j + 1] = t1[j]; }
            } else if (kw == 1) {
                memcpy(dst, t0, sizeof(float) * (size_t)cols);
            } else {
                for (int kx = 0; kx < kw; kx++) {
                    const float *t = t0 + kx * ldc;
                    for (int j = 0; j < cols; j++) dst[(int64_t)j * kw + kx] = t[j];
                }
            }
        }
}

static void exact_task(const drun *r, int64_t ni, int g, int oy0, int oy1, float *T, float *Bp) {
    const qtop_fdeconv *c = r->c;
    const qtop_fdeconv_desc *d = &c->d;
    const float *xg = r->src + (ni * d->ic + (int64_t)g * c->icg) * d->h * d->w;
    float *yg = r->dst + (ni * d->oc + (int64_t)g * c->ocg) * d->oh * d->ow;
    const float *A = c->apack + g * c->agroup;
    const float *br = c->bias_rows + (int64_t)g * c->M;
    for (int iy = oy0 / d->kh; iy < oy1 / d->kh; iy++)
        for (int x0 = 0; x0 < d->w; x0 += c->cw) {
            int cols = d->w - x0 < c->cw ? d->w - x0 : c->cw;
            tile_gemm(c, A, xg, iy, x0, cols, 0, c->M, T, Bp, br, d->act);
            exact_store(c, T, c->cw, cols, yg, iy, x0);
        }
}

static int floor_div(int64_t a, int64_t b) { return (int)(a >= 0 ? a / b : -((-a + b - 1) / b)); }

static void general_task(const drun *r, int64_t ni, int g, int oy0, int oy1, float *T, float *Bp) {
    const qtop_fdeconv *c = r->c;
    const qtop_fdeconv_desc *d = &c->d;
    int ow = d->ow, kw = d->kw, sw = d->stride_w, dw = d->dil_w;
    int64_t ohw = (int64_t)d->oh * ow;
    const float *xg = r->src + (ni * d->ic + (int64_t)g * c->icg) * d->h * d->w;
    float *yg = r->dst + (ni * d->oc + (int64_t)g * c->ocg) * ohw;
    const float *A = c->apack + g * c->agroup;
    for (int o = 0; o < c->ocg; o++) {
        float b = c->bias[g * c->ocg + o];
        float *p = yg + o * ohw + (int64_t)oy0 * ow;
        for (int64_t i = 0; i < (int64_t)(oy1 - oy0) * ow; i++) p[i] = b;
    }
    /* input rows whose taps reach [oy0, oy1): oy = iy·sh - pad_t + ky·dh */
    int iy_lo = floor_div((int64_t)oy0 + d->pad_t - (int64_t)(d->kh - 1) * d->dil_h + d->stride_h - 1, d->stride_h);
    int iy_hi = floor_div((int64_t)oy1 - 1 + d->pad_t, d->stride_h);
    if (iy_lo < 0) iy_lo = 0;
    if (iy_hi > d->h - 1) iy_hi = d->h - 1;
    int MR = c->kern->mr, rows_per_ky = c->ocg * kw;
    for (int iy = iy_lo; iy <= iy_hi; iy++) {
        /* kernel rows ky with oy0 <= iy·sh - pad_t + ky·dh < oy1: a contiguous range, rows [r0, r1) of A */
        int64_t base = (int64_t)iy * d->stride_h - d->pad_t;
        int ky0 = 0, ky1 = d->kh;
        while (ky0 < d->kh && base + (int64_t)ky0 * d->dil_h < oy0) ky0++;
        while (ky1 > ky0 && base + (int64_t)(ky1 - 1) * d->dil_h >= oy1) ky1--;
        if (ky0 >= ky1) continue;
        int r0 = ky0 * rows_per_ky / MR * MR, r1 = ky1 * rows_per_ky;
        for (int x0 = 0; x0 < d->w; x0 += c->cw) {
            int cols = d->w - x0 < c->cw ? d->w - x0 : c->cw;
            tile_gemm(c, A, xg, iy, x0, cols, r0, r1, T, Bp, NULL, QTOP_ACT_NONE);
            for (int rr = ky0 * rows_per_ky; rr < r1; rr++) {
                int ky = rr / rows_per_ky, o = (rr / kw) % c->ocg, kx = rr % kw;
                int oy = (int)(base + (int64_t)ky * d->dil_h);
                /* columns j with 0 <= (x0 + j)·sw + off < ow */
                int64_t off = (int64_t)x0 * sw - d->pad_l + (int64_t)kx * dw;
                int64_t jlo = off >= 0 ? 0 : (-off + sw - 1) / sw;
                int64_t jhi = off >= ow ? 0 : (ow - 1 - off) / sw + 1;
                if (jhi > cols) jhi = cols;
                if (jlo >= jhi) continue;
                float *dst = yg + o * ohw + (int64_t)oy * ow + off;
                const float *tr = T + (int64_t)rr * c->cw;
                if (sw == 1) for (int64_t j = jlo; j < jhi; j++) dst[j] += tr[j];
                else for (int64_t j = jlo; j < jhi; j++) dst[j * sw] += tr[j];
            }
        }
    }
    if (d->act != QTOP_ACT_NONE)
        for (int o = 0; o < c->ocg; o++) {
            float *p = yg + o * ohw + (int64_t)oy0 * ow;
            for (int64_t i = 0; i < (int64_t)(oy1 - oy0) * ow; i++) p[i] = qtop__act_f(p[i], d->act);
        }
}

static void deconv_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const drun *r = vctx;
    const qtop_fdeconv *c = r->c;
    int blk = (int)(task % r->blocks);
    int64_t ng = task / r->blocks;
    int g = (int)(ng % c->d.groups);
    int64_t ni = ng / c->d.groups;
    int oy0 = blk * r->rows_per_task;
    int oy1 = oy0 + r->rows_per_task < c->d.oh ? oy0 + r->rows_per_task : c->d.oh;
    float *T = qtop__tls_scratch(sizeof(float) * ((size_t)c->M + c->icg) * c->cw);
    if (!T) return;
    float *Bp = T + (int64_t)c->M * c->cw;
    if (c->exact) exact_task(r, ni, g, oy0, oy1, T, Bp);
    else general_task(r, ni, g, oy0, oy1, T, Bp);
}

void qtop_fdeconv_run(const qtop_fdeconv *c, const float *src, float *dst, qtop_pool *pool) {
    /* blocks small enough for L2 and, when (image, group) units are few, several tasks per thread */
    const qtop_fdeconv_desc *d = &c->d;
    int64_t units = (int64_t)d->n * d->groups, want = 4 * (int64_t)qtop_pool_threads(pool);
    int64_t rows = units >= want ? d->oh : ((int64_t)d->oh * units + want - 1) / want;
    if (rows > c->max_rows) rows = c->max_rows;
    if (rows < 1) rows = 1;
    if (c->exact) rows = (rows + d->kh - 1) / d->kh * d->kh;
    if (rows > d->oh) rows = d->oh;
    drun r = { c, src, dst, (int)rows, (int)((d->oh + rows - 1) / rows) };
    qtop_parallel_for(pool, units * r.blocks, deconv_task, &r);
}
