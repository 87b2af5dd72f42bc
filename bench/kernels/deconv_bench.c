/* Single-core microbenchmark of fp32 conv2d_transpose (f32_deconv.c) on the OCR det (DBNet) head shapes and a
 * 4×4 stride-2 upsampler, through the public API at each ISA the CPU has, serial; best of many runs (the machine
 * may be shared). Not part of the test suite. Build and run: bench/kernels/deconv.sh */
#include "include/qtop_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "bench_common.h"


typedef struct { const char *name; int ic, h, w, oc, k, s, pad; } shape;

static void bench(int isa, const shape *sh) {
    qtop_fdeconv_desc d = {0};
    d.n = 1; d.ic = sh->ic; d.h = sh->h; d.w = sh->w; d.oc = sh->oc; d.kh = d.kw = sh->k;
    d.stride_h = d.stride_w = sh->s; d.pad_t = d.pad_l = sh->pad; d.dil_h = d.dil_w = 1; d.groups = 1;
    d.oh = (sh->h - 1) * sh->s - 2 * sh->pad + sh->k; d.ow = (sh->w - 1) * sh->s - 2 * sh->pad + sh->k;
    d.act = QTOP_ACT_RELU;
    if (!qtop_fdeconv_query(&d, isa, isa, NULL, 0)) return;
    size_t wn = (size_t)sh->ic * sh->oc * sh->k * sh->k;
    float *w = malloc(sizeof(float) * wn);
    for (size_t i = 0; i < wn; i++) w[i] = (float)((int)(i * 37 % 255) - 127) / 127.0f;
    qtop_fdeconv *c = qtop_fdeconv_create(&d, w, NULL, isa);
    float *src = calloc((size_t)sh->ic * sh->h * sh->w, 4), *dst = malloc(sizeof(float) * (size_t)sh->oc * d.oh * d.ow);
    double macs = (double)sh->ic * sh->h * sh->w * sh->oc * sh->k * sh->k, best = 1e9;
    for (int rep = 0; rep < (int)(3e9 / macs) + 5; rep++) {
        double t0 = now();
        qtop_fdeconv_run(c, src, dst, NULL);
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("  %-12s %-28s %-18s %7.3f ms %6.1f GMAC/s %6.1f GB/s written\n", qtop_isa_name(isa), sh->name,
           qtop_fdeconv_mode(c), best * 1e3, macs / best * 1e-9, 4.0 * sh->oc * d.oh * d.ow / best * 1e-9);
    qtop_fdeconv_destroy(c);
    free(w); free(src); free(dst);
}

int main(void) {
    uint32_t have = qtop_cpu_isa_mask() & qtop_compiled_isa_mask();
    static const shape shapes[] = {
        { "det head 24>24 k2s2 160x160", 24, 160, 160, 24, 2, 2, 0 },
        { "det head 24>1 k2s2 320x320", 24, 320, 320, 1, 2, 2, 0 },
        { "upsample 64>64 k4s2p1 80x80", 64, 80, 80, 64, 4, 2, 1 },
    };
    printf("CPU: %s\nfp32 conv2d_transpose through qtop_fdeconv_run, serial (NCHW):\n", qtop_cpu_model_name());
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int isa = QTOP_ISA_AVX512_CORE; isa >= QTOP_ISA_GENERIC; isa--)
            if ((have >> isa) & 1 && (isa == QTOP_ISA_AVX512_CORE || isa == QTOP_ISA_AVX2 || isa == QTOP_ISA_GENERIC)) bench(isa, &shapes[i]);
    return 0;
}
