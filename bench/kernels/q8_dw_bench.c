/* Single-core microbenchmark of int8 depthwise convolution (q8_dw_x86.c through q8_conv.c's driver) on every
 * depthwise layer shape of mobilenet_v3_large and mobilenet_v2 at 224x224 and the OCR det model at 640x640 (with each layer's input type, fused
 * activation and output type as qtop lowers them), through the public API, serial; best of many runs of thread CPU
 * time (the machine may be shared). Not part of the test suite. Build and run: bench/kernels/q8_dw.sh [isa-number [name-substring]] */
#include "include/qtop_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* this thread's CPU time: on a machine shared by many processes, time spent descheduled does not count */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct { const char *name; int hw, c, k, s, src_dt, act, dst_dt; } shape;

static double bench(int isa, const shape *sh, int quiet) {
    qtop_qconv_desc d = {0};
    d.n = 1; d.h = d.w = sh->hw; d.ic = d.oc = d.groups = sh->c; d.kh = d.kw = sh->k;
    d.stride_h = d.stride_w = sh->s; d.pad_t = d.pad_b = d.pad_l = d.pad_r = sh->k / 2; d.dil_h = d.dil_w = 1;
    d.src_dt = sh->src_dt; d.dst_dt = sh->dst_dt; d.res_dt = QTOP_DT_NONE; d.act = sh->act;
    d.in_range = 4; d.out_range = 4;
    if (!qtop_qconv_query(&d, isa, isa, NULL, 0)) return 0;
    int K = sh->k * sh->k;
    int8_t *w = malloc((size_t)sh->c * K);
    for (int i = 0; i < sh->c * K; i++) w[i] = (int8_t)((i * 37) % 255 - 127);
    float *r = malloc(sizeof(float) * sh->c), *b = malloc(sizeof(float) * sh->c);
    for (int i = 0; i < sh->c; i++) { r[i] = 1; b[i] = (float)(i % 5) - 2; }
    qtop_qconv *c = qtop_qconv_create(&d, w, r, b, isa);
    int oh = qtop_qconv_out_h(&d), ow = qtop_qconv_out_w(&d);
    size_t nsrc = (size_t)sh->hw * sh->hw * sh->c, nout = (size_t)oh * ow * sh->c;
    uint8_t *src = malloc(nsrc), *dst = malloc(nout * 4);
    for (size_t i = 0; i < nsrc; i++) src[i] = (uint8_t)(i * 13 % 128);
    double macs = (double)oh * ow * sh->c * K, best = 1e9;
    /* Q8DW_REPS=N: exactly N runs (for instruction counts under callgrind) */
    const char *fixed = getenv("Q8DW_REPS");
    const int reps = fixed ? atoi(fixed) : (int)(2e9 / macs) + 5;
    for (int rep = 0; rep < reps; rep++) {
        double t0 = now();
        qtop_qconv_run(c, src, dst, NULL, NULL);
        double t = now() - t0;
        if (t < best) best = t;
    }
    if (!quiet)
        printf("  %-12s %-24s %-3s %7.4f ms %6.1f GMAC/s\n", qtop_isa_name(isa), sh->name,
               sh->src_dt == QTOP_DT_U8 ? "u8" : "s8", best * 1e3, macs / best * 1e-9);
    qtop_qconv_destroy(c);
    free(w); free(r); free(b); free(src); free(dst);
    return best;
}

#define U8 QTOP_DT_U8
#define S8 QTOP_DT_S8
#define F32 QTOP_DT_F32
#define RELU QTOP_ACT_RELU
#define RELU6 QTOP_ACT_RELU6
#define HS QTOP_ACT_HARD_SWISH

int main(int argc, char **argv) {
    int only = argc > 1 ? atoi(argv[1]) : -1;
    const char *filter = argc > 2 ? argv[2] : NULL;
    uint32_t have = qtop_cpu_isa_mask() & qtop_compiled_isa_mask();
    static const shape shapes[] = {
        { "mv3 3x3 16 s1 112", 112, 16, 3, 1, U8, RELU, U8 },
        { "mv3 3x3 64 s2 112", 112, 64, 3, 2, U8, RELU, U8 },
        { "mv3 3x3 72 s1 56", 56, 72, 3, 1, U8, RELU, U8 },
        { "mv3 5x5 72 s2 56", 56, 72, 5, 2, U8, RELU, F32 },
        { "mv3 5x5 120 s1 28", 28, 120, 5, 1, U8, RELU, F32 },
        { "mv3 5x5 120 s1 28", 28, 120, 5, 1, U8, RELU, F32 },
        { "mv3 3x3 240 s2 28", 28, 240, 3, 2, S8, HS, S8 },
        { "mv3 3x3 200 s1 14", 14, 200, 3, 1, S8, HS, S8 },
        { "mv3 3x3 184 s1 14", 14, 184, 3, 1, S8, HS, S8 },
        { "mv3 3x3 184 s1 14", 14, 184, 3, 1, S8, HS, S8 },
        { "mv3 3x3 480 s1 14", 14, 480, 3, 1, S8, HS, F32 },
        { "mv3 3x3 672 s1 14", 14, 672, 3, 1, S8, HS, F32 },
        { "mv3 5x5 672 s2 14", 14, 672, 5, 2, S8, HS, F32 },
        { "mv3 5x5 960 s1 7", 7, 960, 5, 1, S8, HS, F32 },
        { "mv3 5x5 960 s1 7", 7, 960, 5, 1, S8, HS, F32 },
        { "det 3x3 8 s1 320", 320, 8, 3, 1, U8, RELU, U8 },
        { "det 3x3 32 s2 320", 320, 32, 3, 2, U8, RELU, U8 },
        { "det 3x3 40 s1 160", 160, 40, 3, 1, U8, RELU, U8 },
        { "det 5x5 40 s2 160", 160, 40, 5, 2, U8, RELU, F32 },
        { "det 5x5 64 s1 80", 80, 64, 5, 1, U8, RELU, F32 },
        { "det 5x5 64 s1 80", 80, 64, 5, 1, U8, RELU, F32 },
        { "det 3x3 120 s2 80", 80, 120, 3, 2, S8, HS, S8 },
        { "det 3x3 104 s1 40", 40, 104, 3, 1, S8, HS, S8 },
        { "det 3x3 96 s1 40", 40, 96, 3, 1, S8, HS, S8 },
        { "det 3x3 96 s1 40", 40, 96, 3, 1, S8, HS, S8 },
        { "det 3x3 240 s1 40", 40, 240, 3, 1, S8, HS, F32 },
        { "det 3x3 336 s1 40", 40, 336, 3, 1, S8, HS, F32 },
        { "det 5x5 336 s2 40", 40, 336, 5, 2, S8, HS, F32 },
        { "det 5x5 480 s1 20", 20, 480, 5, 1, S8, HS, F32 },
        { "det 5x5 480 s1 20", 20, 480, 5, 1, S8, HS, F32 },
        { "mv2 3x3 32 s1 112", 112, 32, 3, 1, U8, RELU6, U8 },
        { "mv2 3x3 96 s2 112", 112, 96, 3, 2, U8, RELU6, U8 },
        { "mv2 3x3 144 s1 56", 56, 144, 3, 1, U8, RELU6, U8 },
        { "mv2 3x3 144 s2 56", 56, 144, 3, 2, U8, RELU6, U8 },
        { "mv2 3x3 192 s1 28", 28, 192, 3, 1, U8, RELU6, U8 },
        { "mv2 3x3 192 s1 28", 28, 192, 3, 1, U8, RELU6, U8 },
        { "mv2 3x3 192 s2 28", 28, 192, 3, 2, U8, RELU6, U8 },
        { "mv2 3x3 384 s1 14", 14, 384, 3, 1, U8, RELU6, U8 },
        { "mv2 3x3 384 s1 14", 14, 384, 3, 1, U8, RELU6, U8 },
        { "mv2 3x3 384 s1 14", 14, 384, 3, 1, U8, RELU6, U8 },
        { "mv2 3x3 384 s1 14", 14, 384, 3, 1, U8, RELU6, U8 },
        { "mv2 3x3 576 s1 14", 14, 576, 3, 1, U8, RELU6, U8 },
        { "mv2 3x3 576 s1 14", 14, 576, 3, 1, U8, RELU6, U8 },
        { "mv2 3x3 576 s2 14", 14, 576, 3, 2, U8, RELU6, U8 },
        { "mv2 3x3 960 s1 7", 7, 960, 3, 1, U8, RELU6, U8 },
        { "mv2 3x3 960 s1 7", 7, 960, 3, 1, U8, RELU6, U8 },
        { "mv2 3x3 960 s1 7", 7, 960, 3, 1, U8, RELU6, U8 },
    };
    printf("CPU: %s\nint8 depthwise through qtop_qconv_run, serial (NHWC):\n", qtop_cpu_model_name());
    for (int isa = QTOP_ISA_AVX512_VNNI; isa >= QTOP_ISA_AVX2; isa--) {
        if (!((have >> isa) & 1) || (only >= 0 && only != isa)) continue;
        double mv3 = 0, mv2 = 0, det = 0;
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            if (filter && !strstr(shapes[i].name, filter)) continue;
            /* a layer repeated in the model is listed once per occurrence; time it once */
            static double last;
            int dup = i > 0 && strcmp(shapes[i].name, shapes[i - 1].name) == 0;
            double t = dup ? last : bench(isa, &shapes[i], 0);
            last = t;
            if (shapes[i].name[0] == 'd') det += t; else if (shapes[i].name[2] == '3') mv3 += t; else mv2 += t;
        }
        printf("  %-12s sum: mv3 %.3f ms, mv2 %.3f ms, det %.3f ms\n", qtop_isa_name(isa), mv3 * 1e3, mv2 * 1e3, det * 1e3);
    }
    return 0;
}
