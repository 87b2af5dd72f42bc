/* Microbenchmark of the int8 GEMM convolutions (q8_conv.c's driver + the GEMM microkernels) on ResNet50's 1x1 / 3x3
 * layers at 224x224 and the OCR det model's 1x1 layers at 640x640, through the public API: best of many runs of
 * thread CPU time (the machine may be shared), serial or on a pool of THREADS threads (then wall time).
 * Not part of the test suite. Build and run: bench/kernels/q8_gemm.sh [isa-number [name-substring]]
 * KERNELS=dir builds against another copy of CQtopKernels (an A/B against main). */
#include "include/qtop_kernels.h"
#include "bench_common.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double bench_clock(int wall) {
    struct timespec t;
    clock_gettime(wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* out: 0 u8 + relu, 1 s8 + hard_swish, 2 f32 + f32 residual + u8 second output (ResNet's bottleneck tail) */
typedef struct { const char *name; int hw, ic, oc, k, s, src_dt, out; } shape;

#define U8 QTOP_DT_U8
#define S8 QTOP_DT_S8

static const shape shapes[] = {
    { "r50 3x3 64 @56", 56, 64, 64, 3, 1, U8, 0 },
    { "r50 3x3 128 s2 @56", 56, 128, 128, 3, 2, U8, 0 },
    { "r50 3x3 128 @28", 28, 128, 128, 3, 1, U8, 0 },
    { "r50 3x3 256 s2 @28", 28, 256, 256, 3, 2, U8, 0 },
    { "r50 3x3 256 @14", 14, 256, 256, 3, 1, U8, 0 },
    { "r50 3x3 512 s2 @14", 14, 512, 512, 3, 2, U8, 0 },
    { "r50 3x3 512 @7", 7, 512, 512, 3, 1, U8, 0 },
    { "r50 1x1 64>64 @56", 56, 64, 64, 1, 1, U8, 0 },
    { "r50 1x1 256>64 @56", 56, 256, 64, 1, 1, U8, 0 },
    { "r50 1x1 64>256 res @56", 56, 64, 256, 1, 1, U8, 2 },
    { "r50 1x1 256>128 @56", 56, 256, 128, 1, 1, U8, 0 },
    { "r50 1x1 512>128 @28", 28, 512, 128, 1, 1, U8, 0 },
    { "r50 1x1 128>512 res @28", 28, 128, 512, 1, 1, U8, 2 },
    { "r50 1x1 512>256 @28", 28, 512, 256, 1, 1, U8, 0 },
    { "r50 1x1 1024>256 @14", 14, 1024, 256, 1, 1, U8, 0 },
    { "r50 1x1 256>1024 res @14", 14, 256, 1024, 1, 1, U8, 2 },
    { "r50 1x1 2048>512 @7", 7, 2048, 512, 1, 1, U8, 0 },
    { "r50 1x1 512>2048 res @7", 7, 512, 2048, 1, 1, U8, 2 },
    { "r50 1x1 256>512 s2 @56", 56, 256, 512, 1, 2, U8, 2 },
    { "r50 1x1 1024>2048 s2 @14", 14, 1024, 2048, 1, 2, U8, 2 },
    { "det 1x1 56>336 @40", 40, 56, 336, 1, 1, S8, 1 },
    { "det 1x1 96>24 @160", 160, 96, 24, 1, 1, U8, 0 },
    { "det 1x1 24>96 @160", 160, 24, 96, 1, 1, U8, 0 },
    { "det 1x1 80>480 @20", 20, 80, 480, 1, 1, S8, 1 },
    { "det 1x1 480>120 @20", 20, 480, 120, 1, 1, S8, 0 },
    { "det 1x1 120>480 @20", 20, 120, 480, 1, 1, U8, 1 },
    { "det 1x1 336>84 @40", 40, 336, 84, 1, 1, S8, 0 },
    { "det 1x1 16>96 @160", 160, 16, 96, 1, 1, S8, 1 },
    { "det 1x1 16>40 @160", 160, 16, 40, 1, 1, U8, 0 },
    { "det 1x1 480>80 @20", 20, 480, 80, 1, 1, S8, 1 },
    { "det 1x1 24>96 @80", 80, 24, 96, 1, 1, U8, 1 },
    { "det 1x1 8>32 @320", 320, 8, 32, 1, 1, U8, 0 },
    { "det 1x1 240>60 @40", 40, 240, 60, 1, 1, S8, 0 },
    { "det 1x1 64>24 @80", 80, 64, 24, 1, 1, U8, 0 },
    { "det 1x1 40>16 @160", 160, 40, 16, 1, 1, U8, 0 },
};

/* Q8GEMM_COLD=1: before every timed run evict the caches (write a buffer larger than L3) and re-read the input,
 * as inside a model, where a layer's weights were last touched an inference ago and its input was just written. */

static double bench(int isa, const shape *sh, qtop_pool *pool) {
    qtop_qconv_desc d = {0};
    d.n = 1; d.h = d.w = sh->hw; d.ic = sh->ic; d.oc = sh->oc; d.kh = d.kw = sh->k; d.groups = 1;
    d.stride_h = d.stride_w = sh->s; d.pad_t = d.pad_b = d.pad_l = d.pad_r = sh->k / 2; d.dil_h = d.dil_w = 1;
    d.src_dt = sh->src_dt; d.in_range = 4; d.out_range = 4; d.res_dt = QTOP_DT_NONE;
    if (sh->out == 0) { d.dst_dt = U8; d.act = QTOP_ACT_RELU; }
    else if (sh->out == 1) { d.dst_dt = S8; d.act = QTOP_ACT_HARD_SWISH; }
    else { d.dst_dt = QTOP_DT_F32; d.res_dt = QTOP_DT_F32; d.act = QTOP_ACT_RELU; d.has_q2 = 1; d.q2_dt = U8; d.q2_range = 4; }
    if (!qtop_qconv_query(&d, isa, isa, NULL, 0)) return 0;
    int K = sh->k * sh->k * sh->ic;
    int8_t *w = malloc((size_t)sh->oc * K);
    for (int i = 0; i < sh->oc * K; i++) w[i] = (int8_t)((i * 37) % 255 - 127);
    float *r = malloc(sizeof(float) * sh->oc), *b = malloc(sizeof(float) * sh->oc);
    for (int i = 0; i < sh->oc; i++) { r[i] = 1; b[i] = (float)(i % 5) - 2; }
    qtop_qconv *c = qtop_qconv_create(&d, w, r, b, isa);
    int oh = qtop_qconv_out_h(&d), ow = qtop_qconv_out_w(&d);
    size_t nsrc = (size_t)sh->hw * sh->hw * sh->ic, nout = (size_t)oh * ow * sh->oc;
    uint8_t *src = malloc(nsrc), *dst = malloc(nout * 4), *dst2 = malloc(nout);
    float *res = malloc(nout * 4);
    for (size_t i = 0; i < nsrc; i++) src[i] = (uint8_t)(i * 13 % 128);
    for (size_t i = 0; i < nout; i++) res[i] = (float)(i % 7) - 3.0f;
    double macs = (double)oh * ow * sh->oc * K, best = 1e9;
    const char *fixed = getenv("Q8GEMM_REPS");
    const int reps = fixed ? atoi(fixed) : (int)(4e9 / macs) + 5;
    const int wall = pool != NULL;
    const char *ce = getenv("Q8GEMM_COLD");
    const int cold = ce && *ce == '1';
    for (int rep = 0; rep < (cold ? reps / 8 + 3 : reps); rep++) {
        if (cold) bench_evict(src, nsrc);
        double t0 = bench_clock(wall);
        qtop_qconv_run2(c, src, dst, sh->out == 2 ? dst2 : NULL, sh->out == 2 ? res : NULL, pool);
        double t = bench_clock(wall) - t0;
        if (t < best) best = t;
    }
    printf("  %-12s %-26s %-3s %8.4f ms %6.1f GMAC/s\n", qtop_isa_name(isa), sh->name,
           sh->src_dt == U8 ? "u8" : "s8", best * 1e3, macs / best * 1e-9);
    fflush(stdout);
    qtop_qconv_destroy(c);
    free(w); free(r); free(b); free(src); free(dst); free(dst2); free(res);
    return best;
}

int main(int argc, char **argv) {
    int only = argc > 1 ? atoi(argv[1]) : -1;
    const char *filter = argc > 2 ? argv[2] : NULL;
    const char *th = getenv("THREADS");
    qtop_pool *pool = th && atoi(th) > 1 ? qtop_pool_create(atoi(th)) : NULL;
    uint32_t have = qtop_cpu_isa_mask() & qtop_compiled_isa_mask();
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int isa = QTOP_ISA_AVX512_VNNI; isa >= QTOP_ISA_AVX2; isa--)
            if ((have >> isa) & 1 && (only < 0 || only == isa) && (!filter || strstr(shapes[i].name, filter)))
                bench(isa, &shapes[i], pool);
    if (pool) qtop_pool_destroy(pool);
    return 0;
}
