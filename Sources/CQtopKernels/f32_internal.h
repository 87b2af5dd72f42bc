#ifndef QTOP_F32_INTERNAL_H
#define QTOP_F32_INTERNAL_H
#include "include/qtop_kernels.h"
/* Fused epilogue applied by a microkernel on the last K block: y = act(acc + bias[row] (+ res[row*ldc + col])). */
typedef struct {
    const float *bias;   /* per output row, already offset to the tile's first row; NULL = 0 */
    const float *res;    /* residual tile (same ldc as C) or NULL */
    int act;
} qtop_sgemm_epi;
/* C[mr][nr] (ldc) (+)= Ap[kc][MR] · B[kc][nr] where row k of B starts at Bp + k*ldb (a packed panel has ldb = NR;
 * an unpacked matrix has its row stride). accumulate=0 overwrites. Partial tiles (mr<MR or nr<NR) allowed: B and
 * C columns at or past nr are never read or written. epi (may be NULL) is applied after the accumulation. */
typedef void (*qtop_sgemm_ukr)(int kc, const float *Ap, const float *Bp, int64_t ldb, float *C, int64_t ldc,
                               int accumulate, int mr, int nr, const qtop_sgemm_epi *epi);
/* pack_b: the kernel loses throughput on B rows read at a plane stride (AVX2 6x16: ~45-50 vs 54 GMAC/s in a conv),
 * so the conv driver copies 1×1 input bands into contiguous [K][NR] panels and runs small planes pixel-major. */
typedef struct { int mr, nr; qtop_sgemm_ukr ukr; int pack_b; } qtop_sgemm_kernel;
int qtop__pool_thread_bound(const qtop_pool *p);
void *qtop__tls_scratch(size_t bytes);
/* The fused activation in scalar code: every fp32 kernel's epilogue order is act(acc + bias (+ residual)). */
static inline float qtop__act_f(float y, int act) {
    switch (act) {
    case QTOP_ACT_RELU: return y > 0 ? y : 0.0f;
    case QTOP_ACT_RELU6: { float t = y > 0 ? y : 0.0f; return t < 6.0f ? t : 6.0f; }
    case QTOP_ACT_HARD_SWISH: { float t = y + 3.0f; t = t > 0 ? t : 0.0f; t = t < 6.0f ? t : 6.0f; return y * (t * (1.0f / 6.0f)); }
    default: return y;
    }
}
/* Depthwise row-group microkernel: R ≤ QTOP_FDW_MAX_R output rows of one channel plane, for x < ow:
 *   out[i·ow + x] = act(bias + Σ_{ky,kx} w[ky·kw + kx] · row[i·rs + ky·rd][x + koff[kx]] (+ res[i·ow + x]))
 * row: the window of input rows the group reads ((R-1)·rs + (kh-1)·rd + 1 of them; rs, rd: stride and dilation).
 * with sx = 1; sx = 2 reads column 2x + koff[kx] instead (stride-2 columns; only with masked = 1, at most
 * QTOP_FDW_S2_WINDOW window rows and koff_hi - koff_lo <= QTOP_FDW_S2_SPAN).
 * masked = 1: that is an input column and only columns in [0, iw) are read (the others count as zero);
 * koff_lo / koff_hi bound koff. masked = 0: every row[..][c] is readable for c < max(ow, 16) + koff_hi, and for
 * c < max(ow, 32) + koff_hi at stride 1 (rs = 1: the row-reuse tile's two vectors; the driver's padded planes).
 * out and res hold `left` floats from row 0 on (the rest of the plane): kernels may compute and store whole vectors
 * past a row's ow outputs (the next row overwrites them) but never past `left`. out aliases neither input. */
#define QTOP_FDW_MAX_R 8
#define QTOP_FDW_S2_WINDOW 24
#define QTOP_FDW_S2_SPAN 8
typedef struct {
    const float *const *row;  /* window rows */
    const int *koff;          /* [kw] */
    const float *w;           /* [kh][kw] */
    int R, kh, kw, ow, rs, rd, sx;
    int masked, iw, koff_lo, koff_hi;
    float bias;
    int act;
    const float *res;         /* NULL: no residual */
    float *out;
    int64_t left;
} qtop_fdw_rows;
typedef void (*qtop_f32_dw_rows_fn)(const qtop_fdw_rows *j);
/* fp32 depthwise driver (f32_dw.c): input rows read in place (stride 1) or phase strips (stride ≥ 2) + the rows
 * microkernel of the ISA row. */
struct qtop_isa_config;
typedef struct qtop_fdw qtop_fdw;
qtop_fdw *qtop__fdw_create(const qtop_fconv_desc *d, const float *weights, const float *bias,
                           const struct qtop_isa_config *cfg);
void qtop__fdw_run(const qtop_fdw *c, const float *src, float *dst, const float *res, qtop_pool *pool);
void qtop__fdw_destroy(qtop_fdw *c);
/* Direct k×k convolution microkernel (f32_direct.c): one output row segment of np vectors (the last with nlast
 * valid lanes) × `no` ≤ NO output channels, dst[j·dst_cs + x] = act(bias[j] + Σ_ic Σ_t w[ic][t][j]·src[ic·ic_stride
 * + tapoff[t] + x] (+ res[j·dst_cs + x])). src is a padded band: every lane of every vector is readable. */
typedef struct {
    const float *src;
    int64_t ic_stride;
    const int32_t *tapoff;
    int taps, icg;
    const float *w;        /* [icg][taps][NO], channels past `no` zero */
    const float *bias;     /* [no] */
    float *dst;
    const float *res;      /* NULL or the residual at dst's layout */
    int64_t dst_cs;
    int act, no, np, nlast;
} qtop_f32_direct_args;
/* max_oc: the row's im2col + GEMM wins from this many output channels up (measured per shape; stems excepted). */
typedef struct {
    const char *name;
    int no, np, v, max_oc;
    void (*fn)(const qtop_f32_direct_args *a);
} qtop_f32_direct_kernel;
/* The direct path for one conv (NULL when the row has no kernel or the shape is not one it serves). */
typedef struct qtop_fdirect qtop_fdirect;
qtop_fdirect *qtop__fdirect_create(const qtop_fconv_desc *d, const float *weights, const struct qtop_isa_config *cfg);
void qtop__fdirect_run(const qtop_fdirect *c, const float *src, float *dst, const float *bias, const float *res,
                       qtop_pool *pool);
void qtop__fdirect_destroy(qtop_fdirect *c);
/* Scalar epilogue on a C tile in memory (generic and fallback paths). */
void qtop__sgemm_epi_apply(float *C, int64_t ldc, int mr, int nr, const qtop_sgemm_epi *epi);
#if defined(__x86_64__)
extern const qtop_sgemm_kernel qtop__sgemm_avx512;
extern const qtop_sgemm_kernel qtop__sgemm_avx2;
void qtop__gather_stride2_avx512(float *dst, const float *src, int n);
void qtop__f32_dw_rows_avx2(const qtop_fdw_rows *j);
void qtop__f32_dw_rows_avx512(const qtop_fdw_rows *j);
extern const qtop_f32_direct_kernel qtop__f32_direct_avx512;
extern const qtop_f32_direct_kernel qtop__f32_direct_avx2;
void qtop__sgemm_t7x64_avx512(int kc, const float *Wp, const float *B, int64_t ldb, int np, float *T, int accumulate);
#endif
#endif
