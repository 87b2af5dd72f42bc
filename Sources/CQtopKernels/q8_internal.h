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

#define Q8_MR 6      /* rows (output pixels) per microkernel call */
#define Q8_NBMAX 4   /* 16-channel blocks per microkernel call (avx512) */
#define Q8_MB 48     /* rows per task */

enum { Q8_KIND_GEMM = 0, Q8_KIND_DW = 1 };

struct qtop_qconv {
    qtop_qconv_desc d;
    int isa, kind;
    int oh, ow, icg, ocg, taps, K;
    int Kp;              /* padded reduction length of packed weights / im2col rows */
    int ocb;             /* 16-channel blocks per group */
    int direct;          /* VNNI 1x1: read A straight from src */
    int xor_direct;      /* direct path with s8 src: shift by 128 in the microkernel */
    int shift_im2col;    /* VNNI with s8 src: im2col stores x ^ 0x80 and pads with 0x80 */
    int a_s16;           /* im2col rows are s16 (avx2 / avx512_core) */
    void *wpack;         /* per group: [ocb][Kp/kstep][16][kstep] */
    size_t wgroup_elems; /* elements per group in wpack */
    size_t wblock_elems; /* elements per 16-channel block */
    int8_t *wref;        /* generic: [oc][taps*icg], k = (ky*kw+kx)*icg+ic */
    int32_t *wdw;        /* depthwise: [taps][cp] */
    int cp;              /* depthwise channels padded to 16 */
    int32_t *comp;       /* [oc] int32 correction added to the accumulator (VNNI + s8 src), or NULL */
    float *scale, *bias; /* [oc] */
    float step_r, inv_out;
    float inv_q2;        /* 127 / q2_range when d.has_q2 */
};

int qtop__pool_thread_bound(const qtop_pool *p);
void *qtop__tls_scratch(size_t bytes);

/* Epilogue for `cnt` channels starting at oc0 of output pixel `pix`; acc are int32 accumulators. */
void qtop__q8_epilogue(const struct qtop_qconv *c, int64_t pix, int oc0, int cnt, const int32_t *acc, void *dst,
                       void *dst2, const void *res);

#if defined(__x86_64__)
/* tile: [mr][64] int32. A rows: mr rows of lda elements. W: first block; bstride: elements between blocks. */
void qtop__q8_gemm_vnni(const uint8_t *A, int64_t lda, int mr, const int8_t *W, int64_t bstride, int nb, int kq,
                        int xor_src, int32_t *tile);
void qtop__q8_gemm_avx512(const int16_t *A, int64_t lda, int mr, const int16_t *W, int64_t bstride, int nb, int kq2,
                          int32_t *tile);
void qtop__q8_gemm_avx2(const int16_t *A, int64_t lda, int mr, const int16_t *W, int64_t bstride, int nb, int kq2,
                        int32_t *tile);
/* Tile form: mr pixels from pix0, accumulator rows astride int32 apart. */
void qtop__q8_epilogue_avx512(const struct qtop_qconv *c, int64_t pix0, int mr, int astride, int oc0, int cnt,
                              const int32_t *acc, void *dst, void *dst2, const void *res);
void qtop__q8_epilogue_avx2(const struct qtop_qconv *c, int64_t pix, int oc0, int cnt, const int32_t *acc, void *dst,
                            void *dst2, const void *res);
/* Depthwise: acc[cp] = sum over ntaps of src[off[t] + c] * w[tap[t]*cp + c]. */
void qtop__q8_dw_avx512(const uint8_t *src, int is_signed, int C, int cp, const int32_t *w, const int64_t *off,
                        const int *tap, int ntaps, int32_t *acc);
void qtop__q8_dw_avx2(const uint8_t *src, int is_signed, int C, int cp, const int32_t *w, const int64_t *off,
                      const int *tap, int ntaps, int32_t *acc);
#endif
#endif
