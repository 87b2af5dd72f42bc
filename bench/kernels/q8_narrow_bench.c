/* Single-core microbenchmark of int8 k×k convolutions with few output channels (q8_narrow.c where its pick takes
 * the shape, else the GEMM path) through the public API, serial; best of many runs of thread CPU time (the machine
 * may be shared). Each shape prints the kernel the ISA row chose. Not part of the test suite.
 * Build and run: bench/kernels/q8_narrow.sh [isa-number [name-substring]] */
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

typedef struct { const char *name; int hw, ic, oc, k, s, src_dt, act, dst_dt; } shape;

static double bench(int isa, const shape *sh) {
    qtop_qconv_desc d = {0};
    d.n = 1; d.h = d.w = sh->hw; d.ic = sh->ic; d.oc = sh->oc; d.groups = 1; d.kh = d.kw = sh->k;
    d.stride_h = d.stride_w = sh->s; d.pad_t = d.pad_b = d.pad_l = d.pad_r = sh->k / 2; d.dil_h = d.dil_w = 1;
    d.src_dt = sh->src_dt; d.dst_dt = sh->dst_dt; d.res_dt = QTOP_DT_NONE; d.act = sh->act;
    d.in_range = 4; d.out_range = 4;
    char why[128] = "";
    /* avx2_vnni on a CPU without AVX-VNNI: its EVEX twin (same source, tiles and driver), named "twin" */
    const int twin = isa == QTOP_ISA_AVX2_VNNI && !((qtop_cpu_isa_mask() >> isa) & 1);
    if (twin) snprintf(why, sizeof why, "twin");
    else if (!qtop_qconv_query(&d, isa, isa, why, sizeof why)) return 0;
    int K = sh->k * sh->k * sh->ic;
    int8_t *w = malloc((size_t)sh->oc * K);
    for (int i = 0; i < sh->oc * K; i++) w[i] = (int8_t)((i * 37) % 255 - 127);
    float *r = malloc(sizeof(float) * sh->oc), *b = malloc(sizeof(float) * sh->oc);
    for (int i = 0; i < sh->oc; i++) { r[i] = 1; b[i] = (float)(i % 5) - 2; }
    qtop_qconv *c = twin ? qtop_qconv_create_twin(&d, w, r, b, isa) : qtop_qconv_create(&d, w, r, b, isa);
    if (!c) { free(w); free(r); free(b); return 0; }
    int oh = qtop_qconv_out_h(&d), ow = qtop_qconv_out_w(&d);
    size_t nsrc = (size_t)sh->hw * sh->hw * sh->ic, nout = (size_t)oh * ow * sh->oc;
    uint8_t *src = malloc(nsrc), *dst = malloc(nout * 4);
    for (size_t i = 0; i < nsrc; i++) src[i] = (uint8_t)(i * 13 % 128);
    double macs = (double)oh * ow * sh->oc * K, best = 1e9;
    const char *fixed = getenv("Q8NARROW_REPS");
    const int reps = fixed ? atoi(fixed) : (int)(4e9 / macs) + 5;
    for (int rep = 0; rep < reps; rep++) {
        double t0 = now();
        qtop_qconv_run(c, src, dst, NULL, NULL);
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("  %-12s %-22s %-3s %8.4f ms %6.1f GMAC/s  %s\n", qtop_isa_name(isa), sh->name,
           sh->src_dt == QTOP_DT_U8 ? "u8" : "s8", best * 1e3, macs / best * 1e-9, why);
    qtop_qconv_destroy(c);
    free(w); free(r); free(b); free(src); free(dst);
    return best;
}

#define U8 QTOP_DT_U8
#define S8 QTOP_DT_S8
#define F32 QTOP_DT_F32
#define RELU QTOP_ACT_RELU
#define NONE QTOP_ACT_NONE

int main(int argc, char **argv) {
    int only = argc > 1 ? atoi(argv[1]) : -1;
    const char *filter = argc > 2 ? argv[2] : NULL;
    uint32_t have = qtop_cpu_isa_mask() & qtop_compiled_isa_mask();
    if ((have >> QTOP_ISA_AVX512_VNNI) & 1) have |= 1u << QTOP_ISA_AVX2_VNNI;   /* through its twin */
    static const shape shapes[] = {
        /* DBNet det at 640x640: the FPN's 3x3 96->24 (s8 in) and the head's first conv (relu_28) */
        { "det relu_28 96>24 160", 160, 96, 24, 3, 1, S8, RELU, U8 },
        { "det conv69 96>24 160", 160, 96, 24, 3, 1, S8, NONE, F32 },
        { "det conv66 96>24 80", 80, 96, 24, 3, 1, S8, NONE, F32 },
        { "det conv63 96>24 40", 40, 96, 24, 3, 1, S8, NONE, F32 },
        { "det conv60 96>24 20", 20, 96, 24, 3, 1, S8, NONE, F32 },
        /* the threshold sweep: channels, widths, input types */
        { "x 96>24 u8 160", 160, 96, 24, 3, 1, U8, RELU, U8 },
        { "x 96>24 s8 10", 10, 96, 24, 3, 1, S8, RELU, U8 },
        { "x 32>8 u8 112", 112, 32, 8, 3, 1, U8, RELU, U8 },
        { "x 16>16 u8 112", 112, 16, 16, 3, 1, U8, RELU, U8 },
        { "x 8>16 s8 112", 112, 8, 16, 3, 1, S8, RELU, U8 },
        { "x 64>16 s8 56", 56, 64, 16, 3, 1, S8, RELU, U8 },
        { "x 64>32 u8 56", 56, 64, 32, 3, 1, U8, RELU, U8 },
        { "x 128>32 s8 28", 28, 128, 32, 3, 1, S8, NONE, F32 },
        { "x 256>32 u8 14", 14, 256, 32, 3, 1, U8, RELU, U8 },
        { "x 64>24 s8 56 s2", 56, 64, 24, 3, 2, S8, RELU, U8 },
        { "x 48>20 u8 40 5x5", 40, 48, 20, 5, 1, U8, RELU, U8 },
        { "x 96>4 s8 80", 80, 96, 4, 3, 1, S8, NONE, F32 },
        { "x 256>24 s8 14", 14, 256, 24, 3, 1, S8, RELU, U8 },
        { "x 512>8 u8 14", 14, 512, 8, 3, 1, U8, RELU, U8 },
        { "x 128>20 u8 28", 28, 128, 20, 3, 1, U8, RELU, U8 },
    };
    printf("CPU: %s\nint8 k x k convs with few output channels through qtop_qconv_run, serial (NHWC):\n",
           qtop_cpu_model_name());
    for (int isa = QTOP_ISA_AVX512_VNNI; isa >= QTOP_ISA_AVX2; isa--) {
        if (!((have >> isa) & 1) || (only >= 0 && only != isa)) continue;
        double det = 0;
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            if (filter && !strstr(shapes[i].name, filter)) continue;
            double t = bench(isa, &shapes[i]);
            if (shapes[i].name[0] == 'd') det += t;
        }
        printf("  %-12s sum det: %.3f ms\n", qtop_isa_name(isa), det * 1e3);
    }
    return 0;
}
