/* Internal to CQtopKernels (not imported by Swift). */
#ifndef QTOP_Q8_INTERNAL_H
#define QTOP_Q8_INTERNAL_H
#include "include/qtop_kernels.h"
#include <math.h>
#include <stdint.h>

/* Scalar requantization (docs/int8-semantics.md step 6): y * inv, NaN → 0, clamp to [lo, hi], round half to even.
 * Every scalar path uses this one definition; the SIMD epilogues mirror it. */
static inline int32_t requant(float y, float inv, float lo, float hi) {
    float v = y * inv;
    if (v != v) return 0;   /* NaN → 0 */
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    return (int32_t)rintf(v);
}

#define Q8_MR 6      /* most rows (output pixels) of any int8 GEMM microkernel */
#define Q8_NBMAX 4   /* most 16-channel blocks of any int8 GEMM microkernel */
#define Q8_EPI_BLOCKS 4 /* 16-channel blocks per epilogue call: the GEMM tile is [Q8_MR][64] int32 */
#define Q8_MB 48     /* rows per task */
#define Q8_DW_RUN 8  /* depthwise output pixels per microkernel call (interior runs) */

enum { Q8_KIND_GEMM = 0, Q8_KIND_DW = 1 };

struct qtop_qconv;

/* int8 GEMM microkernel: mr ≤ MR rows of A (lda elements apart) × nb ≤ NB blocks of 16 channels of packed W (block
 * `bstride` elements apart, each [ksteps][16][kstep]) → tile[mr][64] int32. xor_src: flip bit 7 of every A byte
 * (s8 activations on a u8 kernel; the driver adds the correction). */
typedef void (*qtop_q8_gemm_fn)(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                int ksteps, int xor_src, int32_t *tile);
/* Epilogue on a tile: mr output pixels from pix0 (acc rows astride int32 apart), channels oc0 .. oc0+cnt. */
typedef void (*qtop_q8_epi_fn)(const struct qtop_qconv *c, int64_t pix0, int mr, int astride, int oc0, int cnt,
                               const int32_t *acc, void *dst, void *dst2, const void *res);
/* Depthwise over n ≤ Q8_DW_RUN output pixels ox0 .. ox0+n-1 of one output row, channels c0 .. c0+cnt-1:
 * acc[j][ch - c0] (rows c->cp apart; a kernel may also fill rows n .. Q8_DW_RUN-1) = the sum over taps (ky, kx)
 * whose input column ix = (ox0+j)·stride_w - pad_l + kx·dil_w lies in [0, w) of rows[ky][ix·ic + ch - c0] ·
 * weight(ch, ky, kx). rows[ky] is the window's input row ky at column 0, channel c0, or a zero row (w·ic bytes)
 * when that row is outside the image. Kernels read the packed weights c->wdw (qtop__q8_dw_widx) or c->wref. */
typedef void (*qtop_q8_dw_fn)(const struct qtop_qconv *c, const uint8_t *const *rows, int ox0, int n, int c0, int cnt,
                              int32_t *acc);

/* One depthwise microkernel and the channel granularity it needs (cp, the padded channel count, is a multiple). */
typedef struct {
    const char *name;       /* op × tile × ISA, e.g. "q8_dw_p8_avx2" */
    qtop_q8_dw_fn fn;
    int cw;                 /* channels per packed chunk: the unit of channel padding and of channel splits */
} qtop_q8_dw_kernel;

/* Index of tap (ky, kx)'s weight for channel ch in the packed depthwise weights: vertically adjacent taps form a
 * pair p = (ky/2)·kw + kx (the last row of an odd kernel pairs with a zero weight), and each pair is cp channels
 * of s16 (w_ky, w_ky+1) in channel order, so 8 channels of one pair are one 32-byte vector. */
static inline int64_t qtop__q8_dw_widx(int ch, int ky, int kx, int kw, int cp) {
    return ((int64_t)(ky / 2) * kw + kx) * cp * 2 + (int64_t)ch * 2 + (ky & 1);
}
/* 1 when a byte of the mr × k tile exceeds 127. */
typedef int (*qtop_q8_over127_fn)(const uint8_t *A, int64_t lda, int mr, int k);

/* One int8 GEMM microkernel and the packing it reads. */
typedef struct {
    const char *name;       /* op × tile × ISA, e.g. "q8_gemm_u8_6x64c4_avx512vnni" */
    qtop_q8_gemm_fn fn;
    int mr, nbmax;          /* register tile: mr rows × nbmax·16 channels */
    int kstep;              /* k per lane: 4 → A u8 bytes, W s8 [16][4]; 2 → A s16, W s16 [16][2] */
    int shift_s8;           /* serves s8 activations shifted by 128 (+ per-channel correction) */
    qtop_q8_over127_fn over127; /* non-NULL: exact only for A bytes ≤ 127; tiles with larger bytes go generic */
    int signed_a;           /* reads A as s8 (s8 activations as they are: no shift, no correction); exact only when
                             * no weight is -128, which create checks (else the row's s16 kernel) */
    int min_icg;            /* signed_a kernels: serve only convs with at least this many input channels per group
                             * (below it, e.g. the 3-channel stem, the s16 kernel measured faster) */
} qtop_q8_gemm_kernel;

struct qtop_qconv {
    qtop_qconv_desc d;
    int isa, kind;
    const struct qtop_isa_config *cfg;
    const qtop_q8_gemm_kernel *gk; /* GEMM microkernel chosen at create (NULL: generic reference) */
    int oh, ow, icg, ocg, taps, K;
    int Kp;              /* padded reduction length of packed weights / im2col rows */
    int ocb;             /* 16-channel blocks per group */
    int direct;          /* u8 kernel on 1x1/stride 1/no pad with K % kstep == 0: read A straight from src */
    int xor_direct;      /* direct path with s8 src: shift by 128 in the microkernel */
    int shift_im2col;    /* u8 kernel with s8 src: im2col stores x ^ 0x80 and pads with 0x80 */
    int a_s16;           /* im2col rows are s16 */
    int widen_direct;    /* s16 on a 1x1/stride 1/no pad conv with K == Kp: a row block is one widened run of src */
    void *wpack;         /* per group: [ocb][Kp/kstep][16][kstep] */
    size_t wgroup_elems; /* elements per group in wpack */
    size_t wblock_elems; /* elements per 16-channel block */
    int8_t *wref;        /* generic: [oc][taps*icg], k = (ky*kw+kx)*icg+ic */
    int16_t *wdw;        /* depthwise: packed vertical tap pairs (qtop__q8_dw_widx) */
    const qtop_q8_dw_kernel *dk; /* depthwise microkernel chosen at create */
    int cp;              /* depthwise channels padded to the kernel's chunk width */
    int npairs;          /* depthwise tap pairs: (kh + 1) / 2 · kw */
    uint8_t *dwzero;     /* depthwise zero row (w · ic bytes) for window rows outside the image */
    int32_t *comp;       /* [oc] int32 correction added to the accumulator (shifted s8 src), or NULL */
    float *scale, *bias; /* [oc] */
    float step_r, inv_out;
    float inv_q2;        /* 127 / q2_range when d.has_q2 */
};

int qtop__pool_thread_bound(const qtop_pool *p);
void *qtop__tls_scratch(size_t bytes);

/* Epilogue for `cnt` channels starting at oc0 of output pixel `pix`; acc are int32 accumulators. */
void qtop__q8_epilogue(const struct qtop_qconv *c, int64_t pix, int oc0, int cnt, const int32_t *acc, void *dst,
                       void *dst2, const void *res);

/* Generic C on the u8 packing (exact for any bytes): the fallback of kernels with an over127 bound. */
void qtop__q8_gemm_u8_ref(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb, int ksteps,
                          int xor_src, int32_t *tile);
void qtop__q8_dw_generic(const struct qtop_qconv *c, const uint8_t *const *rows, int ox0, int n, int c0, int cnt,
                         int32_t *acc);
void qtop__q8_epi_generic(const struct qtop_qconv *c, int64_t pix0, int mr, int astride, int oc0, int cnt,
                          const int32_t *acc, void *dst, void *dst2, const void *res);

#if defined(__x86_64__)
void qtop__q8_gemm_u8_6x64c4_avx512vnni(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                        int ksteps, int xor_src, int32_t *tile);
void qtop__q8_gemm_s16_6x64c2_avx512(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                     int ksteps, int xor_src, int32_t *tile);
void qtop__q8_gemm_s8_5x64c4_avx512bw(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                      int ksteps, int xor_src, int32_t *tile);
void qtop__q8_gemm_u8_6x64c4_avx512(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                    int ksteps, int xor_src, int32_t *tile);
void qtop__q8_gemm_s16_6x16c2_avx2(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                   int ksteps, int xor_src, int32_t *tile);
void qtop__q8_gemm_u8_6x16c4_avx2(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                  int ksteps, int xor_src, int32_t *tile);
void qtop__q8_gemm_u8_4x32c4_avx2(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                  int ksteps, int xor_src, int32_t *tile);
int qtop__q8_any_over127_avx2(const uint8_t *A, int64_t lda, int mr, int k);
void qtop__q8_epi_avx512(const struct qtop_qconv *c, int64_t pix0, int mr, int astride, int oc0, int cnt,
                         const int32_t *acc, void *dst, void *dst2, const void *res);
void qtop__q8_epi_avx2(const struct qtop_qconv *c, int64_t pix0, int mr, int astride, int oc0, int cnt,
                       const int32_t *acc, void *dst, void *dst2, const void *res);
void qtop__q8_dw_p8_avx2(const struct qtop_qconv *c, const uint8_t *const *rows, int ox0, int n, int c0, int cnt,
                         int32_t *acc);
#endif
#endif
