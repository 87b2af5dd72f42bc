/* fp32 NCHW convolution and matmul on a packed-panel GEMM (BLIS-style: B panels packed per task from im2col,
 * A = weights packed once for conv; B = weights packed once for matmul). */
#include "f32_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KC 256

/* generic: 4 × 16 */
#define MRG 4
#define NRG 16
static void ukr_generic(int kc, const float *Ap, const float *Bp, float *C, int64_t ldc, int accumulate, int mr,
                        int nr) {
    float t[MRG][NRG];
    memset(t, 0, sizeof t);
    for (int k = 0; k < kc; k++)
        for (int i = 0; i < MRG; i++) {
            float a = Ap[k * MRG + i];
            for (int j = 0; j < NRG; j++) t[i][j] += a * Bp[k * NRG + j];
        }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) C[i * ldc + j] = accumulate ? C[i * ldc + j] + t[i][j] : t[i][j];
}
static const qtop_sgemm_kernel sgemm_generic = { MRG, NRG, ukr_generic };

static const qtop_sgemm_kernel *kernel_for(int isa) {
#if defined(__x86_64__)
    if (isa == QTOP_ISA_AVX512_CORE || isa == QTOP_ISA_AVX512_VNNI) return &qtop__sgemm_avx512;
    if (isa == QTOP_ISA_AVX2) return &qtop__sgemm_avx2;
#endif
    (void)isa;
    return &sgemm_generic;
}

#define WHY(...) do { if (why && why_len) snprintf(why, why_len, __VA_ARGS__); } while (0)

static int f32_isa_ok(int isa, int cap, char *why, size_t why_len) {
    if (why && why_len) why[0] = 0;
    if (isa < 0 || isa >= QTOP_ISA_COUNT) { WHY("unknown isa"); return 0; }
    if (isa != QTOP_ISA_GENERIC && isa != QTOP_ISA_AVX2 && isa != QTOP_ISA_AVX512_CORE) {
        WHY("%s: no fp32 %s kernel (fp32 uses avx512_core / avx2 / generic)", qtop_isa_name(isa), qtop_isa_name(isa));
        return 0;
    }
    if (!((qtop_compiled_isa_mask() >> isa) & 1)) { WHY("%s: not in this build", qtop_isa_name(isa)); return 0; }
    if (!((qtop_cpu_isa_mask() >> isa) & 1)) { WHY("%s: cpu lacks %s", qtop_isa_name(isa), qtop_isa_name(isa)); return 0; }
    if (isa > cap) { WHY("%s: capped by --isa %s", qtop_isa_name(isa), qtop_isa_name(cap)); return 0; }
    return 1;
}

static inline float act_f(float y, int act) {
    switch (act) {
    case QTOP_ACT_RELU: return y > 0 ? y : 0.0f;
    case QTOP_ACT_RELU6: { float t = y > 0 ? y : 0.0f; return t < 6.0f ? t : 6.0f; }
    case QTOP_ACT_HARD_SWISH: { float t = y + 3.0f; t = t > 0 ? t : 0.0f; t = t < 6.0f ? t : 6.0f; return y * (t * (1.0f / 6.0f)); }
    default: return y;
    }
}

/* Pack rows [0, m) of a row-major [m][k] matrix (lda) into [ceil(m/MR)][k][MR], zero-padded. */
static void pack_a(const float *A, int64_t lda, int m, int k, int MR, float *out) {
    for (int p = 0; p * MR < m; p++) {
        float *o = out + (int64_t)p * k * MR;
        for (int kk = 0; kk < k; kk++)
            for (int i = 0; i < MR; i++) {
                int r = p * MR + i;
                o[(int64_t)kk * MR + i] = r < m ? A[(int64_t)r * lda + kk] : 0.0f;
            }
    }
}

/* ================================================================== conv */

static int odim(int in, int k, int s, int p0, int p1, int d) {
    if (s <= 0 || d <= 0 || k <= 0) return 0;
    int span = in + p0 + p1 - (d * (k - 1) + 1);
    return span < 0 ? 0 : span / s + 1;
}
int qtop_fconv_out_h(const qtop_fconv_desc *d) { return odim(d->h, d->kh, d->stride_h, d->pad_t, d->pad_b, d->dil_h); }
int qtop_fconv_out_w(const qtop_fconv_desc *d) { return odim(d->w, d->kw, d->stride_w, d->pad_l, d->pad_r, d->dil_w); }
static int fdw(const qtop_fconv_desc *d) { return d->groups > 1 && d->groups == d->ic && d->oc == d->ic; }
const char *qtop_fconv_impl_name(const qtop_fconv_desc *d) {
    if (fdw(d)) return "dwconv";
    return d->kh == 1 && d->kw == 1 ? "conv1x1" : "conv";
}

int qtop_fconv_query(const qtop_fconv_desc *d, int isa, int cap, char *why, size_t why_len) {
    if (d->n <= 0 || d->ic <= 0 || d->h <= 0 || d->w <= 0 || d->oc <= 0 || d->kh <= 0 || d->kw <= 0 || d->groups <= 0 ||
        d->ic % d->groups || d->oc % d->groups || d->pad_t < 0 || d->pad_b < 0 || d->pad_l < 0 || d->pad_r < 0 ||
        qtop_fconv_out_h(d) <= 0 || qtop_fconv_out_w(d) <= 0) {
        WHY("invalid conv shape"); return 0;
    }
    if (fdw(d) && isa != QTOP_ISA_GENERIC) {
        if (!f32_isa_ok(isa, cap, why, why_len)) return 0;
        WHY("%s: fp32 depthwise only has a generic kernel", qtop_isa_name(isa));
        return 0;
    }
    return f32_isa_ok(isa, cap, why, why_len);
}

struct qtop_fconv {
    qtop_fconv_desc d;
    int isa, oh, ow, icg, ocg, K, dw;
    const qtop_sgemm_kernel *kern;
    float *apack;      /* per group [ceil(ocg/MR)][K][MR] */
    int64_t agroup;    /* floats per group */
    float *w;          /* original weights (depthwise) */
    float *bias;
    int ncb;           /* columns per task */
    int scratch_threads;
    float **scratch;   /* per thread KC × ncb */
};

qtop_fconv *qtop_fconv_create(const qtop_fconv_desc *d, const float *weights, const float *bias, int isa) {
    if (!qtop_fconv_query(d, isa, isa, NULL, 0)) return NULL;
    qtop_fconv *c = calloc(1, sizeof *c);
    c->d = *d;
    c->isa = isa;
    c->oh = qtop_fconv_out_h(d);
    c->ow = qtop_fconv_out_w(d);
    c->icg = d->ic / d->groups;
    c->ocg = d->oc / d->groups;
    c->K = c->icg * d->kh * d->kw;
    c->dw = fdw(d);
    c->kern = kernel_for(isa);
    c->bias = malloc(sizeof(float) * d->oc);
    for (int o = 0; o < d->oc; o++) c->bias[o] = bias ? bias[o] : 0.0f;
    if (c->dw) {
        c->w = malloc(sizeof(float) * (size_t)d->oc * d->kh * d->kw);
        memcpy(c->w, weights, sizeof(float) * (size_t)d->oc * d->kh * d->kw);
        return c;
    }
    int MR = c->kern->mr;
    int panels = (c->ocg + MR - 1) / MR;
    c->agroup = (int64_t)panels * c->K * MR;
    c->apack = malloc(sizeof(float) * (size_t)(c->agroup * d->groups));
    for (int g = 0; g < d->groups; g++)
        pack_a(weights + (int64_t)g * c->ocg * c->K, c->K, c->ocg, c->K, MR, c->apack + g * c->agroup);
    c->ncb = c->kern->nr * (c->kern->nr >= 32 ? 4 : 8);
    return c;
}

void qtop_fconv_destroy(qtop_fconv *c) {
    if (!c) return;
    free(c->apack); free(c->w); free(c->bias);
    for (int i = 0; i < c->scratch_threads; i++) free(c->scratch[i]);
    free(c->scratch);
    free(c);
}

typedef struct { qtop_fconv *c; const float *src; float *dst; const float *res; int nchunks; } frun;

/* Pack B = im2col columns [j0, j0+nc) rows [k0, k0+kc) into panels [nc/NR][kc][NR]. */
static void pack_b_conv(const qtop_fconv *c, const float *img, int j0, int nc, int k0, int kc, float *out) {
    const qtop_fconv_desc *d = &c->d;
    int NR = c->kern->nr, khw = d->kh * d->kw;
    int one = d->kh == 1 && d->kw == 1 && d->stride_h == 1 && d->stride_w == 1 && !d->pad_t && !d->pad_l &&
              !d->pad_b && !d->pad_r;
    int64_t hw = (int64_t)d->h * d->w;
    for (int p = 0; p * NR < nc; p++) {
        float *o = out + (int64_t)p * kc * NR;
        int jb = j0 + p * NR;
        int cnt = nc - p * NR < NR ? nc - p * NR : NR;
        for (int kk = 0; kk < kc; kk++) {
            int k = k0 + kk;
            float *ob = o + (int64_t)kk * NR;
            if (one) {
                const float *s = img + (int64_t)k * hw + jb;
                memcpy(ob, s, sizeof(float) * cnt);
            } else {
                int ic = k / khw, r = k % khw, ky = r / d->kw, kx = r % d->kw;
                const float *plane = img + (int64_t)ic * hw;
                int oy = jb / c->ow, ox = jb % c->ow;
                int iy = oy * d->stride_h - d->pad_t + ky * d->dil_h;
                int xoff = kx * d->dil_w - d->pad_l;
                for (int j = 0; j < cnt; j++) {
                    int ix = ox * d->stride_w + xoff;
                    ob[j] = (iy >= 0 && iy < d->h && ix >= 0 && ix < d->w) ? plane[(int64_t)iy * d->w + ix] : 0.0f;
                    if (++ox == c->ow) { ox = 0; oy++; iy += d->stride_h; }
                }
            }
            for (int j = cnt; j < NR; j++) ob[j] = 0.0f;
        }
    }
}

static void fconv_task(void *vctx, int64_t task, int thread) {
    frun *r = vctx;
    qtop_fconv *c = r->c;
    const qtop_fconv_desc *d = &c->d;
    int chunk = (int)(task % r->nchunks);
    int64_t t2 = task / r->nchunks;
    int g = (int)(t2 % d->groups), n = (int)(t2 / d->groups);
    int64_t ohw = (int64_t)c->oh * c->ow;
    int j0 = chunk * c->ncb;
    int nc = (int)(ohw - j0 < c->ncb ? ohw - j0 : c->ncb);
    int MR = c->kern->mr, NR = c->kern->nr;
    const float *img = r->src + ((int64_t)n * d->ic + (int64_t)g * c->icg) * d->h * d->w;
    float *C = r->dst + ((int64_t)n * d->oc + (int64_t)g * c->ocg) * ohw + j0;
    float *bp = r->c->scratch[thread];
    const float *A = c->apack + g * c->agroup;
    for (int k0 = 0; k0 < c->K; k0 += KC) {
        int kc = c->K - k0 < KC ? c->K - k0 : KC;
        pack_b_conv(c, img, j0, nc, k0, kc, bp);
        for (int i = 0; i < c->ocg; i += MR) {
            int mr = c->ocg - i < MR ? c->ocg - i : MR;
            const float *ap = A + (int64_t)(i / MR) * c->K * MR + (int64_t)k0 * MR;
            for (int j = 0; j < nc; j += NR) {
                int nr = nc - j < NR ? nc - j : NR;
                c->kern->ukr(kc, ap, bp + (int64_t)(j / NR) * kc * NR, C + (int64_t)i * ohw + j, ohw, k0 > 0, mr, nr);
            }
        }
    }
    const float *R = r->res ? r->res + ((int64_t)n * d->oc + (int64_t)g * c->ocg) * ohw + j0 : NULL;
    for (int i = 0; i < c->ocg; i++) {
        float b = c->bias[g * c->ocg + i];
        float *row = C + (int64_t)i * ohw;
        const float *rr = R ? R + (int64_t)i * ohw : NULL;
        for (int j = 0; j < nc; j++) {
            float y = row[j] + b;
            if (rr) y += rr[j];
            row[j] = act_f(y, d->act);
        }
    }
}

static void fdw_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    frun *r = vctx;
    qtop_fconv *c = r->c;
    const qtop_fconv_desc *d = &c->d;
    int ch = (int)(task % d->oc), n = (int)(task / d->oc);
    const float *pl = r->src + ((int64_t)n * d->ic + ch) * d->h * d->w;
    const float *w = c->w + (int64_t)ch * d->kh * d->kw;
    int64_t ohw = (int64_t)c->oh * c->ow;
    float *o = r->dst + ((int64_t)n * d->oc + ch) * ohw;
    const float *rr = r->res ? r->res + ((int64_t)n * d->oc + ch) * ohw : NULL;
    float b = c->bias[ch];
    for (int oy = 0; oy < c->oh; oy++)
        for (int ox = 0; ox < c->ow; ox++) {
            float s = 0.0f;
            for (int ky = 0; ky < d->kh; ky++) {
                int iy = oy * d->stride_h - d->pad_t + ky * d->dil_h;
                if (iy < 0 || iy >= d->h) continue;
                for (int kx = 0; kx < d->kw; kx++) {
                    int ix = ox * d->stride_w - d->pad_l + kx * d->dil_w;
                    if (ix < 0 || ix >= d->w) continue;
                    s += pl[(int64_t)iy * d->w + ix] * w[ky * d->kw + kx];
                }
            }
            float y = s + b;
            if (rr) y += rr[(int64_t)oy * c->ow + ox];
            o[(int64_t)oy * c->ow + ox] = act_f(y, d->act);
        }
}

void qtop_fconv_run(qtop_fconv *c, const float *src, float *dst, const float *residual, qtop_pool *pool) {
    const qtop_fconv_desc *d = &c->d;
    frun r = { c, src, dst, d->has_residual ? residual : NULL, 0 };
    if (c->dw) { qtop_parallel_for(pool, (int64_t)d->n * d->oc, fdw_task, &r); return; }
    int threads = qtop_pool_threads(pool);
    if (threads > c->scratch_threads) {
        float **s = calloc((size_t)threads, sizeof(float *));
        for (int i = 0; i < threads; i++)
            s[i] = i < c->scratch_threads ? c->scratch[i] : malloc(sizeof(float) * (size_t)KC * c->ncb + 64);
        free(c->scratch);
        c->scratch = s;
        c->scratch_threads = threads;
    }
    int64_t ohw = (int64_t)c->oh * c->ow;
    r.nchunks = (int)((ohw + c->ncb - 1) / c->ncb);
    qtop_parallel_for(pool, (int64_t)d->n * d->groups * r.nchunks, fconv_task, &r);
}

/* ================================================================== matmul / fc */

struct qtop_fmatmul {
    qtop_fmatmul_desc d;
    int isa;
    const qtop_sgemm_kernel *kern;
    float *bpack;      /* [ceil(n/NR)][k][NR] */
    float *bias;
    float *apack;      /* per call [ceil(m/MR)][k][MR] */
};

int qtop_fmatmul_query(const qtop_fmatmul_desc *d, int isa, int cap, char *why, size_t why_len) {
    if (d->m <= 0 || d->k <= 0 || d->n <= 0) { WHY("invalid matmul shape"); return 0; }
    return f32_isa_ok(isa, cap, why, why_len);
}

qtop_fmatmul *qtop_fmatmul_create(const qtop_fmatmul_desc *d, const float *weights, const float *bias, int isa) {
    if (!qtop_fmatmul_query(d, isa, isa, NULL, 0)) return NULL;
    qtop_fmatmul *m = calloc(1, sizeof *m);
    m->d = *d;
    m->isa = isa;
    m->kern = kernel_for(isa);
    int NR = m->kern->nr, MR = m->kern->mr;
    int panels = (d->n + NR - 1) / NR;
    m->bpack = malloc(sizeof(float) * (size_t)panels * d->k * NR);
    for (int p = 0; p < panels; p++)
        for (int k = 0; k < d->k; k++)
            for (int j = 0; j < NR; j++) {
                int col = p * NR + j;
                m->bpack[((int64_t)p * d->k + k) * NR + j] = col < d->n ? weights[(int64_t)k * d->n + col] : 0.0f;
            }
    m->bias = malloc(sizeof(float) * d->n);
    for (int j = 0; j < d->n; j++) m->bias[j] = bias ? bias[j] : 0.0f;
    m->apack = malloc(sizeof(float) * (size_t)((d->m + MR - 1) / MR) * MR * d->k);
    return m;
}

void qtop_fmatmul_destroy(qtop_fmatmul *m) {
    if (!m) return;
    free(m->bpack); free(m->bias); free(m->apack);
    free(m);
}

typedef struct { qtop_fmatmul *m; float *dst; const float *res; int ntile, mtiles, mrows; } mrun;

static void fmm_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    mrun *r = vctx;
    qtop_fmatmul *mm = r->m;
    const qtop_fmatmul_desc *d = &mm->d;
    int MR = mm->kern->mr, NR = mm->kern->nr;
    int mt = (int)(task % r->mtiles), nt = (int)(task / r->mtiles);
    int i0 = mt * r->mrows, i1 = i0 + r->mrows < d->m ? i0 + r->mrows : d->m;
    int j0 = nt * r->ntile, j1 = j0 + r->ntile < d->n ? j0 + r->ntile : d->n;
    for (int k0 = 0; k0 < d->k; k0 += KC) {
        int kc = d->k - k0 < KC ? d->k - k0 : KC;
        for (int j = j0; j < j1; j += NR) {
            int nr = j1 - j < NR ? j1 - j : NR;
            const float *bp = mm->bpack + ((int64_t)(j / NR) * d->k + k0) * NR;
            for (int i = i0; i < i1; i += MR) {
                int mr = i1 - i < MR ? i1 - i : MR;
                const float *ap = mm->apack + ((int64_t)(i / MR) * d->k + k0) * MR;
                mm->kern->ukr(kc, ap, bp, r->dst + (int64_t)i * d->n + j, d->n, k0 > 0, mr, nr);
            }
        }
    }
    for (int i = i0; i < i1; i++)
        for (int j = j0; j < j1; j++) {
            float y = r->dst[(int64_t)i * d->n + j] + mm->bias[j];
            if (r->res) y += r->res[(int64_t)i * d->n + j];
            r->dst[(int64_t)i * d->n + j] = act_f(y, d->act);
        }
}

void qtop_fmatmul_run(qtop_fmatmul *m, const float *x, float *dst, const float *residual, qtop_pool *pool) {
    const qtop_fmatmul_desc *d = &m->d;
    int MR = m->kern->mr, NR = m->kern->nr;
    pack_a(x, d->k, d->m, d->k, MR, m->apack);
    mrun r = { m, dst, d->has_residual ? residual : NULL, 0, 0, 0 };
    /* row tiles of 8 MR panels (must be a multiple of MR), column tiles of 4 NR panels */
    r.mrows = MR * 8;
    r.mtiles = (d->m + r.mrows - 1) / r.mrows;
    r.ntile = NR * 4;
    qtop_parallel_for(pool, (int64_t)r.mtiles * ((d->n + r.ntile - 1) / r.ntile), fmm_task, &r);
}
