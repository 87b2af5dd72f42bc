/* avx2_vnni row on a CPU without AVX-VNNI (not part of the test suite): GMAC/s of the row's EVEX-encoded twin
 * (q8_avxvnni_gemm.h compiled for AVX512VL + AVX512_VNNI: same source, tiles and driver as the VEX kernels) against
 * the avx2 row, single core. Microkernels on an L1-resident tile, then ResNet50 1x1 / 3x3 convolutions through
 * qtop_qconv_create_twin vs qtop_qconv_create(avx2), serial; the fastest of many runs (shared machine).
 * Build and run: bench/kernels/avxvnni_twin.sh */
#include "bench_common.h"

typedef struct { const char *name; int h, w, ic, oc, k, s, src_dt; } shape;

/* which: 0 avx2 row, 1 avx2_vnni EVEX twin, 2 avx512_vnni row (for scale) */
static double conv_bench(int which, const shape *sh) {
    qtop_qconv_desc d = {0};
    d.n = 1; d.h = sh->h; d.w = sh->w; d.ic = sh->ic; d.oc = sh->oc; d.kh = d.kw = sh->k;
    d.stride_h = d.stride_w = sh->s; d.pad_t = d.pad_b = d.pad_l = d.pad_r = sh->k / 2; d.dil_h = d.dil_w = 1;
    d.groups = 1; d.src_dt = sh->src_dt; d.dst_dt = QTOP_DT_U8; d.res_dt = QTOP_DT_NONE; d.act = QTOP_ACT_RELU;
    d.in_range = 4; d.out_range = 4;
    int K = sh->k * sh->k * sh->ic;
    int8_t *w = malloc((size_t)sh->oc * K);
    for (int i = 0; i < sh->oc * K; i++) w[i] = (int8_t)((i * 37) % 255 - 127);
    float *r = malloc(sizeof(float) * sh->oc);
    for (int i = 0; i < sh->oc; i++) r[i] = 1;
    qtop_qconv *c = which == 1 ? qtop_qconv_create_twin(&d, w, r, NULL, QTOP_ISA_AVX2_VNNI)
                  : qtop_qconv_create(&d, w, r, NULL, which == 2 ? QTOP_ISA_AVX512_VNNI : QTOP_ISA_AVX2);
    if (!c) { printf("  %s: create failed\n", sh->name); exit(1); }
    int oh = qtop_qconv_out_h(&d), ow = qtop_qconv_out_w(&d);
    size_t nsrc = (size_t)sh->h * sh->w * sh->ic, nout = (size_t)oh * ow * sh->oc;
    uint8_t *src = malloc(nsrc), *dst = malloc(nout);
    for (size_t i = 0; i < nsrc; i++) src[i] = (uint8_t)(i * 13 % 128);
    double macs = (double)oh * ow * sh->oc * K, best = 1e9;
    for (int rep = 0; rep < (int)(3e10 / macs) + 5; rep++) {
        double t0 = now();
        qtop_qconv_run(c, src, dst, NULL, NULL);
        double t = now() - t0;
        if (t < best) best = t;
    }
    qtop_qconv_destroy(c);
    free(w); free(r); free(src); free(dst);
    return macs / best * 1e-9;
}

int main(void) {
    printf("CPU: %s\n", qtop_cpu_model_name());
    const qtop_isa_config *twin = qtop__isa_config_twin(QTOP_ISA_AVX2_VNNI), *avx2 = qtop__isa_config(QTOP_ISA_AVX2);
    if (!twin || !((qtop_cpu_isa_mask() >> QTOP_ISA_AVX2) & 1)) { printf("needs AVX2 and AVX512VL + AVX512_VNNI\n"); return 1; }
    printf("int8 GEMM microkernels (one core, full tile, L1-resident):\n");
    for (int K = 576; K >= 256; K -= 320) {
        ukr_bench(twin->q8_u8, K);
        ukr_bench(avx2->q8_u8, K);
        ukr_bench(avx2->q8_s16, K);
    }
    static const shape shapes[] = {
        { "r50 1x1 64>256 56", 56, 56, 64, 256, 1, 1 },
        { "r50 1x1 256>64 56", 56, 56, 256, 64, 1, 1 },
        { "r50 1x1 512>128 28", 28, 28, 512, 128, 1, 1 },
        { "r50 1x1 128>512 28", 28, 28, 128, 512, 1, 1 },
        { "r50 1x1 1024>256 14", 14, 14, 1024, 256, 1, 1 },
        { "r50 1x1 2048>512 7", 7, 7, 2048, 512, 1, 1 },
        { "r50 3x3 64 56", 56, 56, 64, 64, 3, 1 },
        { "r50 3x3 128 28", 28, 28, 128, 128, 3, 1 },
        { "r50 3x3 256 14", 14, 14, 256, 256, 3, 1 },
        { "r50 3x3 512 7", 7, 7, 512, 512, 3, 1 },
        /* s8 activations: the avx2 row widens them to s16, this row shifts them by 128 into its u8 kernel */
        { "r50 stem 7x7s2 s8", 224, 224, 3, 64, 7, 2, QTOP_DT_S8 },
        { "mv3 1x1 16>64 s8 112", 112, 112, 16, 64, 1, 1, QTOP_DT_S8 },
        { "mv2 1x1 24>144 s8 56", 56, 56, 24, 144, 1, 1, QTOP_DT_S8 },
    };
    printf("int8 convolutions through qtop_qconv_run, serial, u8 out, GMAC/s:\n");
    const int zmm = (qtop_cpu_isa_mask() >> QTOP_ISA_AVX512_VNNI) & 1;
    printf("  %-22s %8s %14s %7s %12s\n", "shape", "avx2", "avx2vnni_evex", "ratio", "avx512_vnni");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        double a = conv_bench(0, &shapes[i]), t = conv_bench(1, &shapes[i]), z = zmm ? conv_bench(2, &shapes[i]) : 0;
        printf("  %-22s %8.1f %14.1f %7.2f %12.1f\n", shapes[i].name, a, t, t / a, z);
    }
    return 0;
}
