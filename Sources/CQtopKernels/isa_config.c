/* The per-ISA configuration table: one row per ISA level this build has kernels for. Everything ISA-specific the
 * drivers use (microkernels, their register tiles and packing, epilogues, depthwise, pooling rows, fp32 kernels)
 * is named here and nowhere else. Rows for levels without kernels (sse41, neon*) are absent: dispatch then falls to
 * the next level down. The avx2_vnni row (VEX vpdpbusd on ymm) is only ever chosen on a CPU whose CPUID reports
 * avx_vnni (qtop_cpu_isa_mask); its EVEX twin (qtop__isa_config_twin) lets AVX-512 VNNI CPUs verify it. */
#include "isa_config.h"

static const qtop_q8_dw_kernel q8_dw_generic = { "q8_dw_generic", qtop__q8_dw_generic, 8 };

static const qtop_isa_config row_generic = {
    .isa = QTOP_ISA_GENERIC,
    .q8_epi = qtop__q8_epi_generic,
    .q8_dw = &q8_dw_generic,
    .q8_max_row = qtop__q8_max_row_generic,
    .q8_sum_row = qtop__q8_sum_row_generic,
    .q8_quant_row = qtop__q8_quant_row_generic,
    .q8_dequant_row = qtop__q8_dequant_row_generic,
    .f32_nhwc = &qtop__f32_nhwc_generic,
    .q8_rescale_row = qtop__q8_rescale_row_generic,
    .f32_gemm = &qtop__sgemm_generic,
    .f32_ops = &qtop__f32_ops_generic,
    .f32_pool = &qtop__f32_pool_generic,
};

#if defined(__x86_64__)
static const qtop_q8_gemm_kernel q8_u8_avx2 = {
    "q8_gemm_u8_5x16c4_avx2", qtop__q8_gemm_u8_5x16c4_avx2, 5, 1, 4, 0, qtop__q8_any_over127_avx2,
};
static const qtop_q8_gemm_kernel q8_s16_avx2 = {
    "q8_gemm_s16_6x16c2_avx2", qtop__q8_gemm_s16_6x16c2_avx2, 6, 1, 2, 0, NULL,
};
static const qtop_q8_gemm_kernel q8_u8_avx512 = {
    "q8_gemm_u8_6x64c4_avx512", qtop__q8_gemm_u8_6x64c4_avx512, 6, 4, 4, 0, qtop__q8_any_over127_avx2,
};
static const qtop_q8_gemm_kernel q8_s16_avx512 = {
    "q8_gemm_s16_6x64c2_avx512", qtop__q8_gemm_s16_6x64c2_avx512, 6, 4, 2, 0, NULL,
};
static const qtop_q8_gemm_kernel q8_s8_avx512bw = {
    "q8_gemm_s8_5x64c4_avx512bw", qtop__q8_gemm_s8_5x64c4_avx512bw, 5, 4, 4, 0, NULL, 1, 8,
};
static const qtop_q8_gemm_kernel q8_u8_avx512vnni = {
    "q8_gemm_u8_6x64c4_avx512vnni", qtop__q8_gemm_u8_6x64c4_avx512vnni, 6, 4, 4, 1, NULL,
};

/* avx2_vnni: vpdpbusd on ymm, exact for every byte (no over127 bound), s8 activations shifted (shift_s8). */
static const qtop_q8_gemm_kernel q8_u8_avx2vnni = {
    "q8_gemm_u8_6x16c4_avx2vnni", qtop__q8_gemm_u8_6x16c4_avx2vnni_vex, 6, 1, 4, 1, NULL,
};
static const qtop_q8_gemm_kernel q8_u8_avx2vnni_twin = {
    "q8_gemm_u8_6x16c4_avx2vnni_evex", qtop__q8_gemm_u8_6x16c4_avx2vnni_evex, 6, 1, 4, 1, NULL,
};
static const qtop_q8_stem_kernel q8_stem_avx2 = { "q8_stem_s16_8px_avx2", qtop__q8_stem_s16_8px_avx2, qtop__q8_stem_row_avx2, 8, 8, 1 };
static const qtop_q8_stem_kernel q8_stem_avx512 = { "q8_stem_s16_16px_avx512", qtop__q8_stem_s16_16px_avx512, qtop__q8_stem_row_avx2, 16, 16, 1 };
static const qtop_q8_stem_kernel q8_stem_avx512vnni = {
    "q8_stem_u8_16px_avx512vnni", qtop__q8_stem_u8_16px_avx512vnni, qtop__q8_stem_row_avx2, 16, 16, 0,
};
static const qtop_q8_dw_kernel q8_dw_avx2 = { "q8_dw_p8_avx2", qtop__q8_dw_p8_avx2, 8, qtop__q8_dw_row_avx2 };
static const qtop_q8_dw_kernel q8_dw_avx512vnni = {
    "q8_dw_p8_avx512vnni", qtop__q8_dw_p8_avx512vnni, 8, qtop__q8_dw_row_avx512vnni,
};

static const qtop_isa_config row_avx2 = {
    .isa = QTOP_ISA_AVX2,
    .q8_u8 = &q8_u8_avx2,
    .q8_s16 = &q8_s16_avx2,
    .q8_epi = qtop__q8_epi_avx2,
    .q8_widen = qtop__q8_widen_avx2,
    .q8_dw = &q8_dw_avx2,
    .q8_stem = &q8_stem_avx2,
    .q8_narrow = &qtop__q8_narrow_s16_avx2,
    .q8_max_row = qtop__q8_max_row_avx2,
    .q8_sum_row = qtop__q8_sum_row_avx2,
    .q8_quant_row = qtop__q8_quant_row_avx2,
    .q8_dequant_row = qtop__q8_dequant_row_avx2,
    .f32_nhwc = &qtop__f32_nhwc_avx2,
    .q8_rescale_row = qtop__q8_rescale_row_avx2,
    .f32_gemm = &qtop__sgemm_avx2,
    .f32_dw_rows = qtop__f32_dw_rows_avx2,
    .f32_gather2 = qtop__gather_stride2_avx2,
    .f32_direct = &qtop__f32_direct_avx2,
    .f32_ops = &qtop__f32_ops_avx2,
    .f32_pool = &qtop__f32_pool_avx2,
};

static const qtop_isa_config row_avx512_core = {
    .isa = QTOP_ISA_AVX512_CORE,
    .q8_u8 = &q8_u8_avx512,
    .q8_s8 = &q8_s8_avx512bw,
    .q8_s16 = &q8_s16_avx512,
    .q8_epi = qtop__q8_epi_avx512,
    .q8_widen = qtop__q8_widen_avx2,
    .q8_dw = &q8_dw_avx2,   /* the ymm tiles with their fused ymm epilogue: on Zen 4 faster than the former zmm
                             * per-pixel kernel, and than this row's zmm epilogue per run (bench/kernels/q8_dw.sh) */
    .q8_stem = &q8_stem_avx512,
    .q8_narrow = &qtop__q8_narrow_s16_avx512,
    .q8_max_row = qtop__q8_max_row_avx2,
    .q8_sum_row = qtop__q8_sum_row_avx2,
    .q8_quant_row = qtop__q8_quant_row_avx2,
    .q8_dequant_row = qtop__q8_dequant_row_avx2,
    .f32_nhwc = &qtop__f32_nhwc_avx2,
    .q8_rescale_row = qtop__q8_rescale_row_avx2,
    .f32_gemm = &qtop__sgemm_avx512,
    .f32_dw_rows = qtop__f32_dw_rows_avx512,
    .f32_t7x64 = qtop__sgemm_t7x64_avx512,
    .f32_gather2 = qtop__gather_stride2_avx512,
    .f32_direct = &qtop__f32_direct_avx512,
    .f32_ops = &qtop__f32_ops_avx2, /* memory-bound: the ymm kernels keep up */
    .f32_pool = &qtop__f32_pool_avx512,
};

/* int8 GEMM only, as avx512_vnni: depthwise (s16 tap pairs) and fp32 are served by the avx2 row below it. The
 * stem, reorder, rescale and pooling rows are avx2's, named here so int8 graphs at this cap keep them. */
#define ROW_AVX2_VNNI(gemm, narrow)                                                                              \
    {                                                                                                            \
        .isa = QTOP_ISA_AVX2_VNNI,                                                                               \
        .q8_u8 = (gemm),                                                                                         \
        .q8_stem = &q8_stem_avx2,                                                                                \
        .q8_narrow = (narrow),                                                                                   \
        .q8_epi = qtop__q8_epi_avx2,                                                                             \
        .q8_max_row = qtop__q8_max_row_avx2,                                                                     \
        .q8_sum_row = qtop__q8_sum_row_avx2,                                                                     \
        .q8_quant_row = qtop__q8_quant_row_avx2,                                                                 \
        .q8_dequant_row = qtop__q8_dequant_row_avx2,                                                             \
        .q8_rescale_row = qtop__q8_rescale_row_avx2,                                                             \
        .f32_nhwc = &qtop__f32_nhwc_avx2,                                                                        \
    }
static const qtop_isa_config row_avx2_vnni = ROW_AVX2_VNNI(&q8_u8_avx2vnni, &qtop__q8_narrow_u8_avx2vnni);
/* The same row with the EVEX-encoded kernels: verification on AVX-512 VNNI CPUs, never dispatched. */
static const qtop_isa_config row_avx2_vnni_twin = ROW_AVX2_VNNI(&q8_u8_avx2vnni_twin, &qtop__q8_narrow_u8_avx2vnni_twin);

/* int8 GEMM and depthwise (the ymm tiles with vpdpwssd: pair products and the add in one instruction); fp32 has no
 * VNNI use. */
static const qtop_isa_config row_avx512_vnni = {
    .isa = QTOP_ISA_AVX512_VNNI,
    .q8_u8 = &q8_u8_avx512vnni,
    .q8_epi = qtop__q8_epi_avx512,
    .q8_dw = &q8_dw_avx512vnni,
    .q8_stem = &q8_stem_avx512vnni,
    .q8_narrow = &qtop__q8_narrow_u8_avx512vnni,
    .q8_max_row = qtop__q8_max_row_avx2,
    .q8_sum_row = qtop__q8_sum_row_avx2,
    .q8_quant_row = qtop__q8_quant_row_avx2,
    .q8_dequant_row = qtop__q8_dequant_row_avx2,
    .f32_nhwc = &qtop__f32_nhwc_avx2,
    .q8_rescale_row = qtop__q8_rescale_row_avx2,
};
#endif

static const qtop_isa_config *const rows[QTOP_ISA_COUNT] = {
    [QTOP_ISA_GENERIC] = &row_generic,
#if defined(__x86_64__)
    [QTOP_ISA_AVX2] = &row_avx2,
    [QTOP_ISA_AVX2_VNNI] = &row_avx2_vnni,
    [QTOP_ISA_AVX512_CORE] = &row_avx512_core,
    [QTOP_ISA_AVX512_VNNI] = &row_avx512_vnni,
#endif
};

const qtop_isa_config *qtop__isa_config(int isa) {
    if (isa < 0 || isa >= QTOP_ISA_COUNT) return NULL;
    return rows[isa];
}

const qtop_isa_config *qtop__isa_config_twin(int isa) {
#if defined(__x86_64__)
    if (isa == QTOP_ISA_AVX2_VNNI && ((qtop_cpu_isa_mask() >> QTOP_ISA_AVX512_VNNI) & 1)) return &row_avx2_vnni_twin;
#endif
    (void)isa;
    return NULL;
}

uint32_t qtop_compiled_isa_mask(void) {
    uint32_t m = 0;
    for (int i = 0; i < QTOP_ISA_COUNT; i++)
        if (rows[i]) m |= 1u << i;
    return m;
}
