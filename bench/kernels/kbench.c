/* Single-core kernel microbenchmark (not part of the test suite): GMAC/s of every int8 GEMM microkernel in the
 * per-ISA table on an L1/L2-resident tile, then whole convolutions (ResNet50 / MobileNet shapes) through the public
 * API at each ISA the CPU has, serial. Build and run: bench/kernels/run.sh */
#include "bench_common.h"

/* res: 1 = ResNet's bottleneck tail (f32 residual in, f32 out plus a second u8 output for the next conv) */
typedef struct { const char *name; int h, w, ic, oc, k, s, src_dt, dw, res; } shape;

/* KBENCH_COLD=1: before every timed call evict the caches (write a buffer larger than L3) and re-read the input,
 * as inside a model, where a layer's weights were last touched an inference ago and its input was just written. */
static int cold_mode(void) { const char *e = getenv("KBENCH_COLD"); return e && *e == '1'; }

static void conv_bench(int isa, const shape *sh) {
    qtop_qconv_desc d = {0};
    d.n = 1; d.h = sh->h; d.w = sh->w; d.ic = sh->ic; d.oc = sh->oc; d.kh = d.kw = sh->k;
    d.stride_h = d.stride_w = sh->s; d.pad_t = d.pad_b = d.pad_l = d.pad_r = sh->k / 2; d.dil_h = d.dil_w = 1;
    d.groups = sh->dw ? sh->ic : 1;
    d.src_dt = sh->src_dt; d.dst_dt = QTOP_DT_U8; d.res_dt = QTOP_DT_NONE; d.act = QTOP_ACT_RELU;
    d.in_range = 4; d.out_range = 4;
    if (sh->res) {
        d.dst_dt = QTOP_DT_F32; d.res_dt = QTOP_DT_F32; d.has_q2 = 1; d.q2_dt = QTOP_DT_U8; d.q2_range = 4;
    }
    if (!qtop_qconv_query(&d, isa, isa, NULL, 0)) return;
    int K = sh->k * sh->k * (sh->dw ? 1 : sh->ic);
    int8_t *w = malloc((size_t)sh->oc * K);
    for (int i = 0; i < sh->oc * K; i++) w[i] = (int8_t)((i * 37) % 255 - 127);
    float *r = malloc(sizeof(float) * sh->oc);
    for (int i = 0; i < sh->oc; i++) r[i] = 1;
    qtop_qconv *c = qtop_qconv_create(&d, w, r, NULL, isa);
    int oh = qtop_qconv_out_h(&d), ow = qtop_qconv_out_w(&d);
    size_t nsrc = (size_t)sh->h * sh->w * sh->ic, nout = (size_t)oh * ow * sh->oc;
    uint8_t *src = malloc(nsrc), *dst = malloc(nout * 4), *dst2 = malloc(nout);
    float *res = sh->res ? malloc(nout * 4) : NULL;
    for (size_t i = 0; i < nsrc; i++) src[i] = (uint8_t)(i * 13 % 128);
    for (size_t i = 0; res && i < nout; i++) res[i] = (float)(i % 7) - 3.0f;
    double macs = (double)oh * ow * sh->oc * K, best = 1e9;
    const int cold = cold_mode();
    for (int rep = 0; rep < (int)((cold ? 3e9 : 3e10) / macs) + 5; rep++) {
        if (cold) bench_evict(src, nsrc);
        double t0 = now();
        qtop_qconv_run2(c, src, dst, dst2, res, NULL);
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("  %-12s %-18s %-4s %7.3f ms %6.1f GMAC/s%s\n", qtop_isa_name(isa), sh->name,
           sh->src_dt == QTOP_DT_U8 ? "u8" : "s8", best * 1e3, macs / best * 1e-9, cold ? " (cold)" : "");
    qtop_qconv_destroy(c);
    free(w); free(r); free(src); free(dst); free(dst2); free(res);
}

static void fconv_bench(int isa, const shape *sh) {
    qtop_fconv_desc d = {0};
    d.n = 1; d.h = sh->h; d.w = sh->w; d.ic = sh->ic; d.oc = sh->oc; d.kh = d.kw = sh->k;
    d.stride_h = d.stride_w = sh->s; d.pad_t = d.pad_b = d.pad_l = d.pad_r = sh->k / 2; d.dil_h = d.dil_w = 1;
    d.groups = sh->dw ? sh->ic : 1; d.act = QTOP_ACT_RELU6;
    if (!qtop_fconv_query(&d, isa, isa, NULL, 0)) return;
    int K = sh->k * sh->k * (sh->dw ? 1 : sh->ic);
    float *w = malloc(sizeof(float) * (size_t)sh->oc * K);
    for (int i = 0; i < sh->oc * K; i++) w[i] = (float)((i * 37) % 255 - 127) / 127.0f;
    qtop_fconv *c = qtop_fconv_create(&d, w, NULL, isa);
    int oh = qtop_fconv_out_h(&d), ow = qtop_fconv_out_w(&d);
    float *src = calloc((size_t)sh->h * sh->w * sh->ic, 4), *dst = malloc(sizeof(float) * (size_t)oh * ow * sh->oc);
    double macs = (double)oh * ow * sh->oc * K, best = 1e9;
    int iters = 1;
    for (int rep = 0; rep < (int)(1e10 / macs) + 5; rep++) {
        double t0 = now();
        for (int i = 0; i < iters; i++) qtop_fconv_run(c, src, dst, NULL, NULL);
        double t = (now() - t0) / iters;
        if (t < best) best = t;
    }
    printf("  %-12s %-18s f32  %7.3f ms %6.1f GMAC/s\n", qtop_isa_name(isa), sh->name, best * 1e3, macs / best * 1e-9);
    qtop_fconv_destroy(c);
    free(w); free(src); free(dst);
}

int main(int argc, char **argv) {
    int only = argc > 1 ? atoi(argv[1]) : -1;
    /* `kbench ISA [f32] [NAME]`: f32 runs the fp32 rows only; NAME (or KBENCH_FILTER) only shapes whose name
     * contains it */
    int f32_only = argc > 2 && strcmp(argv[2], "f32") == 0;
    const char *filter = argc > 2 + f32_only ? argv[2 + f32_only] : getenv("KBENCH_FILTER");
    uint32_t have = qtop_cpu_isa_mask() & qtop_compiled_isa_mask();
    printf("CPU: %s\n", qtop_cpu_model_name());
    if (f32_only) goto f32_shapes;
    printf("int8 GEMM microkernels (one core, full tile, L1-resident):\n");
    for (int isa = 0; isa < QTOP_ISA_COUNT && !filter; isa++) {
        const qtop_isa_config *cfg = qtop__isa_config(isa);
        if (!cfg || !((have >> isa) & 1)) continue;
        if (cfg->q8_u8) { ukr_bench(cfg->q8_u8, 576); ukr_bench(cfg->q8_u8, 256); }
        if (cfg->q8_s8) { ukr_bench(cfg->q8_s8, 576); ukr_bench(cfg->q8_s8, 256); }
        if (cfg->q8_s16) { ukr_bench(cfg->q8_s16, 576); ukr_bench(cfg->q8_s16, 256); }
    }
#if defined(__x86_64__)
    /* AVX2 candidates that are compiled but not in the table: the table keeps the faster */
    static const qtop_q8_gemm_kernel cand[] = {
        { "q8_gemm_u8_6x16c4_avx2 (cand.)", qtop__q8_gemm_u8_6x16c4_avx2, 6, 1, 4, 0, NULL },
        { "q8_gemm_u8_4x32c4_avx2 (cand.)", qtop__q8_gemm_u8_4x32c4_avx2, 4, 2, 4, 0, NULL },
    };
    if ((have >> QTOP_ISA_AVX2) & 1 && !filter)
        for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) ukr_bench(&cand[i], 576);

#endif
    static const shape shapes[] = {
        { "r50 stem 7x7s2", 224, 224, 3, 64, 7, 2, QTOP_DT_S8 },
        { "r50 3x3 64", 56, 56, 64, 64, 3, 1, QTOP_DT_U8 },
        { "r50 1x1 64>256", 56, 56, 64, 256, 1, 1, QTOP_DT_U8 },
        { "r50 1x1 256>64", 56, 56, 256, 64, 1, 1, QTOP_DT_U8 },
        { "r50 1x1 64>256 res", 56, 56, 64, 256, 1, 1, QTOP_DT_U8, 0, 1 },
        { "r50 1x1 128>512 res", 28, 28, 128, 512, 1, 1, QTOP_DT_U8, 0, 1 },
        { "r50 1x1 512>128 28", 28, 28, 512, 128, 1, 1, QTOP_DT_U8 },
        { "r50 3x3 128", 28, 28, 128, 128, 3, 1, QTOP_DT_U8 },
        { "r50 3x3 256", 14, 14, 256, 256, 3, 1, QTOP_DT_U8 },
        { "r50 1x1 1024>256", 14, 14, 1024, 256, 1, 1, QTOP_DT_U8 },
        { "r50 3x3 512", 7, 7, 512, 512, 3, 1, QTOP_DT_U8 },
        { "r50 1x1 2048>512 7", 7, 7, 2048, 512, 1, 1, QTOP_DT_U8 },
        { "r50 1x1 512>2048 res", 7, 7, 512, 2048, 1, 1, QTOP_DT_U8, 0, 1 },
        { "mv2 1x1 24>144 s8", 56, 56, 24, 144, 1, 1, QTOP_DT_S8 },
        { "mv3 1x1 16>64 s8 112", 112, 112, 16, 64, 1, 1, QTOP_DT_S8 },
        { "mv3 stem 3x3s2 16", 224, 224, 3, 16, 3, 2, QTOP_DT_S8 },
        { "shv2 stem 3x3s2 24", 224, 224, 3, 24, 3, 2, QTOP_DT_S8 },
        { "mv2 1x1 144>24", 56, 56, 144, 24, 1, 1, QTOP_DT_U8 },
        { "mv2 dw3x3 144 s1", 56, 56, 144, 144, 3, 1, QTOP_DT_U8, 1 },
        { "mv2 dw3x3 144 s2", 56, 56, 144, 144, 3, 2, QTOP_DT_U8, 1 },
        { "mv3 dw5x5 72 s2", 56, 56, 72, 72, 5, 2, QTOP_DT_U8, 1 },
        { "mv2 dw3x3 960 s1", 7, 7, 960, 960, 3, 1, QTOP_DT_U8, 1 },
        { "mv2 dw3x3 32 s1", 112, 112, 32, 32, 3, 1, QTOP_DT_U8, 1 },
        { "mv2 dw3x3 96 s2", 112, 112, 96, 96, 3, 2, QTOP_DT_U8, 1 },
        { "mv2 dw3x3 576 s1", 14, 14, 576, 576, 3, 1, QTOP_DT_U8, 1 },
        { "mv2 dw3x3 576 s2", 14, 14, 576, 576, 3, 2, QTOP_DT_U8, 1 },
        { "mv3 dw5x5 672 s1", 14, 14, 672, 672, 5, 1, QTOP_DT_U8, 1 },
        { "mv2 1x1 576>96 14", 14, 14, 576, 96, 1, 1, QTOP_DT_U8 },
        { "mv2 1x1 96>576 14", 14, 14, 96, 576, 1, 1, QTOP_DT_U8 },
        { "mv2 1x1 960>160 7", 7, 7, 960, 160, 1, 1, QTOP_DT_U8 },
        { "mv2 1x1 160>960 7", 7, 7, 160, 960, 1, 1, QTOP_DT_U8 },
        { "mv2 1x1 32>192 28", 28, 28, 32, 192, 1, 1, QTOP_DT_U8 },
        { "mv2 1x1 192>32 28", 28, 28, 192, 32, 1, 1, QTOP_DT_U8 },
        { "mv2 1x1 32>16 112", 112, 112, 32, 16, 1, 1, QTOP_DT_U8 },
    };
    printf("int8 convolutions through qtop_qconv_run, serial (NHWC, u8/s8 input):\n");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int isa = QTOP_ISA_AVX512_VNNI; isa >= QTOP_ISA_AVX2; isa--)
            if (!filter || strstr(shapes[i].name, filter))
            if ((have >> isa) & 1 && (only < 0 || only == isa)) conv_bench(isa, &shapes[i]);
f32_shapes:
    printf("fp32 convolutions through qtop_fconv_run, serial (NCHW):\n");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int isa = QTOP_ISA_AVX512_CORE; isa >= QTOP_ISA_AVX2; isa--)
            if (!filter || strstr(shapes[i].name, filter))
            if ((have >> isa) & 1 && (only < 0 || only == isa)) fconv_bench(isa, &shapes[i]);
    return 0;
}
