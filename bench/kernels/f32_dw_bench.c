/* Single-core microbenchmark of fp32 depthwise convolution (f32_dw.c) on the depthwise layers of mobilenet_v2,
 * mobilenet_v3_large (224×224) and the OCR det model (640×640), through the public API at each ISA the CPU has,
 * serial; best of many runs (the machine may be shared). Prints ms and GMAC/s per layer and the sum per model.
 * Not part of the test suite. Build and run: bench/kernels/f32_dw.sh [isa-number [model]] */
#include "include/qtop_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_common.h"


typedef struct { const char *model; int c, h, k, s, act; } shape;

/* one row per distinct layer shape; n = how many times the model has it */
typedef struct { shape sh; int n; } layer;

static const layer layers[] = {
    { { "mbv2", 32, 112, 3, 1, QTOP_ACT_RELU6 }, 1 },
    { { "mbv2", 96, 112, 3, 2, QTOP_ACT_RELU6 }, 1 },
    { { "mbv2", 144, 56, 3, 1, QTOP_ACT_RELU6 }, 1 },
    { { "mbv2", 144, 56, 3, 2, QTOP_ACT_RELU6 }, 1 },
    { { "mbv2", 192, 28, 3, 1, QTOP_ACT_RELU6 }, 2 },
    { { "mbv2", 192, 28, 3, 2, QTOP_ACT_RELU6 }, 1 },
    { { "mbv2", 384, 14, 3, 1, QTOP_ACT_RELU6 }, 4 },
    { { "mbv2", 576, 14, 3, 1, QTOP_ACT_RELU6 }, 2 },
    { { "mbv2", 576, 14, 3, 2, QTOP_ACT_RELU6 }, 1 },
    { { "mbv2", 960, 7, 3, 1, QTOP_ACT_RELU6 }, 3 },
    { { "mbv3", 16, 112, 3, 1, QTOP_ACT_RELU }, 1 },
    { { "mbv3", 64, 112, 3, 2, QTOP_ACT_RELU }, 1 },
    { { "mbv3", 72, 56, 3, 1, QTOP_ACT_RELU }, 1 },
    { { "mbv3", 72, 56, 5, 2, QTOP_ACT_RELU }, 1 },
    { { "mbv3", 120, 28, 5, 1, QTOP_ACT_RELU }, 2 },
    { { "mbv3", 240, 28, 3, 2, QTOP_ACT_HARD_SWISH }, 1 },
    { { "mbv3", 200, 14, 3, 1, QTOP_ACT_HARD_SWISH }, 1 },
    { { "mbv3", 184, 14, 3, 1, QTOP_ACT_HARD_SWISH }, 2 },
    { { "mbv3", 480, 14, 3, 1, QTOP_ACT_HARD_SWISH }, 1 },
    { { "mbv3", 672, 14, 3, 1, QTOP_ACT_HARD_SWISH }, 1 },
    { { "mbv3", 672, 14, 5, 2, QTOP_ACT_HARD_SWISH }, 1 },
    { { "mbv3", 960, 7, 5, 1, QTOP_ACT_HARD_SWISH }, 2 },
    { { "det", 8, 320, 3, 1, QTOP_ACT_RELU }, 1 },
    { { "det", 32, 320, 3, 2, QTOP_ACT_RELU }, 1 },
    { { "det", 40, 160, 3, 1, QTOP_ACT_RELU }, 1 },
    { { "det", 40, 160, 5, 2, QTOP_ACT_RELU }, 1 },
    { { "det", 64, 80, 5, 1, QTOP_ACT_RELU }, 2 },
    { { "det", 120, 80, 3, 2, QTOP_ACT_HARD_SWISH }, 1 },
    { { "det", 100, 40, 3, 1, QTOP_ACT_HARD_SWISH }, 3 },
    { { "det", 240, 40, 3, 1, QTOP_ACT_HARD_SWISH }, 1 },
    { { "det", 336, 40, 3, 1, QTOP_ACT_HARD_SWISH }, 1 },
    { { "det", 336, 40, 5, 2, QTOP_ACT_HARD_SWISH }, 1 },
    { { "det", 480, 20, 5, 1, QTOP_ACT_HARD_SWISH }, 2 },
};

static double bench(int isa, const shape *sh) {
    qtop_fconv_desc d = {0};
    d.n = 1; d.ic = d.oc = d.groups = sh->c; d.h = d.w = sh->h; d.kh = d.kw = sh->k;
    d.stride_h = d.stride_w = sh->s; d.pad_t = d.pad_b = d.pad_l = d.pad_r = sh->k / 2; d.dil_h = d.dil_w = 1;
    d.act = sh->act;
    if (!qtop_fconv_query(&d, isa, isa, NULL, 0)) return 0;
    int oh = qtop_fconv_out_h(&d), ow = qtop_fconv_out_w(&d);
    size_t wn = (size_t)sh->c * sh->k * sh->k, in = (size_t)sh->c * sh->h * sh->h, on = (size_t)sh->c * oh * ow;
    float *w = malloc(sizeof(float) * wn), *src = malloc(sizeof(float) * in), *dst = malloc(sizeof(float) * on);
    for (size_t i = 0; i < wn; i++) w[i] = (float)((int)(i * 37 % 255) - 127) / 127.0f;
    for (size_t i = 0; i < in; i++) src[i] = (float)((int)(i * 53 % 251) - 125) / 64.0f;
    qtop_fconv *c = qtop_fconv_create(&d, w, NULL, isa);
    double macs = (double)on * sh->k * sh->k, best = 1e9;
    for (int rep = 0; rep < (int)(4e8 / macs) + 5; rep++) {
        double t0 = now();
        qtop_fconv_run(c, src, dst, NULL, NULL);
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("  %-12s %-5s c%-4d %3dx%-3d k%d s%d  %8.4f ms %6.1f GMAC/s\n", qtop_isa_name(isa), sh->model, sh->c, sh->h,
           sh->h, sh->k, sh->s, best * 1e3, macs / best * 1e-9);
    qtop_fconv_destroy(c);
    free(w); free(src); free(dst);
    return best;
}

int main(int argc, char **argv) {
    uint32_t have = qtop_cpu_isa_mask() & qtop_compiled_isa_mask();
    int only = argc > 1 ? atoi(argv[1]) : -1;
    const char *pick = argc > 2 ? argv[2] : NULL;   /* model name: only its layers */
    printf("CPU: %s\nfp32 depthwise through qtop_fconv_run, serial (NCHW), batch 1:\n", qtop_cpu_model_name());
    for (int isa = QTOP_ISA_AVX512_CORE; isa >= QTOP_ISA_AVX2; isa--) {
        if (!((have >> isa) & 1) || (only >= 0 && isa != only)) continue;
        const char *model = NULL;
        double sum = 0;
        for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
            if (pick && strcmp(pick, layers[i].sh.model)) continue;
            if (model && layers[i].sh.model != model) { printf("  %s total %.3f ms\n", model, sum * 1e3); sum = 0; }
            model = layers[i].sh.model;
            sum += layers[i].n * bench(isa, &layers[i].sh);
        }
        printf("  %s total %.3f ms\n", model, sum * 1e3);
    }
    return 0;
}
