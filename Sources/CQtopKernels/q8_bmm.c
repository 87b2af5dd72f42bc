/* qbmm: the int8 batched matmul of two activations (attention's Q·Kᵀ and softmax·V when Paddle's PTQ put a
 * per-tensor fake-quantize on both operands). Each operand is quantized exactly as a `quantize` node would
 * (q = saturate(rint(x · (127 / S))) into s8, NaN → 0), the products are summed exactly in int32, and the output is
 * Float(acc) · ((S_x / 127) · (S_y / 127)) — one rounding, the same bits at every ISA. The fused quantization keeps
 * the operands in their own (plain row-major) layout, so no NHWC reorder and no dequantize round trip is needed.
 *
 * The integer products run on the ISA row's s16 GEMM microkernel (vpmaddwd: s8 × s8 pairs never saturate), the
 * generic row on the scalar loop; a level without an s16 kernel (avx512_vnni) is served by the level below it.
 * Each task quantizes its rows of op(X) and all of op(Y) of its batch into the kernel's packing. */
#include "isa_config.h"
#include <stdio.h>
#pragma STDC FP_CONTRACT OFF
#include <string.h>

#define WHY(...) do { if (why && why_len) snprintf(why, why_len, __VA_ARGS__); } while (0)
#define QBMM_MIN_RT 24        /* fewest rows per task (row blocks are multiples of every s16 kernel's MR = 6) */
#define QBMM_SERIAL_MACS 32768
#define QBMM_MAX_K 65536      /* |acc| ≤ K · 128² < 2^31 */

int qtop_qbmm_query(const qtop_qbmm_desc *d, int isa, int cap, char *why, size_t why_len) {
    if (why && why_len) why[0] = 0;
    if (!d || d->batch <= 0 || d->m <= 0 || d->k <= 0 || d->n <= 0) { WHY("invalid batched matmul shape"); return 0; }
    if (d->k > QBMM_MAX_K) { WHY("K = %d > %d: the int32 sum could overflow", d->k, QBMM_MAX_K); return 0; }
    if (!(d->x_range > 0) || !(d->y_range > 0) || d->x_range > 3.0e38f || d->y_range > 3.0e38f) {
        WHY("ranges must be positive and finite"); return 0;
    }
    if (isa < 0 || isa >= QTOP_ISA_COUNT) { WHY("unknown isa"); return 0; }
    if (!qtop__isa_config(isa)) { WHY("%s: not in this build", qtop_isa_name(isa)); return 0; }
    if (!((qtop_cpu_isa_mask() >> isa) & 1)) { WHY("%s: cpu lacks %s", qtop_isa_name(isa), qtop_isa_name(isa)); return 0; }
    if (isa > cap) { WHY("%s: capped by --isa %s", qtop_isa_name(isa), qtop_isa_name(cap)); return 0; }
    if (isa != QTOP_ISA_GENERIC && !qtop__isa_config(isa)->q8_s16) { WHY("%s: no s16 GEMM kernel", qtop_isa_name(isa)); return 0; }
    return 1;
}

typedef struct {
    qtop_qbmm_desc d;
    const qtop_q8_gemm_kernel *gk;   /* NULL: scalar */
    qtop_q8_quant_row_fn quant;      /* the row's contiguous quantize (bit-exact at every level) */
    const float *x, *y;
    float *out;
    const int64_t *xoff, *yoff;
    int rt, mtiles, kp, nblk;
    float inv_x, inv_y, scale;
} qbmm_job;

#define ALIGN64(b) (((b) + 63) & ~(size_t)63)

static void qbmm_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const qbmm_job *j = vctx;
    const qtop_qbmm_desc *d = &j->d;
    const int m = d->m, k = d->k, n = d->n, kp = j->kp, nblk = j->nblk;
    int b = (int)(task / j->mtiles), i0 = (int)(task % j->mtiles) * j->rt;
    int i1 = i0 + j->rt < m ? i0 + j->rt : m, rows = i1 - i0;
    const float *X = j->x + (j->xoff ? j->xoff[b] : b) * (int64_t)m * k;
    const float *Y = j->y + (j->yoff ? j->yoff[b] : b) * (int64_t)k * n;
    float *C = j->out + (int64_t)b * m * n;
    /* scratch: s8 op(X) rows (all of X when transposed) | s8 Y | A [rows][kp] s16 | W [nblk][kp/2][16][2] s16 |
     * tile [6][64] int32 */
    size_t xqb = ALIGN64((size_t)(d->trans_x ? m : rows) * k), yqb = ALIGN64((size_t)k * n);
    size_t ab = ALIGN64(sizeof(int16_t) * (size_t)rows * kp), wb = ALIGN64(sizeof(int16_t) * (size_t)nblk * 16 * kp);
    uint8_t *s = qtop__tls_scratch(xqb + yqb + ab + wb + sizeof(int32_t) * Q8_MR * 64);
    if (!s) return;
    int8_t *xq = (int8_t *)s, *yq = (int8_t *)(s + xqb);
    int16_t *A = (int16_t *)(s + xqb + yqb), *W = (int16_t *)(s + xqb + yqb + ab);
    int32_t *tile = (int32_t *)(s + xqb + yqb + ab + wb);
    /* quantize: contiguous runs through the row kernel (one "pixel" of C values) */
    if (d->trans_x) j->quant(X, 1, 1, m * k, xq, 1, j->inv_x);
    else j->quant(X + (int64_t)i0 * k, 1, 1, rows * k, xq, 1, j->inv_x);
    j->quant(Y, 1, 1, k * n, yq, 1, j->inv_y);
    for (int i = 0; i < rows; i++) {
        int16_t *a = A + (int64_t)i * kp;
        if (d->trans_x) for (int kk = 0; kk < k; kk++) a[kk] = xq[(int64_t)kk * m + i0 + i];
        else for (int kk = 0; kk < k; kk++) a[kk] = xq[(int64_t)i * k + kk];
        for (int kk = k; kk < kp; kk++) a[kk] = 0;
    }
    /* op(Y)[kk][c] → W[c/16][kk/2][c%16][kk%2]; padding columns and the odd k row are 0 */
    const int64_t bstride = (int64_t)kp * 16;
    memset(W, 0, sizeof(int16_t) * (size_t)nblk * bstride);
    for (int kk = 0; kk < k; kk++) {
        int16_t *wr = W + (int64_t)(kk / 2) * 32 + (kk % 2);
        if (d->trans_y)
            for (int c = 0; c < n; c++) wr[(int64_t)(c / 16) * bstride + (c % 16) * 2] = yq[(int64_t)c * k + kk];
        else
            for (int c = 0; c < n; c++) wr[(int64_t)(c / 16) * bstride + (c % 16) * 2] = yq[(int64_t)kk * n + c];
    }
    if (!j->gk) {
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < n; c++) {
                const int16_t *a = A + (int64_t)i * kp, *w = W + (int64_t)(c / 16) * bstride + (c % 16) * 2;
                int32_t acc = 0;
                for (int kk = 0; kk < kp; kk++) acc += (int32_t)a[kk] * w[(int64_t)(kk / 2) * 32 + (kk % 2)];
                C[(int64_t)(i0 + i) * n + c] = (float)acc * j->scale;
            }
        return;
    }
    const int MR = j->gk->mr, NB = j->gk->nbmax;
    for (int i = 0; i < rows; i += MR) {
        int mr = rows - i < MR ? rows - i : MR;
        for (int blk = 0; blk < nblk; blk += NB) {
            int nb = nblk - blk < NB ? nblk - blk : NB;
            j->gk->fn(A + (int64_t)i * kp, kp, mr, W + (int64_t)blk * bstride, bstride, nb, kp / 2, 0, tile);
            int c0 = blk * 16, cnt = n - c0 < nb * 16 ? n - c0 : nb * 16;
            for (int r = 0; r < mr; r++) {
                float *o = C + (int64_t)(i0 + i + r) * n + c0;
                const int32_t *t = tile + r * 64;
                for (int c = 0; c < cnt; c++) o[c] = (float)t[c] * j->scale;
            }
        }
    }
}

int qtop_qbmm_run(const qtop_qbmm_desc *d, int isa, const float *x, const float *y, float *out, const int64_t *xoff,
                  const int64_t *yoff, qtop_pool *pool) {
    if (!qtop_qbmm_query(d, isa, isa, NULL, 0)) return 0;
    qbmm_job j;
    memset(&j, 0, sizeof j);
    j.d = *d;
    const qtop_isa_config *cfg = qtop__isa_config(isa);
    j.gk = cfg->q8_s16;   /* NULL at generic: the scalar loop */
    j.quant = cfg->q8_quant_row ? cfg->q8_quant_row : qtop__q8_quant_row_generic;
    j.x = x; j.y = y; j.out = out; j.xoff = xoff; j.yoff = yoff;
    j.kp = (d->k + 1) & ~1;
    j.nblk = (d->n + 15) / 16;
    /* one task per matrix when that gives every thread a few (attention: one per head), else row blocks; each task
     * quantizes its matrix of op(Y) once. Small products run on the calling thread (a wake-up costs more). */
    int64_t macs = (int64_t)d->batch * d->m * d->n * d->k;
    if (macs < QBMM_SERIAL_MACS) pool = NULL;
    int threads = qtop__pool_thread_bound(pool);
    int64_t want = threads > 1 ? 4 * (int64_t)threads : 1;
    int64_t per = (want + d->batch - 1) / d->batch;
    int rt = (int)((d->m + per - 1) / per);
    rt = (rt + 5) / 6 * 6;
    if (rt < QBMM_MIN_RT) rt = QBMM_MIN_RT;
    j.rt = rt;
    j.mtiles = (d->m + rt - 1) / rt;
    j.inv_x = 127.0f / d->x_range;
    j.inv_y = 127.0f / d->y_range;
    j.scale = (d->x_range / 127.0f) * (d->y_range / 127.0f);
    qtop_parallel_for(pool, (int64_t)d->batch * j.mtiles, qbmm_task, &j);
    return 1;
}
