/* fp32 batched matmul of two activations (matmul_v2 of attention: Q·Kᵀ, softmax(·)·V): per output matrix
 * C[m][n] = alpha · op(X)[m][k] · op(Y)[k][n], op = optional transpose. Both operands change every run, so nothing
 * is packed at plan time: each task packs its row block of X into the GEMM's A-panel layout and, only when Y is
 * transposed, its column block of Y into rows; an untransposed Y is read in place (the microkernel takes a row
 * stride). The microkernel and its tile sizes come from the ISA's config row (f32_gemm), as for conv and fc. */
#include "isa_config.h"
#include <stdio.h>
#include <string.h>

#define BMM_KC 256
#define BMM_SERIAL_MACS 32768
#define WHY(...) do { if (why && why_len) snprintf(why, why_len, __VA_ARGS__); } while (0)

int qtop_fbmm_query(const qtop_fbmm_desc *d, int isa, int cap, char *why, size_t why_len) {
    if (why && why_len) why[0] = 0;
    if (!d || d->batch <= 0 || d->m <= 0 || d->k <= 0 || d->n <= 0) { WHY("invalid batched matmul shape"); return 0; }
    if (isa < 0 || isa >= QTOP_ISA_COUNT) { WHY("unknown isa"); return 0; }
    const qtop_isa_config *cfg = qtop__isa_config(isa);
    if (!cfg) { WHY("%s: not in this build", qtop_isa_name(isa)); return 0; }
    if (!cfg->f32_gemm) { WHY("%s: no fp32 GEMM kernel at this level", qtop_isa_name(isa)); return 0; }
    if (!((qtop_cpu_isa_mask() >> isa) & 1)) { WHY("%s: cpu lacks %s", qtop_isa_name(isa), qtop_isa_name(isa)); return 0; }
    if (isa > cap) { WHY("%s: capped by --isa %s", qtop_isa_name(isa), qtop_isa_name(cap)); return 0; }
    return 1;
}

typedef struct {
    qtop_fbmm_desc d;
    const qtop_sgemm_kernel *kern;
    const float *x, *y;
    float *out;
    const int64_t *xoff, *yoff;
    int rtile, ctile, mtiles, ntiles;
} bmm_job;

/* Rows [i0, i1) of op(X) (all k) → [ceil((i1-i0)/MR)][k][MR], zero-padded. */
static void pack_rows(const float *X, int trans, int m, int k, int i0, int i1, int MR, float *out) {
    for (int p = 0; i0 + p * MR < i1; p++) {
        float *o = out + (int64_t)p * k * MR;
        int r0 = i0 + p * MR, rows = i1 - r0 < MR ? i1 - r0 : MR;
        if (trans) {
            /* X is [k][m]: row i of op(X) is column i */
            for (int kk = 0; kk < k; kk++) {
                const float *src = X + (int64_t)kk * m + r0;
                float *dst = o + (int64_t)kk * MR;
                int i = 0;
                for (; i < rows; i++) dst[i] = src[i];
                for (; i < MR; i++) dst[i] = 0.0f;
            }
        } else {
            for (int i = 0; i < MR; i++) {
                if (i < rows) {
                    const float *src = X + (int64_t)(r0 + i) * k;
                    for (int kk = 0; kk < k; kk++) o[(int64_t)kk * MR + i] = src[kk];
                } else {
                    for (int kk = 0; kk < k; kk++) o[(int64_t)kk * MR + i] = 0.0f;
                }
            }
        }
    }
}

static void bmm_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const bmm_job *j = vctx;
    const qtop_fbmm_desc *d = &j->d;
    const int MR = j->kern->mr, NR = j->kern->nr;
    const int m = d->m, k = d->k, n = d->n;
    int64_t per = (int64_t)j->mtiles * j->ntiles;
    int b = (int)(task / per), t = (int)(task % per);
    int mt = t % j->mtiles, nt = t / j->mtiles;
    int i0 = mt * j->rtile, i1 = i0 + j->rtile < m ? i0 + j->rtile : m;
    int c0 = nt * j->ctile, c1 = c0 + j->ctile < n ? c0 + j->ctile : n;
    const float *X = j->x + (j->xoff ? j->xoff[b] : b) * (int64_t)m * k;
    const float *Y = j->y + (j->yoff ? j->yoff[b] : b) * (int64_t)k * n;
    float *C = j->out + (int64_t)b * m * n;
    int panels = (i1 - i0 + MR - 1) / MR;
    size_t abytes = sizeof(float) * (size_t)panels * MR * k;
    int64_t ldb = n;
    size_t bbytes = 0;
    if (d->trans_y) {
        ldb = (c1 - c0 + 15) & ~15;
        bbytes = sizeof(float) * (size_t)ldb * k;
    }
    float *scratch = qtop__tls_scratch(abytes + bbytes + 64);
    if (!scratch) return;
    float *ap = scratch;
    pack_rows(X, d->trans_x, m, k, i0, i1, MR, ap);
    const float *B;
    int64_t boff;   /* column c of op(Y) is at B + c - boff within a row */
    if (d->trans_y) {
        /* Y is [n][k]: op(Y) column c is row c of Y → rows of the packed block */
        float *bp = scratch + (abytes + 63) / sizeof(float) / 16 * 16;
        for (int c = c0; c < c1; c++) {
            const float *src = Y + (int64_t)c * k;
            for (int kk = 0; kk < k; kk++) bp[(int64_t)kk * ldb + (c - c0)] = src[kk];
        }
        B = bp;
        boff = c0;
    } else {
        B = Y;
        boff = 0;
    }
    for (int k0 = 0; k0 < k; k0 += BMM_KC) {
        int kc = k - k0 < BMM_KC ? k - k0 : BMM_KC;
        for (int col = c0; col < c1; col += NR) {
            int nr = c1 - col < NR ? c1 - col : NR;
            const float *bp = B + (int64_t)k0 * ldb + (col - boff);
            for (int i = i0; i < i1; i += MR) {
                int mr = i1 - i < MR ? i1 - i : MR;
                const float *a = ap + (int64_t)((i - i0) / MR) * k * MR + (int64_t)k0 * MR;
                j->kern->ukr(kc, a, bp, ldb, C + (int64_t)i * n + col, n, k0 > 0, mr, nr, NULL);
            }
        }
    }
    if (d->alpha != 1.0f)
        for (int i = i0; i < i1; i++)
            for (int c = c0; c < c1; c++) C[(int64_t)i * n + c] *= d->alpha;
}

int qtop_fbmm_run(const qtop_fbmm_desc *d, int isa, const float *x, const float *y, float *out, const int64_t *xoff,
                  const int64_t *yoff, qtop_pool *pool) {
    if (!qtop_fbmm_query(d, isa, isa, NULL, 0)) return 0;
    bmm_job j = { 0 };
    j.d = *d;
    j.kern = qtop__isa_config(isa)->f32_gemm;
    j.x = x; j.y = y; j.out = out; j.xoff = xoff; j.yoff = yoff;
    const int MR = j.kern->mr, NR = j.kern->nr;
    if ((int64_t)d->batch * d->m * d->n * d->k < BMM_SERIAL_MACS) pool = NULL;   /* not worth a wake-up */
    int threads = qtop__pool_thread_bound(pool);
    /* start from blocks of 4 row panels × 8 column strips; halve rows, then columns, until every thread has a few
     * tasks (attention: one batch per head, often a few hundred rows × as many columns) */
    int rp = 4, cs = 8;
    int panels = (d->m + MR - 1) / MR, strips = (d->n + NR - 1) / NR;
    if (rp > panels) rp = panels;
    if (cs > strips) cs = strips;
    int64_t want = threads > 1 ? 4 * (int64_t)threads : 1;
    for (;;) {
        int64_t tasks = (int64_t)d->batch * ((panels + rp - 1) / rp) * ((strips + cs - 1) / cs);
        if (tasks >= want) break;
        if (rp > 1) rp = (rp + 1) / 2;
        else if (cs > 1) cs = (cs + 1) / 2;
        else break;
    }
    j.rtile = rp * MR;
    j.ctile = cs * NR;
    j.mtiles = (d->m + j.rtile - 1) / j.rtile;
    j.ntiles = (d->n + j.ctile - 1) / j.ctile;
    qtop_parallel_for(pool, (int64_t)d->batch * j.mtiles * j.ntiles, bmm_task, &j);
    return 1;
}
