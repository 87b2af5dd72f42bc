/* fp32 NCHW pooling over windows precomputed by the caller (Paddle's window rules live in one place, Swift). */
#include "include/qtop_kernels.h"
#include <float.h>

typedef struct {
    const float *src;
    float *dst;
    int h, w, oh, ow, is_max;
    const int *rs, *re, *cs, *ce, *rdiv, *cdiv;
} fpool_job;

static void fpool_task(void *vctx, int64_t plane, int thread) {
    (void)thread;
    const fpool_job *j = vctx;
    const float *x = j->src + plane * (int64_t)j->h * j->w;
    float *y = j->dst + plane * (int64_t)j->oh * j->ow;
    for (int i = 0; i < j->oh; i++) {
        int r0 = j->rs[i], r1 = j->re[i];
        for (int q = 0; q < j->ow; q++) {
            int c0 = j->cs[q], c1 = j->ce[q];
            if (j->is_max) {
                float m = -FLT_MAX;
                for (int a = r0; a < r1; a++) {
                    const float *row = x + (int64_t)a * j->w;
                    for (int b = c0; b < c1; b++) { float v = row[b]; m = m > v ? m : v; }
                }
                y[(int64_t)i * j->ow + q] = m;
            } else {
                float s = 0.0f;
                for (int a = r0; a < r1; a++) {
                    const float *row = x + (int64_t)a * j->w;
                    for (int b = c0; b < c1; b++) s += row[b];
                }
                y[(int64_t)i * j->ow + q] = s / (float)(j->rdiv[i] * j->cdiv[q]);
            }
        }
    }
}

void qtop_fpool_nchw(const float *src, float *dst, int planes, int h, int w, int oh, int ow, const int *rs,
                     const int *re, const int *cs, const int *ce, const int *rdiv, const int *cdiv, int is_max,
                     qtop_pool *pool) {
    fpool_job j = { src, dst, h, w, oh, ow, is_max, rs, re, cs, ce, rdiv, cdiv };
    qtop_parallel_for(pool, planes, fpool_task, &j);
}
