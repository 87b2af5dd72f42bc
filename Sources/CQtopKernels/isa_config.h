/* Internal to CQtopKernels: the per-ISA configuration table (XNNPACK gemm-config style). Drivers (q8_conv.c,
 * q8_misc.c, f32.c) ask qtop__isa_config(isa) for microkernels, tile sizes and packing and never test an ISA
 * themselves; adding an ISA is one kernel file plus one row in isa_config.c. */
#ifndef QTOP_ISA_CONFIG_H
#define QTOP_ISA_CONFIG_H
#include "q8_internal.h"
#include "f32_internal.h"

/* fp32 kernels beyond the GEMM microkernel; any entry may be NULL (the driver then takes its generic route). */
typedef void (*qtop_f32_t7x64_fn)(int kc, const float *Wp, const float *B, int64_t ldb, int np, float *T, int accumulate);
typedef void (*qtop_f32_gather2_fn)(float *dst, const float *src, int n);

/* u8 pooling rows: o[c] = max(o[c], p[c]) (s8 compare when is_signed) / acc[c] += p[c] over C channels. */
typedef void (*qtop_q8_max_row_fn)(uint8_t *o, const uint8_t *p, int C, int is_signed);
typedef void (*qtop_q8_sum_row_fn)(int32_t *acc, const uint8_t *p, int C, int is_signed);
/* reorder rows (one image row y): quant: dst[x*C+ch] = requant(src[ch*hw+x] * inv) into u8 / s8 (is_signed);
 * dequant: dst[ch*hw+x] = (float)src[x*C+ch] * scale. */
typedef void (*qtop_q8_quant_row_fn)(const float *src, int64_t hw, int W, int C, void *dst, int is_signed, float inv);
typedef void (*qtop_q8_dequant_row_fn)(const void *src, int W, int C, int is_signed, float *dst, int64_t hw, float scale);

/* int8 → int8 rescale row (qconcat): o[i] = requant(Float(s[i]), ratio) into u8 / s8 (out_signed), s read as s8
 * when in_signed, for i < n. */
typedef void (*qtop_q8_rescale_row_fn)(const uint8_t *s, int in_signed, uint8_t *o, int out_signed, int n, float ratio);

/* f32 NHWC rows at the boundaries of an int8 graph (SE blocks, q8_ops_se.c): sum: acc[ch] += p[i*stride + ch] for
 * i = 0, 1, … npix-1 in that order (ch < C <= QTOP_GAP_MAX_C, accumulators kept in registers);
 * to_nchw: dst[ch*hw + x] = y(src[x*C + ch]); quant: dst[x*C + ch] = requant(y(src[x*C + ch]) * inv) into u8/s8,
 * for x < W, ch < C, where y(v) = v, or v * s[ch] when s != NULL, then v + that product when residual, then
 * + z[ch*hw + x] when the NCHW addend row z != NULL (each step rounded). */
typedef struct {
    void (*sum_pixels)(float *acc, const float *p, int64_t npix, int64_t stride, int C);
    void (*to_nchw_row)(const float *src, int W, int C, const float *s, int residual, const float *z, float *dst, int64_t hw);
    void (*quant_row)(const float *src, int W, int C, const float *s, int residual, const float *z, int64_t hw, void *dst,
                      int is_signed, float inv);
} qtop_f32_nhwc_rows;
#define QTOP_GAP_MAX_C 96   /* channels one sum_pixels call takes (12 ymm accumulators) */

/* Widen n activation bytes to s16 (sign-extended when is_signed): the s16 GEMM path's im2col. */
typedef void (*qtop_q8_widen_fn)(int16_t *dst, const uint8_t *src, int n, int is_signed);

/* fp32 elementwise / row kernels of f32_ops.c (see qtop_f32_binary_rows & co. for the contracts). */
typedef struct {
    void (*bin_row)(int op, const float *x, int xs, const float *y, int ys, float *out, int64_t n);
    void (*unary)(const qtop_unary_desc *d, const float *x, float *y, int64_t n);
    void (*layer_norm_row)(const float *x, float *y, int64_t cols, float eps, const float *scale, const float *bias,
                           float *mean, float *var);
    void (*softmax_row)(const float *x, float *y, int64_t n);
    void (*affine_row)(const float *x, float *y, int64_t n, float s, float b);
    void (*scale_residual_row)(const float *x, const float *z, float *y, int64_t n, float s); /* y = x + x * s (+ z) */
} qtop_f32_ops;

/* fp32 pooling rows of f32_pool.c: pool_row does acc[q] = op(acc[q], fold_{t<k} pad[q*s + t]) for q < n (t in
 * order; op = + or `a > b ? a : b`). The same bits on every row. */
typedef struct {
    void (*pool_row)(float *acc, const float *pad, int64_t n, int k, int s, int is_max);
} qtop_f32_pool_ops;

typedef struct qtop_isa_config {
    int isa;
    /* int8 convolution / matmul (NHWC) */
    const qtop_q8_gemm_kernel *q8_u8;   /* u8 activations (and s8 ones when shift_s8); NULL: none */
    const qtop_q8_gemm_kernel *q8_s8;   /* s8 activations read as they are (signed_a); NULL: u8 shifted or s16 */
    const qtop_q8_gemm_kernel *q8_s16;  /* s16 path, any activations; NULL: none */
    qtop_q8_epi_fn q8_epi;              /* fused requantizing epilogue */
    qtop_q8_widen_fn q8_widen;          /* s16 im2col rows (NULL: scalar loop) */
    const qtop_q8_dw_kernel *q8_dw;     /* depthwise; NULL: not served at this level */
    const qtop_q8_stem_kernel *q8_stem; /* few input channels (stems), q8_stem.c; NULL: the GEMM path */
    const qtop_q8_narrow_kernel *q8_narrow; /* k×k with few output channels, q8_narrow.c; NULL: the GEMM path */
    /* int8 pooling */
    qtop_q8_max_row_fn q8_max_row;
    qtop_q8_sum_row_fn q8_sum_row;
    /* fp32 ↔ int8 reorders (NCHW ↔ NHWC); NULL: the generic row */
    qtop_q8_quant_row_fn q8_quant_row;
    qtop_q8_dequant_row_fn q8_dequant_row;
    const qtop_f32_nhwc_rows *f32_nhwc; /* f32 NHWC boundary rows (NULL: the generic rows) */
    qtop_q8_rescale_row_fn q8_rescale_row; /* qconcat's requantizing copy (NULL: the generic row) */
    /* fp32 (NCHW); f32_gemm NULL: fp32 not served at this level */
    const qtop_sgemm_kernel *f32_gemm;
    qtop_f32_dw_rows_fn f32_dw_rows;    /* depthwise row-group microkernel (f32_dw.c); NULL: scalar loop */
    qtop_f32_t7x64_fn f32_t7x64;        /* small-plane channel-vector kernel (NULL: no such mode) */
    qtop_f32_gather2_fn f32_gather2;    /* stride-2 im2col gather (NULL: scalar loop) */
    const qtop_f32_direct_kernel *f32_direct; /* direct k×k conv on large planes (NULL: im2col + GEMM only) */
    const qtop_f32_ops *f32_ops;        /* elementwise / activation / layer_norm / softmax (NULL: not at this level) */
    const qtop_f32_pool_ops *f32_pool;  /* pooling rows (NULL: the generic rows) */
} qtop_isa_config;

/* The row for `isa`, or NULL when this build has no kernels for it. The one place that maps ISA → kernels. */
const qtop_isa_config *qtop__isa_config(int isa);
/* Verification only: the row of `isa` with its kernels compiled for an encoding this CPU runs although it lacks the
 * level itself (avx2_vnni → EVEX vpdpbusd on ymm, on a CPU with AVX512VL + AVX512_VNNI), the same source, tiles and
 * driver; NULL when `isa` has no twin or the CPU cannot run it. Never used for dispatch. */
const qtop_isa_config *qtop__isa_config_twin(int isa);

/* generic rows, defined next to their drivers */
void qtop__q8_max_row_generic(uint8_t *o, const uint8_t *p, int C, int is_signed);
void qtop__q8_sum_row_generic(int32_t *acc, const uint8_t *p, int C, int is_signed);
void qtop__q8_quant_row_generic(const float *src, int64_t hw, int W, int C, void *dst, int is_signed, float inv);
void qtop__q8_dequant_row_generic(const void *src, int W, int C, int is_signed, float *dst, int64_t hw, float scale);
extern const qtop_f32_nhwc_rows qtop__f32_nhwc_generic;
void qtop__q8_rescale_row_generic(const uint8_t *s, int in_signed, uint8_t *o, int out_signed, int n, float ratio);
extern const qtop_sgemm_kernel qtop__sgemm_generic;
extern const qtop_f32_ops qtop__f32_ops_generic;
extern const qtop_f32_pool_ops qtop__f32_pool_generic;
#if defined(__x86_64__)
void qtop__gather_stride2_avx2(float *dst, const float *src, int n);
extern const qtop_f32_ops qtop__f32_ops_avx2;
extern const qtop_f32_pool_ops qtop__f32_pool_avx2;
extern const qtop_f32_pool_ops qtop__f32_pool_avx512;
void qtop__q8_max_row_avx2(uint8_t *o, const uint8_t *p, int C, int is_signed);
void qtop__q8_sum_row_avx2(int32_t *acc, const uint8_t *p, int C, int is_signed);
void qtop__q8_widen_avx2(int16_t *dst, const uint8_t *src, int n, int is_signed);
void qtop__q8_quant_row_avx2(const float *src, int64_t hw, int W, int C, void *dst, int is_signed, float inv);
void qtop__q8_dequant_row_avx2(const void *src, int W, int C, int is_signed, float *dst, int64_t hw, float scale);
extern const qtop_f32_nhwc_rows qtop__f32_nhwc_avx2;
void qtop__q8_rescale_row_avx2(const uint8_t *s, int in_signed, uint8_t *o, int out_signed, int n, float ratio);
/* narrow k×k int8 kernels (q8_narrow_x86.c) */
extern const qtop_q8_narrow_kernel qtop__q8_narrow_s16_avx2, qtop__q8_narrow_u8_avx2vnni, qtop__q8_narrow_u8_avx2vnni_twin;
extern const qtop_q8_narrow_kernel qtop__q8_narrow_s16_avx512, qtop__q8_narrow_u8_avx512vnni;
#endif
#endif
