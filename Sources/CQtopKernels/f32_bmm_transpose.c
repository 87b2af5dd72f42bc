/* transpose2 of 4-byte elements (the attention reshapes around the batched matmul: [B,S,3,H,D] → [3,B,H,S,D],
 * [B,H,S,D] → [B,S,H,D], Kᵀ). Dims of extent 1 are dropped and input dims that stay adjacent in the permutation
 * are merged first, so most permutations become either rows of a contiguous run (memcpy) or a 2-D transpose of
 * the input's last dim against the output's last dim, done in 8×8 blocks so both sides touch whole cache lines. */
#include "include/qtop_kernels.h"
#include <string.h>

#define TR_MAX_RANK 8
#define TR_BLOCK 8
#define TR_SERIAL 32768

typedef struct {
    int r;                        /* rank after merging */
    int64_t odim[TR_MAX_RANK];    /* output dims */
    int64_t sstride[TR_MAX_RANK]; /* input stride of each output dim */
    int64_t dstride[TR_MAX_RANK]; /* output stride of each output dim */
    int q;                        /* output position of the input's last dim (stride 1); r-1: rows mode */
    int64_t outer;                /* tasks' outer index count (output dims except q and r-1) */
    int64_t achunks;              /* chunks along the input's last dim per outer index (2-D mode) */
    int64_t achunk;
    const uint32_t *x;
    uint32_t *y;
} tr_job;

/* src / dst offsets of outer index `o` (every output dim except q and r-1, row-major). */
static void outer_offsets(const tr_job *j, int64_t o, int64_t *so, int64_t *dof) {
    int64_t s = 0, t = 0;
    for (int i = j->r - 2; i >= 0; i--) {
        if (i == j->q) continue;
        int64_t idx = o % j->odim[i];
        o /= j->odim[i];
        s += idx * j->sstride[i];
        t += idx * j->dstride[i];
    }
    *so = s;
    *dof = t;
}

static void rows_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const tr_job *j = vctx;
    int64_t L = j->odim[j->r - 1];
    int64_t per = (j->outer + j->achunks - 1) / j->achunks;   /* achunks = number of row chunks here */
    int64_t o0 = task * per, o1 = o0 + per < j->outer ? o0 + per : j->outer;
    for (int64_t o = o0; o < o1; o++) {
        int64_t so, dof;
        outer_offsets(j, o, &so, &dof);
        memcpy(j->y + dof, j->x + so, sizeof(uint32_t) * (size_t)L);
    }
}

static void block_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const tr_job *j = vctx;
    int64_t o = task / j->achunks, ac = task % j->achunks;
    int64_t so, dof;
    outer_offsets(j, o, &so, &dof);
    const int64_t A = j->odim[j->q], Bn = j->odim[j->r - 1];
    const int64_t dq = j->dstride[j->q], sp = j->sstride[j->r - 1];
    int64_t a0 = ac * j->achunk, a1 = a0 + j->achunk < A ? a0 + j->achunk : A;
    const uint32_t *x = j->x + so;
    uint32_t *y = j->y + dof;
    for (int64_t ab = a0; ab < a1; ab += TR_BLOCK) {
        int64_t ae = ab + TR_BLOCK < a1 ? ab + TR_BLOCK : a1;
        for (int64_t bb = 0; bb < Bn; bb += TR_BLOCK) {
            int64_t be = bb + TR_BLOCK < Bn ? bb + TR_BLOCK : Bn;
            if (ae - ab == TR_BLOCK && be - bb == TR_BLOCK) {
                for (int a = 0; a < TR_BLOCK; a++) {
                    uint32_t *d = y + (ab + a) * dq + bb;
                    const uint32_t *s = x + bb * sp + ab + a;
                    for (int b = 0; b < TR_BLOCK; b++) d[b] = s[b * sp];
                }
            } else {
                for (int64_t a = ab; a < ae; a++)
                    for (int64_t b = bb; b < be; b++) y[a * dq + b] = x[b * sp + a];
            }
        }
    }
}

int qtop_transpose_4b(const void *src, void *dst, int rank, const int64_t *dims, const int *perm, qtop_pool *pool) {
    if (rank < 0 || rank > TR_MAX_RANK) return 0;
    int seen[TR_MAX_RANK] = { 0 };
    int64_t total = 1;
    for (int i = 0; i < rank; i++) {
        if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]] || dims[i] <= 0) return 0;
        seen[perm[i]] = 1;
        total *= dims[i];
    }
    /* input dims without the extent-1 ones, renumbered; the permutation restricted to them */
    int keep[TR_MAX_RANK], newIndex[TR_MAX_RANK], nk = 0;
    for (int i = 0; i < rank; i++) {
        newIndex[i] = dims[i] == 1 ? -1 : nk;
        if (dims[i] != 1) keep[nk++] = i;
    }
    int64_t d1[TR_MAX_RANK];
    int p1[TR_MAX_RANK], np = 0;
    for (int i = 0; i < nk; i++) d1[i] = dims[keep[i]];
    for (int i = 0; i < rank; i++) if (newIndex[perm[i]] >= 0) p1[np++] = newIndex[perm[i]];
    /* merge input dims i, i+1 that follow each other in the permutation */
    int64_t d2[TR_MAX_RANK];
    int group[TR_MAX_RANK], ng = 0;    /* input dim → merged dim */
    for (int i = 0; i < nk; i++) {
        int follows = 0;
        if (i > 0)
            for (int t = 1; t < np; t++) if (p1[t] == i && p1[t - 1] == i - 1) follows = 1;
        if (follows) { group[i] = ng - 1; d2[ng - 1] *= d1[i]; }
        else { group[i] = ng; d2[ng++] = d1[i]; }
    }
    int p2[TR_MAX_RANK], r = 0;
    for (int t = 0; t < np; t++) {
        int g = group[p1[t]];
        if (r == 0 || p2[r - 1] != g) p2[r++] = g;
    }
    if (r <= 1 || total == 0) {
        memcpy(dst, src, sizeof(uint32_t) * (size_t)total);
        return 1;
    }
    tr_job j;
    memset(&j, 0, sizeof j);
    j.r = r;
    j.x = src;
    j.y = dst;
    int64_t istride[TR_MAX_RANK], acc = 1;
    for (int i = r - 1; i >= 0; i--) { istride[i] = acc; acc *= d2[i]; }
    acc = 1;
    for (int t = r - 1; t >= 0; t--) {
        j.odim[t] = d2[p2[t]];
        j.sstride[t] = istride[p2[t]];
        j.dstride[t] = acc;
        acc *= j.odim[t];
        if (p2[t] == r - 1) j.q = t;
    }
    if (total < TR_SERIAL) pool = NULL;   /* a thread wake-up costs more than moving these few bytes */
    int threads = qtop_pool_threads(pool);
    if (j.q == r - 1) {
        /* the input's last dim stays last: rows of a contiguous run */
        j.outer = total / j.odim[r - 1];
        int64_t chunks = threads > 1 ? 4 * (int64_t)threads : 1;
        if (chunks > j.outer) chunks = j.outer;
        j.achunks = chunks;
        int64_t per = (j.outer + chunks - 1) / chunks;
        qtop_parallel_for(pool, (j.outer + per - 1) / per, rows_task, &j);
        return 1;
    }
    j.outer = total / (j.odim[j.q] * j.odim[r - 1]);
    int64_t A = j.odim[j.q];
    int64_t want = threads > 1 ? 4 * (int64_t)threads : 1;
    int64_t split = (want + j.outer - 1) / j.outer;
    int64_t maxSplit = (A + TR_BLOCK - 1) / TR_BLOCK;
    if (split > maxSplit) split = maxSplit;
    if (split < 1) split = 1;
    j.achunk = ((A + split - 1) / split + TR_BLOCK - 1) / TR_BLOCK * TR_BLOCK;
    j.achunks = (A + j.achunk - 1) / j.achunk;
    qtop_parallel_for(pool, j.outer * j.achunks, block_task, &j);
    return 1;
}
