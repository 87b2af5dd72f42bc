/* qtop_act_apply_f32: the int8 epilogue's activations (q8_act.h) over a float tensor, for float kernels whose own
 * epilogue lacks them (applied after the kernel; same scalar definitions). */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#include "include/qtop_kernels.h"
#include "q8_act.h"

typedef struct { float *y; int64_t n; int act; float alpha, beta; } act_job;

#define ACT_CHUNK 16384

static void act_task(void *vctx, int64_t task, int thread) {
    (void)thread;
    const act_job *j = vctx;
    int64_t i0 = task * ACT_CHUNK, i1 = i0 + ACT_CHUNK < j->n ? i0 + ACT_CHUNK : j->n;
    float *y = j->y;
    for (int64_t i = i0; i < i1; i++) {
        float v = y[i];
        switch (j->act) {
        case QTOP_ACT_RELU: v = v > 0 ? v : 0.0f; break;
        case QTOP_ACT_RELU6: v = v > 0 ? v : 0.0f; v = v < 6.0f ? v : 6.0f; break;
        case QTOP_ACT_HARD_SWISH: {
            float t = v + 3.0f;
            t = t > 0 ? t : 0.0f;
            t = t < 6.0f ? t : 6.0f;
            v = v * (t * (1.0f / 6.0f));
            break;
        }
        case QTOP_ACT_SIGMOID: v = q8_sigmoid(v); break;
        case QTOP_ACT_HARD_SIGMOID: v = q8_hard_sigmoid(v, j->alpha, j->beta); break;
        case QTOP_ACT_SWISH: v = q8_swish(v); break;
        default: break;
        }
        y[i] = v;
    }
}

void qtop_act_apply_f32(float *y, int64_t n, int act, float alpha, float beta, qtop_pool *pool) {
    if (n <= 0 || act == QTOP_ACT_NONE) return;
    act_job j = { y, n, act, alpha, beta };
    qtop_parallel_for(pool, (n + ACT_CHUNK - 1) / ACT_CHUNK, act_task, &j);
}
