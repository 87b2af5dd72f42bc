/* fp32 NCHW convolution and matmul on a packed-panel GEMM (BLIS-style: B panels packed per task from im2col,
 * A = weights packed once for conv; B = weights packed once for matmul). */
#include "isa_config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#ifndef KC
#define KC 512
#endif
#ifndef TMODE_ENABLE
#define TMODE_ENABLE 1
#endif
#ifndef TMODE_MAX_HW
#define TMODE_MAX_HW 64
#endif
/* k×k convs use the small-plane kernel up to 14×14 (196 = 28 full 7-pixel tiles): the 8×32 GEMM would leave a
 * 4-column strip and stream an unpacked im2col band per row panel. */
#ifndef TMODE_MAX_HW_KXK
#define TMODE_MAX_HW_KXK 196
#endif
/* Pixel-major GEMM ("xmode") up to this many output pixels: T[pixel][oc] = im2col^T · W^T with the weights as the
 * packed vector operand (contiguous [K][NR] panels, L1-resident across pixel panels) and the pixels as the small
 * broadcast operand, packed per call. A plane of a few dozen pixels then wastes no vector lanes and the activation
 * matrix is never read at a plane-sized stride (AVX2 6x16, r50 3x3 512 on a 7×7 plane: 10-26 → 31-36 GMAC/s on one core).
 * Up to 14×14: there the weights (the long operand at K ≥ 256) stream once instead of once per column tile (AVX2,
 * cold caches as in a model, one core: r50 1x1 256>1024 @14² with residual 1.45 → 1.17 ms, 1024>512 2.3 → 2.2,
 * 3x3 256 3.0 → 2.75-3.0; at 28×28 it lost: 512>128 1.02 → 1.24). */
#ifndef XMODE_MAX_HW
#define XMODE_MAX_HW 196
#endif
/* xmode only for kernels that lose on strided B (pack_b; the AVX-512 8x32 does not: 960>160 @7×7 43 → 41,
 * 120>488 @40 px 47 → 36 GMAC/s with it) and when K and oc amortise its transposed scalar epilogue and the per-call
 * pixel packing (AVX2 120>488 @40 px: 41 → 34.5 GMAC/s at K = 120) */
#ifndef XMODE_MIN_K
#define XMODE_MIN_K 256
#endif
#ifndef XMODE_MIN_OC
#define XMODE_MIN_OC 32
#endif

/* Direct 1×1 convs copy each task's column band of the input into [K][NR] panels when the ISA's kernel asks for it
 * (pack_b), enough output channels reuse the copy (oc ≥ 64: copy ≤ 1/16 of the FMA work) and K is long enough for
 * the strided panel to leave L1 (AVX2 32>192 @28×28: 47.0 → 46 GMAC/s with the copy, so not below K = 64). */
#ifndef PANEL_PACK_MIN_OC
#define PANEL_PACK_MIN_OC 64
#endif
#ifndef PANEL_PACK_MIN_K
#define PANEL_PACK_MIN_K 64
#endif

/* Direct 1×1 convs with a short K on large planes (K ≤ 128, ≥ 28×28 outputs, e.g. r50 64>256 @56², 128>512 @28²)
 * are bound by the output (and residual) rows, not by the FMAs: tiles of 2 row panels × 16 column strips write
 * fewer, longer row streams than 8 × 4, and the next strip's C / residual lines are prefetched while the current one
 * computes (AVX-512, cold caches as inside a model: 64>256 @56² 1.20 → 1.04 ms, with residual 1.66 → 1.48, 64>64
 * 0.34 → 0.29, 128>512 @28² with residual 1.23 → 1.15; K = 256 and up gained nothing). */
#ifndef SHORTK_MAX_K
#define SHORTK_MAX_K 128
#endif
#ifndef SHORTK_MIN_HW
#define SHORTK_MIN_HW 784
#endif

/* generic: 4 × 16 */
#define MRG 4
#define NRG 16
static void ukr_generic(int kc, const float *Ap, const float *Bp, int64_t ldb, float *C, int64_t ldc, int accumulate,
                        int mr, int nr, const qtop_sgemm_epi *epi) {
    float t[MRG][NRG];
    memset(t, 0, sizeof t);
    for (int k = 0; k < kc; k++) {
        const float *b = Bp + (int64_t)k * ldb;
        for (int i = 0; i < MRG; i++) {
            float a = Ap[k * MRG + i];
            for (int j = 0; j < nr; j++) t[i][j] += a * b[j];
        }
    }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) C[i * ldc + j] = accumulate ? C[i * ldc + j] + t[i][j] : t[i][j];
    if (epi) qtop__sgemm_epi_apply(C, ldc, mr, nr, epi);
}
const qtop_sgemm_kernel qtop__sgemm_generic = { MRG, NRG, ukr_generic };

static const qtop_sgemm_kernel *kernel_for(int isa) { return qtop__isa_config(isa)->f32_gemm; }

#define WHY(...) do { if (why && why_len) snprintf(why, why_len, __VA_ARGS__); } while (0)

static int f32_isa_ok(int isa, int cap, char *why, size_t why_len) {
    if (why && why_len) why[0] = 0;
    if (isa < 0 || isa >= QTOP_ISA_COUNT) { WHY("unknown isa"); return 0; }
    const qtop_isa_config *cfg = qtop__isa_config(isa);
    if (!cfg) { WHY("%s: not in this build", qtop_isa_name(isa)); return 0; }
    if (!cfg->f32_gemm) {
        WHY("%s: no fp32 %s kernel (fp32 uses avx512_core / avx2 / generic)", qtop_isa_name(isa), qtop_isa_name(isa));
        return 0;
    }
    if (!((qtop_cpu_isa_mask() >> isa) & 1)) { WHY("%s: cpu lacks %s", qtop_isa_name(isa), qtop_isa_name(isa)); return 0; }
    if (isa > cap) { WHY("%s: capped by --isa %s", qtop_isa_name(isa), qtop_isa_name(cap)); return 0; }
    return 1;
}

#define act_f qtop__act_f

void qtop__sgemm_epi_apply(float *C, int64_t ldc, int mr, int nr, const qtop_sgemm_epi *epi) {
    for (int i = 0; i < mr; i++) {
        float b = epi->bias ? epi->bias[i] : 0.0f;
        float *row = C + i * ldc;
        const float *rr = epi->res ? epi->res + i * ldc : NULL;
        for (int j = 0; j < nr; j++) {
            float y = row[j] + b;
            if (rr) y += rr[j];
            row[j] = act_f(y, epi->act);
        }
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
static int fdw(const qtop_fconv_desc *d) { return qtop_conv_family(d->ic, d->oc, d->groups, d->kh, d->kw) == QTOP_CONV_DW; }
const char *qtop_fconv_impl_name(const qtop_fconv_desc *d) {
    return qtop_conv_family_name(qtop_conv_family(d->ic, d->oc, d->groups, d->kh, d->kw));
}

int qtop_fconv_query(const qtop_fconv_desc *d, int isa, int cap, char *why, size_t why_len) {
    if (d->n <= 0 || d->ic <= 0 || d->h <= 0 || d->w <= 0 || d->oc <= 0 || d->kh <= 0 || d->kw <= 0 || d->groups <= 0 ||
        d->ic % d->groups || d->oc % d->groups || d->pad_t < 0 || d->pad_b < 0 || d->pad_l < 0 || d->pad_r < 0 ||
        qtop_fconv_out_h(d) <= 0 || qtop_fconv_out_w(d) <= 0) {
        WHY("invalid conv shape"); return 0;
    }
    return f32_isa_ok(isa, cap, why, why_len);
}

struct qtop_fconv {
    qtop_fconv_desc d;
    int isa, oh, ow, icg, ocg, K, dw;
    const qtop_isa_config *cfg;
    const qtop_sgemm_kernel *kern;
    float *apack;      /* per group [ceil(ocg/MR)][K][MR] */
    int64_t agroup;    /* floats per group */
    float *bias;
    int direct;        /* 1×1, stride 1, no padding: B is the input plane matrix itself */
    int tmode;         /* small plane (AVX-512): channel-vector kernel over wpack [ocg/64][K][64] instead of apack */
    float *wpack;
    int xmode;         /* small plane: pixel-major GEMM over xpack [ceil(ocg/NR)][K][NR] per group */
    float *xpack;
    int64_t xgroup;    /* floats per group in xpack */
    qtop_fdw *fdw;     /* depthwise: f32_dw.c */
    qtop_fdirect *fdirect; /* k×k on a large plane without im2col: f32_direct.c */
};

qtop_fconv *qtop_fconv_create(const qtop_fconv_desc *d, const float *weights, const float *bias, int isa) {
    if (!qtop_fconv_query(d, isa, isa, NULL, 0)) return NULL;
    qtop_fconv *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->d = *d;
    c->isa = isa;
    c->oh = qtop_fconv_out_h(d);
    c->ow = qtop_fconv_out_w(d);
    c->icg = d->ic / d->groups;
    c->ocg = d->oc / d->groups;
    c->K = c->icg * d->kh * d->kw;
    c->dw = fdw(d);
    c->cfg = qtop__isa_config(isa);
    c->kern = c->cfg->f32_gemm;
    c->bias = malloc(sizeof(float) * d->oc);
    for (int o = 0; o < d->oc; o++) c->bias[o] = bias ? bias[o] : 0.0f;
    if (c->dw) {
        c->fdw = qtop__fdw_create(d, weights, bias, c->cfg);
        if (!c->fdw) { qtop_fconv_destroy(c); return NULL; }
        return c;
    }
    c->fdirect = qtop__fdirect_create(d, weights, c->cfg);
    if (c->fdirect) return c;
    c->direct = d->kh == 1 && d->kw == 1 && d->stride_h == 1 && d->stride_w == 1 && !d->pad_t && !d->pad_l &&
                !d->pad_b && !d->pad_r;
    if (TMODE_ENABLE && c->cfg->f32_t7x64 && d->groups == 1 && c->ocg % 64 == 0 &&
        (int64_t)c->oh * c->ow <= (d->kh * d->kw > 1 ? TMODE_MAX_HW_KXK : TMODE_MAX_HW)) {
        c->tmode = 1;
        c->wpack = malloc(sizeof(float) * (size_t)c->ocg * c->K);
        for (int p = 0; p < c->ocg / 64; p++)
            for (int k = 0; k < c->K; k++)
                for (int o = 0; o < 64; o++)
                    c->wpack[((int64_t)p * c->K + k) * 64 + o] = weights[(int64_t)(p * 64 + o) * c->K + k];
        return c;
    }
    int64_t ohw = (int64_t)c->oh * c->ow;
    if (c->kern->pack_b && ohw <= XMODE_MAX_HW && c->K >= XMODE_MIN_K && c->ocg >= XMODE_MIN_OC) {
        int NR = c->kern->nr, strips = (c->ocg + NR - 1) / NR;
        c->xmode = 1;
        c->xgroup = (int64_t)strips * c->K * NR;
        c->xpack = malloc(sizeof(float) * (size_t)(c->xgroup * d->groups));
        if (!c->xpack) { qtop_fconv_destroy(c); return NULL; }
        for (int g = 0; g < d->groups; g++)
            for (int s = 0; s < strips; s++)
                for (int k = 0; k < c->K; k++)
                    for (int j = 0; j < NR; j++) {
                        int o = s * NR + j;
                        c->xpack[g * c->xgroup + ((int64_t)s * c->K + k) * NR + j] =
                            o < c->ocg ? weights[((int64_t)g * c->ocg + o) * c->K + k] : 0.0f;
                    }
        return c;
    }
    int MR = c->kern->mr;
    int panels = (c->ocg + MR - 1) / MR;
    c->agroup = (int64_t)panels * c->K * MR;
    c->apack = malloc(sizeof(float) * (size_t)(c->agroup * d->groups));
    for (int g = 0; g < d->groups; g++)
        pack_a(weights + (int64_t)g * c->ocg * c->K, c->K, c->ocg, c->K, MR, c->apack + g * c->agroup);
    return c;
}

void qtop_fconv_destroy(qtop_fconv *c) {
    if (!c) return;
    free(c->apack); free(c->bias); free(c->wpack); free(c->xpack);
    qtop__fdw_destroy(c->fdw);
    qtop__fdirect_destroy(c->fdirect);
    free(c);
}

typedef struct { qtop_fconv *c; const float *src; float *dst; const float *res; } frun;

/* Per calling thread: the im2col matrix of the conv being run, and the xmode pixel panels packed from it (workers
 * only read them while the caller waits). */
static pthread_key_t col_key, xpack_key;
static pthread_once_t col_once = PTHREAD_ONCE_INIT;
typedef struct { float *p; size_t cap; } colbuf;
static void col_free(void *v) { colbuf *b = v; if (b) { free(b->p); free(b); } }
static void col_init(void) { pthread_key_create(&col_key, col_free); pthread_key_create(&xpack_key, col_free); }
static float *keyed_scratch(pthread_key_t key, size_t floats) {
    colbuf *b = pthread_getspecific(key);
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) return NULL;
        pthread_setspecific(key, b);
    }
    if (b->cap < floats) {
        free(b->p);
        b->p = NULL; b->cap = 0;
        void *p = NULL;
        if (posix_memalign(&p, 64, sizeof(float) * floats) != 0) return NULL;
        b->p = p; b->cap = floats;
    }
    return b->p;
}
static float *col_scratch(size_t floats) { pthread_once(&col_once, col_init); return keyed_scratch(col_key, floats); }
static float *xpack_scratch(size_t floats) { pthread_once(&col_once, col_init); return keyed_scratch(xpack_key, floats); }

/* One GEMM job: C[ocg][ohw] = A[ocg][K] · B[K][ohw] (B rows at stride ldb), epilogue fused into the last K block. */
typedef struct {
    qtop_fconv *c;
    const float *A, *B, *bias, *res;
    float *C;
    int64_t ldb, ldc;
    int rows, cols, K;
    int mtile, ntile, mtiles;  /* tile sizes in rows / columns */
    /* im2col fill */
    const float *img;
    float *col;
    int krows;                 /* rows per fill task */
    int private_pack;          /* each task builds its own im2col column band (tiles span all rows) */
    int panel_pack;            /* each task copies its column band of B (ldb stride) into [strip][K][NR] panels */
    int prefetch_next;         /* prefetch the next column strip's C and residual lines during the last K block */
} gjob;

/* im2col rows [k0, k1), output pixels [p0, p1) → out[k - k0][p - p0] (row stride ldo). */
static void im2col_rows(const qtop_fconv *c, const float *img, int k0, int k1, int64_t p0, int64_t p1, float *out,
                        int64_t ldo) {
    const qtop_fconv_desc *d = &c->d;
    int khw = d->kh * d->kw, ow = c->ow;
    int64_t hw = (int64_t)d->h * d->w;
    for (int k = k0; k < k1; k++) {
        int ic = k / khw, r = k % khw, ky = r / d->kw, kx = r % d->kw;
        const float *plane = img + (int64_t)ic * hw;
        float *orow = out + (int64_t)(k - k0) * ldo - p0;
        int xoff = kx * d->dil_w - d->pad_l;
        /* valid ox range: 0 <= ox*sw + xoff < w */
        int lo = xoff >= 0 ? 0 : (-xoff + d->stride_w - 1) / d->stride_w;
        int hi = d->w - 1 - xoff < 0 ? 0 : (d->w - 1 - xoff) / d->stride_w + 1;
        if (hi > ow) hi = ow;
        if (lo > hi) lo = hi;
        int64_t p = p0;
        while (p < p1) {
            int oy = (int)(p / ow), x0 = (int)(p % ow);
            int x1 = (int)(p1 - p + x0 < ow ? p1 - p + x0 : ow);
            float *o = orow + (int64_t)oy * ow;
            int iy = oy * d->stride_h - d->pad_t + ky * d->dil_h;
            if (iy < 0 || iy >= d->h) {
                for (int x = x0; x < x1; x++) o[x] = 0.0f;
            } else {
                const float *row = plane + (int64_t)iy * d->w + xoff;
                int a0 = lo > x0 ? lo : x0, a1 = hi < x1 ? hi : x1;
                if (a1 < a0) a1 = a0;
                for (int x = x0; x < a0; x++) o[x] = 0.0f;
                if (d->stride_w == 1) memcpy(o + a0, row + a0, sizeof(float) * (a1 - a0));
                else if (d->stride_w == 2 && c->cfg->f32_gather2)
                    c->cfg->f32_gather2(o + a0, row + 2 * (int64_t)a0, a1 - a0);
                else for (int x = a0; x < a1; x++) o[x] = row[(int64_t)x * d->stride_w];
                for (int x = a1; x < x1; x++) o[x] = 0.0f;
            }
            p += x1 - x0;
        }
    }
}

static void im2col_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    gjob *j = vctx;
    int k0 = (int)task * j->krows;
    int k1 = k0 + j->krows < j->K ? k0 + j->krows : j->K;
    im2col_rows(j->c, j->img, k0, k1, 0, j->cols, j->col + (int64_t)k0 * j->ldb, j->ldb);
}

static void gemm_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    gjob *j = vctx;
    const qtop_sgemm_kernel *kern = j->c->kern;
    int MR = kern->mr, NR = kern->nr;
    int mt = (int)(task % j->mtiles), nt = (int)(task / j->mtiles);
    int i0 = mt * j->mtile, i1 = i0 + j->mtile < j->rows ? i0 + j->mtile : j->rows;
    int c0 = nt * j->ntile, c1 = c0 + j->ntile < j->cols ? c0 + j->ntile : j->cols;
    int act = j->c->d.act;
    const float *B = j->B;
    int64_t ldb = j->ldb, boff = 0;   /* column col of B is at B + col - boff */
    if (j->private_pack) {
        /* this task's column band of the im2col matrix, all K rows, packed locally */
        ldb = (c1 - c0 + 15) & ~15;
        float *bp = qtop__tls_scratch(sizeof(float) * (size_t)j->K * ldb);
        if (!bp) return;
        im2col_rows(j->c, j->img, 0, j->K, c0, c1, bp, ldb);
        B = bp;
        boff = c0;
    }
    float *pp = NULL;
    if (j->panel_pack) {
        int strips = (c1 - c0 + NR - 1) / NR;
        pp = qtop__tls_scratch(sizeof(float) * (size_t)j->K * strips * NR);
        if (!pp) return;
        for (int s = 0; s < strips; s++) {
            int n = c1 - c0 - s * NR < NR ? c1 - c0 - s * NR : NR;
            float *o = pp + (int64_t)s * j->K * NR;
            const float *src = j->B + c0 + s * NR;
            if (n == NR)
                for (int k = 0; k < j->K; k++, o += NR, src += j->ldb)
                    for (int i = 0; i < NR; i++) o[i] = src[i];
            else
                for (int k = 0; k < j->K; k++, o += NR, src += j->ldb) {
                    int i = 0;
                    for (; i < n; i++) o[i] = src[i];
                    for (; i < NR; i++) o[i] = 0.0f;
                }
        }
        ldb = NR;
    }
    for (int k0 = 0; k0 < j->K; k0 += KC) {
        int kc = j->K - k0 < KC ? j->K - k0 : KC;
        int last = k0 + kc >= j->K;
        for (int col = c0; col < c1; col += NR) {
            int nr = c1 - col < NR ? c1 - col : NR;
            if (j->prefetch_next && last && col + NR < c1)
                for (int i = i0; i < i1; i++) {
                    const float *cp = j->C + (int64_t)i * j->ldc + col + NR;
                    __builtin_prefetch(cp, 1, 3);
                    __builtin_prefetch(cp + NR - 1, 1, 3);
                    if (j->res) {
                        const float *rp = j->res + (int64_t)i * j->ldc + col + NR;
                        __builtin_prefetch(rp, 0, 3);
                        __builtin_prefetch(rp + NR - 1, 0, 3);
                    }
                }
            const float *bp = pp ? pp + (int64_t)((col - c0) / NR) * j->K * NR + (int64_t)k0 * NR
                                 : B + (int64_t)k0 * ldb + (col - boff);
            for (int i = i0; i < i1; i += MR) {
                int mr = i1 - i < MR ? i1 - i : MR;
                const float *ap = j->A + (int64_t)(i / MR) * j->K * MR + (int64_t)k0 * MR;
                float *C = j->C + (int64_t)i * j->ldc + col;
                qtop_sgemm_epi e = { j->bias + i, j->res ? j->res + (int64_t)i * j->ldc + col : NULL, act };
                kern->ukr(kc, ap, bp, ldb, C, j->ldc, k0 > 0, mr, nr, last ? &e : NULL);
            }
        }
    }
}

/* Small-plane task: one 64-channel panel, every pixel; T[p][64] accumulates over K blocks, then the epilogue writes
 * the NCHW rows. */
static void tmode_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    gjob *j = vctx;
    const qtop_fconv *c = j->c;
    int cols = j->cols, tiles = (cols + 6) / 7;
    float *T = qtop__tls_scratch(sizeof(float) * (size_t)tiles * 7 * 64);
    if (!T) return;
    const float *W = c->wpack + (int64_t)task * j->K * 64;
    for (int k0 = 0; k0 < j->K; k0 += KC) {
        int kc = j->K - k0 < KC ? j->K - k0 : KC;
        for (int t = 0; t < tiles; t++) {
            int np = cols - t * 7 < 7 ? cols - t * 7 : 7;
            j->c->cfg->f32_t7x64(kc, W + (int64_t)k0 * 64, j->B + (int64_t)k0 * j->ldb + t * 7, j->ldb, np,
                                     T + (int64_t)t * 7 * 64, k0 > 0);
        }
    }
    int act = c->d.act;
    for (int o = 0; o < 64; o++) {
        int oc = (int)task * 64 + o;
        float b = j->bias[oc];
        float *y = j->C + (int64_t)oc * j->ldc;
        const float *rr = j->res ? j->res + (int64_t)oc * j->ldc : NULL;
        for (int p = 0; p < cols; p++) {
            float v = T[(int64_t)p * 64 + o] + b;
            if (rr) v += rr[p];
            y[p] = act_f(v, act);
        }
    }
}

/* xmode packing: pixel panel `task` (MR output pixels) of the row-major [K][ldb] matrix B (the input plane itself for
 * a direct 1×1, else the im2col matrix) as [K][MR], pixels past the plane zero. */
static void xpack_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    gjob *j = vctx;
    int MR = j->c->kern->mr;
    int64_t p0 = task * MR;
    int n = j->cols - p0 < MR ? (int)(j->cols - p0) : MR;
    float *out = j->col + task * j->K * MR;
    const float *src = j->B + p0;
    if (n == MR) {
        for (int k = 0; k < j->K; k++, out += MR, src += j->ldb)
            for (int i = 0; i < MR; i++) out[i] = src[i];
    } else {
        for (int k = 0; k < j->K; k++, out += MR, src += j->ldb) {
            int i = 0;
            for (; i < n; i++) out[i] = src[i];
            for (; i < MR; i++) out[i] = 0.0f;
        }
    }
}

/* xmode GEMM task: pixel panels [mt·mtile, +mtile) × channel strips [nt·ntile, +ntile) (units of MR / NR) into a
 * per-thread T[pixel][oc] tile, K blocked so the weight panel (kc × NR) stays in L1 across the pixel panels; then
 * the epilogue act(acc + bias (+ residual)) stores the tile transposed into the NCHW rows. */
static void xgemm_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    gjob *j = vctx;
    const qtop_fconv *c = j->c;
    const qtop_sgemm_kernel *kern = c->kern;
    int MR = kern->mr, NR = kern->nr;
    int mt = (int)(task % j->mtiles), nt = (int)(task / j->mtiles);
    int panels = (j->cols + MR - 1) / MR, strips = (j->rows + NR - 1) / NR;
    int pa0 = mt * j->mtile, pa1 = pa0 + j->mtile < panels ? pa0 + j->mtile : panels;
    int sb0 = nt * j->ntile, sb1 = sb0 + j->ntile < strips ? sb0 + j->ntile : strips;
    int64_t ldt = (int64_t)(sb1 - sb0) * NR;
    float *T = qtop__tls_scratch(sizeof(float) * (size_t)((pa1 - pa0) * MR * ldt));
    if (!T) return;
    int kcb = 4096 / NR;   /* weight panel kc × NR floats = 16 KB */
    for (int k0 = 0; k0 < j->K; k0 += kcb) {
        int kc = j->K - k0 < kcb ? j->K - k0 : kcb;
        for (int sb = sb0; sb < sb1; sb++) {
            const float *bp = j->B + ((int64_t)sb * j->K + k0) * NR;
            for (int pa = pa0; pa < pa1; pa++)
                kern->ukr(kc, j->A + ((int64_t)pa * j->K + k0) * MR, bp, NR,
                          T + (int64_t)(pa - pa0) * MR * ldt + (int64_t)(sb - sb0) * NR, ldt, k0 > 0, MR, NR, NULL);
        }
    }
    int act = c->d.act;
    int o1 = sb1 * NR < j->rows ? sb1 * NR : j->rows;
    int64_t p0 = (int64_t)pa0 * MR, p1 = (int64_t)pa1 * MR < j->cols ? (int64_t)pa1 * MR : j->cols;
    for (int o = sb0 * NR; o < o1; o++) {
        float b = j->bias[o];
        float *y = j->C + (int64_t)o * j->ldc;
        const float *rr = j->res ? j->res + (int64_t)o * j->ldc : NULL;
        const float *t = T + (o - sb0 * NR);
        for (int64_t p = p0; p < p1; p++) {
            float v = t[(p - p0) * ldt] + b;
            if (rr) v += rr[p];
            y[p] = act_f(v, act);
        }
    }
}

/* xmode tiles: all pixel panels per task (the weights stream once) over up to 4 channel strips, split further
 * until every thread has a few tasks. */
static void plan_xtiles(gjob *j, int MR, int NR, int threads) {
    int panels = (j->cols + MR - 1) / MR, strips = (j->rows + NR - 1) / NR;
    int ns = strips / (4 * threads);
    if (ns < 1) ns = 1;
    if (ns > 4) ns = 4;
    int mp = panels;
    int64_t want = threads > 1 ? 3 * threads : 1;
    while ((int64_t)((strips + ns - 1) / ns) * ((panels + mp - 1) / mp) < want && mp > 1) mp = (mp + 1) / 2;
    j->ntile = ns;
    j->mtile = mp;
    j->mtiles = (panels + mp - 1) / mp;
}

/* Tile the [rows][cols] output so that every thread gets several tasks (the pool hands tasks out dynamically):
 * at most mp_max row panels × ns_max column strips per tile. */
static void plan_tiles(gjob *j, int MR, int NR, int threads, int mp_max, int ns_max) {
    int panels = (j->rows + MR - 1) / MR, strips = (j->cols + NR - 1) / NR;
    int mp = panels < mp_max ? panels : mp_max, ns = strips < ns_max ? strips : ns_max;
    int want = threads > 1 ? 8 * threads : 1;
    for (;;) {
        int64_t tasks = (int64_t)((panels + mp - 1) / mp) * ((strips + ns - 1) / ns);
        if (tasks >= want) break;
        if (mp > 2) mp = mp / 2;
        else if (ns > 1) ns = ns / 2;
        else if (mp > 1) mp = 1;
        else break;
    }
    j->mtile = mp * MR;
    j->ntile = ns * NR;
    j->mtiles = (j->rows + j->mtile - 1) / j->mtile;
}

void qtop_fconv_run(qtop_fconv *c, const float *src, float *dst, const float *residual, qtop_pool *pool) {
    const qtop_fconv_desc *d = &c->d;
    frun r = { c, src, dst, d->has_residual ? residual : NULL };
    if (c->dw) { qtop__fdw_run(c->fdw, src, dst, r.res, pool); return; }
    if (c->fdirect) { qtop__fdirect_run(c->fdirect, src, dst, c->bias, r.res, pool); return; }
    int64_t ohw = (int64_t)c->oh * c->ow, hw = (int64_t)d->h * d->w;
    int threads = qtop__pool_thread_bound(pool);
    float *col = NULL;
    int64_t ldb = ohw;
    /* per-task im2col column bands once the plane has 6 bands per thread; k×k convs already at 6 bands in all
     * (e.g. 28×28): the shared im2col matrix is then re-streamed from L3 by every row tile */
    int64_t band_min = (int64_t)c->kern->nr * 4 * 6 * (d->kh * d->kw > 1 ? 1 : threads);
    float *xcol = NULL;
    if (c->xmode) {
        int MR = c->kern->mr;
        xcol = xpack_scratch((size_t)((ohw + MR - 1) / MR) * MR * c->K);
        if (!xcol) return;
    }
    if (c->xmode && c->direct) {
        /* the pixel panels are packed straight from the input plane */
    } else if (!c->direct && (c->xmode || ohw < band_min)) {
        ldb = (ohw + 15) & ~(int64_t)15;
        col = col_scratch((size_t)c->K * ldb);
        if (!col) return;
    }
    for (int n = 0; n < d->n; n++)
        for (int g = 0; g < d->groups; g++) {
            const float *img = src + ((int64_t)n * d->ic + (int64_t)g * c->icg) * hw;
            int64_t off = ((int64_t)n * d->oc + (int64_t)g * c->ocg) * ohw;
            gjob j = { 0 };
            j.c = c;
            j.A = c->apack + g * c->agroup;
            j.bias = c->bias + (int64_t)g * c->ocg;
            j.res = r.res ? r.res + off : NULL;
            j.C = dst + off;
            j.ldc = ohw;
            j.rows = c->ocg; j.cols = (int)ohw; j.K = c->K;
            j.img = img;
            /* 1×1 stride 1: B is the input itself, never copied. Packing column bands for K ≥ 128 on large planes
             * cost as much as it saved and more when oc is small (one copy of the input per oc/MR row panels):
             * mv2 144>24 @56² avx2 30 → 49 GMAC/s, r50 256>64 @56² 2 threads 69 → 90 without it. */
            if (c->direct) {
                j.B = img; j.ldb = hw;
                if (!c->xmode && c->kern->pack_b && c->ocg >= PANEL_PACK_MIN_OC && c->K >= PANEL_PACK_MIN_K) {
                    j.panel_pack = 1;
                    j.ntile = c->kern->nr * 4;
                    j.mtile = j.rows;
                    j.mtiles = 1;
                    qtop_parallel_for(pool, (j.cols + j.ntile - 1) / j.ntile, gemm_task, &j);
                    continue;
                }
            }
            else if (!c->xmode && ohw >= band_min) {
                /* large output plane: column-band tasks over all rows, each packing its band (L2-resident) */
                j.private_pack = 1;
                j.ntile = c->kern->nr * 4;
                j.mtile = j.rows;
                j.mtiles = 1;
                qtop_parallel_for(pool, (j.cols + j.ntile - 1) / j.ntile, gemm_task, &j);
                continue;
            } else {
                j.col = col; j.B = col; j.ldb = ldb;
                j.krows = (int)((c->K + 8 * threads - 1) / (8 * threads));
                if (j.krows < 1) j.krows = 1;
                qtop_parallel_for(pool, (c->K + j.krows - 1) / j.krows, im2col_task, &j);
            }
            if (c->xmode) {
                int MR = c->kern->mr, panels = (int)((ohw + MR - 1) / MR);
                int strips = (c->ocg + c->kern->nr - 1) / c->kern->nr;
                j.col = xcol;
                qtop_parallel_for(pool, panels, xpack_task, &j);
                j.A = xcol;
                j.B = c->xpack + g * c->xgroup;
                plan_xtiles(&j, MR, c->kern->nr, threads);
                qtop_parallel_for(pool, (int64_t)j.mtiles * ((strips + j.ntile - 1) / j.ntile), xgemm_task, &j);
                continue;
            }
            if (c->tmode) { qtop_parallel_for(pool, c->ocg / 64, tmode_task, &j); continue; }
            if (c->direct && c->K <= SHORTK_MAX_K && ohw >= SHORTK_MIN_HW) {
                j.prefetch_next = 1;
                plan_tiles(&j, c->kern->mr, c->kern->nr, threads, 2, 16);
            } else
                plan_tiles(&j, c->kern->mr, c->kern->nr, threads, 8, 4);
            qtop_parallel_for(pool, (int64_t)j.mtiles * ((j.cols + j.ntile - 1) / j.ntile), gemm_task, &j);
        }
}

/* ================================================================== matmul / fc */

struct qtop_fmatmul {
    qtop_fmatmul_desc d;
    int isa;
    const qtop_sgemm_kernel *kern;
    float *bpack;      /* [ceil(n/NR)][k][NR] */
    float *bias;
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
    (void)MR;
    return m;
}

void qtop_fmatmul_destroy(qtop_fmatmul *m) {
    if (!m) return;
    free(m->bpack); free(m->bias);
    free(m);
}

typedef struct { qtop_fmatmul *m; float *dst; const float *res; int ntile, mtiles, mrows; const float *apack; } mrun;

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
                const float *ap = r->apack + ((int64_t)(i / MR) * d->k + k0) * MR;
                mm->kern->ukr(kc, ap, bp, NR, r->dst + (int64_t)i * d->n + j, d->n, k0 > 0, mr, nr, NULL);
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
    /* the caller's im2col scratch (grown once, kept per thread): no allocation per call */
    float *apack = col_scratch((size_t)((d->m + MR - 1) / MR) * MR * d->k);
    if (!apack) return;
    pack_a(x, d->k, d->m, d->k, MR, apack);
    mrun r = { m, dst, d->has_residual ? residual : NULL, 0, 0, 0, apack };
    /* row tiles of 8 MR panels (must be a multiple of MR), column tiles of 4 NR panels */
    r.mrows = MR * 8;
    r.mtiles = (d->m + r.mrows - 1) / r.mrows;
    r.ntile = NR * 4;
    qtop_parallel_for(pool, (int64_t)r.mtiles * ((d->n + r.ntile - 1) / r.ntile), fmm_task, &r);
}
