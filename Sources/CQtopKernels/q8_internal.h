/* Internal to CQtopKernels (not imported by Swift). */
#ifndef QTOP_Q8_INTERNAL_H
#define QTOP_Q8_INTERNAL_H
#include "include/qtop_kernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

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
#define Q8_STEM_MAXC 4   /* stem path: most input channels */
#define Q8_STEM_MAXSPAN 16 /* stem path: most input rows one output row reads ((kh-1)*dil_h+1) */

/* Stem weight word for channel o (of ocp, chunks of cw), tap t, plane p (of npl): chunks of cw channels (the last
 * one possibly 8), inside a chunk [tap][plane][channel]. */
static inline int64_t qtop__q8_stem_widx(int o, int t, int p, int taps, int npl, int ocp, int cw) {
    int ch = o / cw, nc = ocp - ch * cw < cw ? ocp - ch * cw : cw;
    return (int64_t)ch * cw * taps * npl + ((int64_t)t * npl + p) * nc + o % cw;
}

enum { Q8_KIND_GEMM = 0, Q8_KIND_DW = 1, Q8_KIND_STEM = 2, Q8_KIND_NARROW = 3 };

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

/* Depthwise with the requantizing epilogue fused: every output pixel of one output row (pix0 = the index of its
 * pixel 0), channels c0 .. c0+cnt-1, into dst (dst2, res) as the conv's epilogue would write them; rows as for
 * qtop_q8_dw_fn; acc: scratch of Q8_DW_RUN · cp int32. */
typedef void (*qtop_q8_dw_row_fn)(const struct qtop_qconv *c, const uint8_t *const *rows, int64_t pix0, int c0, int cnt,
                                  int32_t *acc, void *dst, void *dst2, const void *res);

/* One depthwise microkernel and the channel granularity it needs (cp, the padded channel count, is a multiple). */
typedef struct {
    const char *name;       /* op × tile × ISA, e.g. "q8_dw_p8_avx2" */
    qtop_q8_dw_fn fn;
    int cw;                 /* channels per packed chunk: the unit of channel padding and of channel splits */
    qtop_q8_dw_row_fn row;  /* fused row form (NULL: the driver runs fn and the row's epilogue per run) */
} qtop_q8_dw_kernel;

/* Index of tap (ky, kx)'s weight for channel ch in the packed depthwise weights: vertically adjacent taps form a
 * pair p = (ky/2)·kw + kx (the last row of an odd kernel pairs with a zero weight), and each pair is cp channels
 * of s16 (w_ky, w_ky+1) in channel order, so 8 channels of one pair are one 32-byte vector. */
static inline int64_t qtop__q8_dw_widx(int ch, int ky, int kx, int kw, int cp) {
    return ((int64_t)(ky / 2) * kw + kx) * cp * 2 + (int64_t)ch * 2 + (ky & 1);
}
/* Stem (few input channels, q8_stem.c) microkernel: one block of `lanes` output pixels along the vector lanes, the
 * reduction over taps × channel words, for all ocp output channels → tile[lanes][ocp] int32. tap[t] points at tap
 * t's word for output pixel 0 in the stem's padded input row; `off` bytes select the block; npl planes of words
 * (`plane` bytes apart) per tap. Words: 4 u8 channels (vpdpbusd) or 2 s16 channels (vpmaddwd). Weights packed
 * by qtop__q8_stem_widx. */
typedef void (*qtop_q8_stem_fn)(const uint8_t *const *tap, int taps, int64_t off, int64_t plane, int npl,
                                const int32_t *w, int ocp, int32_t *tile);
/* Stem padded-row geometry and the row builder: input row x (NULL outside the image) → the padded row, in one of
 * two layouts. Per-tap words (flat = 0): word (phase p, plane pl, q) at row[(p·npl + pl)·q_len + q] holds the
 * channels of input column q·s + p - pad_l (qtop__q8_stem_word), the zero word outside the image. Flat s16 pairs
 * (flat = 1, s·ic even, dil_w 1): the padded row as one s16 sequence E[pc·ic + c] (pad columns 0) read as
 * s16 pairs D[i] = (E[2i], E[2i+1]), split into P = s·ic/2 planes: row[r·q_len + q] = D[q·P + r]; a kernel row's
 * kw·ic values for consecutive output pixels are then consecutive words of one plane. tmp: scratch of
 * qtop__q8_stem_tmp_words words. Rows hold s·npl·q_len (per-tap) or P·q_len (flat) words, plus 16. */
typedef struct { int s, pad_l, w, ic, s8, s16, q, npl, flat, P; } qtop_q8_stem_geom;
typedef void (*qtop_q8_stem_row_fn)(const qtop_q8_stem_geom *g, const uint8_t *x, uint32_t *row, uint32_t *tmp);

static inline int64_t qtop__q8_stem_tmp_words(const qtop_q8_stem_geom *g) { return ((int64_t)g->q + 8) * g->P + 16; }

/* s16 element e of the flat padded row (0 outside the image). */
static inline int16_t qtop__q8_stem_flat_el(const qtop_q8_stem_geom *g, const uint8_t *x, int64_t e) {
    int64_t ix = e / g->ic - g->pad_l;
    if (!x || ix < 0 || ix >= g->w) return 0;
    uint8_t b = x[ix * g->ic + e % g->ic];
    return g->s8 ? (int8_t)b : b;
}

static inline uint32_t qtop__q8_stem_zero(const qtop_q8_stem_geom *g) { return !g->s16 && g->s8 ? 0x80808080u : 0u; }

/* One pixel's word of plane pl: 4 u8 channels (s8 stored + 128, channels ≥ ic as the zero byte), or channels
 * 2pl, 2pl+1 as s16 (0 past ic). */
static inline uint32_t qtop__q8_stem_word(const qtop_q8_stem_geom *g, const uint8_t *px, int pl) {
    if (!g->s16) {
        uint32_t v = qtop__q8_stem_zero(g);
        for (int ch = 0; ch < g->ic; ch++)
            v = (v & ~(0xFFu << (8 * ch))) | (uint32_t)(uint8_t)(px[ch] ^ (g->s8 ? 0x80 : 0)) << (8 * ch);
        return v;
    }
    px += 2 * pl;
    int16_t lo = g->s8 ? (int8_t)px[0] : px[0];
    int16_t hi = 2 * pl + 1 < g->ic ? (g->s8 ? (int8_t)px[1] : px[1]) : 0;
    return (uint32_t)(uint16_t)lo | (uint32_t)(uint16_t)hi << 16;
}

typedef struct {
    const char *name;       /* op × tile × ISA, e.g. "q8_stem_u8_16px_avx512vnni" */
    qtop_q8_stem_fn fn;
    qtop_q8_stem_row_fn row; /* padded-row builder */
    int lanes;              /* output pixels per block */
    int cw;                 /* most output channels per chunk (16 or 8; the last chunk may be 8) */
    int s16;                /* words are 2 s16 channels (else 4 u8 channels, s8 shifted by 128) */
} qtop_q8_stem_kernel;

/* Narrow k×k (few output channels, q8_narrow.c) microkernel: mr = the kernel's row count of consecutive output
 * pixels × ocp = 8·nv channels. Pixel i's word q at tap t is the 32-bit word at tap[t] + off + i·pstep + 4q (a padded
 * input row: nq words per pixel, 2 s16 or 4 u8 channels each); w holds [taps][nq][ocp] words (the matching 2 s16 or
 * 4 s8 weights); → tile[mr][ocp] int32, the sums added to the tile's values when `add`, else stored. */
typedef void (*qtop_q8_narrow_fn)(const uint8_t *const *tap, int taps, int64_t off, int64_t pstep, int nq,
                                  const int32_t *w, int32_t *tile, int add);
typedef struct {
    const char *name;       /* op × tile × ISA, e.g. "q8_narrow_s16_ymm_avx2" */
    qtop_q8_narrow_fn fn[4]; /* by nv - 1: 8, 16, 24, 32 output channels */
    int mr[4];              /* output pixels per call, by nv - 1 */
    int s16;                /* words are 2 s16 channels (else 4 u8 channels, s8 activations shifted by 128) */
    int min_ic, max_oc;     /* served where it measured faster than the GEMM path (q8_narrow.c's pick) */
    int full_max_ic;        /* output channels in whole 16-channel blocks: only up to this many input channels */
} qtop_q8_narrow_kernel;

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
    const qtop_q8_stem_kernel *sk; /* stem kernel (kind Q8_KIND_STEM) */
    int32_t *wstem;      /* stem weights, qtop__q8_stem_widx order */
    int stem_npl, stem_ocp; /* stem: word planes per tap, channels padded to 8 */
    int stem_flat, stem_taps; /* stem: flat s16 pairs (qtop_q8_stem_geom), kernel taps (kh · pairs when flat) */
    const qtop_q8_narrow_kernel *nk; /* narrow kernel (kind Q8_KIND_NARROW) */
    int32_t *wnarrow;    /* narrow weights [taps][nq][ocp] words */
    int nr_nq, nr_ocp;   /* narrow: words per pixel, channels padded to 8 */
};

int qtop__pool_thread_bound(const qtop_pool *p);
void *qtop__tls_scratch(size_t bytes);

/* s8 bytes as the u8 operand of a vpdpbusd / vpmaddubsw kernel: x ^ 0x80 = x + 128 (the kernels take the 128 back
 * through a per-channel correction), eight bytes at a time. */
static inline void qtop__q8_flip_sign(uint8_t *dst, const uint8_t *src, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, src + i, 8);
        v ^= 0x8080808080808080ull;
        memcpy(dst + i, &v, 8);
    }
    for (; i < n; i++) dst[i] = src[i] ^ 0x80;
}

/* The input-row ring of the direct int8 paths (q8_stem.c, q8_narrow.c): a task walks its band of output rows and
 * keeps input row iy in slot iy mod span, so rows shared by consecutive output rows are built once. tag[slot] says
 * which row a slot holds (INT_MIN: none; reset when the image changes). Returns the slot and whether the caller must
 * (re)build it. */
static inline uint8_t *qtop__q8_ring_slot(uint8_t *rows, size_t rowb, int *tag, int span, int iy, int *build) {
    int slot = ((iy % span) + span) % span;
    *build = tag[slot] != iy;
    tag[slot] = iy;
    return rows + rowb * slot;
}

/* Epilogue for `cnt` channels starting at oc0 of output pixel `pix`; acc are int32 accumulators. */
/* Stem path (q8_stem.c): the kernel for desc d at row cfg (NULL: not a stem there); create sets up c (0: no);
 * run does the whole conv. */
const qtop_q8_stem_kernel *qtop__q8_stem_pick(const struct qtop_isa_config *cfg, const qtop_qconv_desc *d);
int qtop__q8_stem_create(struct qtop_qconv *c);
void qtop__q8_stem_row_generic(const qtop_q8_stem_geom *g, const uint8_t *x, uint32_t *row, uint32_t *tmp);
void qtop__q8_stem_run(struct qtop_qconv *c, const uint8_t *src, void *dst, void *dst2, const void *res,
                       qtop_pool *pool);

/* Narrow path (q8_narrow.c): same shape as the stem's. */
const qtop_q8_narrow_kernel *qtop__q8_narrow_pick(const struct qtop_isa_config *cfg, const qtop_qconv_desc *d);
int qtop__q8_narrow_create(struct qtop_qconv *c);
void qtop__q8_narrow_run(struct qtop_qconv *c, const uint8_t *src, void *dst, void *dst2, const void *res,
                         qtop_pool *pool);

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
void qtop__q8_gemm_u8_5x16c4_avx2(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                  int ksteps, int xor_src, int32_t *tile);
void qtop__q8_gemm_u8_4x32c4_avx2(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                  int ksteps, int xor_src, int32_t *tile);
int qtop__q8_any_over127_avx2(const uint8_t *A, int64_t lda, int mr, int k);
/* avx2_vnni (q8_avxvnni.c): _vex = AVX-VNNI, the row's kernels; _evex = the same source on AVX512VL + AVX512_VNNI,
 * the row's verification twin */
void qtop__q8_gemm_u8_6x16c4_avx2vnni_vex(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                         int ksteps, int xor_src, int32_t *tile);
void qtop__q8_gemm_u8_6x16c4_avx2vnni_evex(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb,
                                          int ksteps, int xor_src, int32_t *tile);
void qtop__q8_epi_avx512(const struct qtop_qconv *c, int64_t pix0, int mr, int astride, int oc0, int cnt,
                         const int32_t *acc, void *dst, void *dst2, const void *res);
void qtop__q8_epi_avx2(const struct qtop_qconv *c, int64_t pix0, int mr, int astride, int oc0, int cnt,
                       const int32_t *acc, void *dst, void *dst2, const void *res);
void qtop__q8_stem_u8_16px_avx512vnni(const uint8_t *const *tap, int taps, int64_t off, int64_t plane, int npl,
                                      const int32_t *w, int ocp, int32_t *tile);
void qtop__q8_stem_s16_16px_avx512(const uint8_t *const *tap, int taps, int64_t off, int64_t plane, int npl,
                                   const int32_t *w, int ocp, int32_t *tile);
void qtop__q8_stem_row_avx2(const qtop_q8_stem_geom *g, const uint8_t *x, uint32_t *row, uint32_t *tmp);
void qtop__q8_stem_s16_8px_avx2(const uint8_t *const *tap, int taps, int64_t off, int64_t plane, int npl,
                                const int32_t *w, int ocp, int32_t *tile);
void qtop__q8_dw_p8_avx2(const struct qtop_qconv *c, const uint8_t *const *rows, int ox0, int n, int c0, int cnt,
                         int32_t *acc);
void qtop__q8_dw_row_avx2(const struct qtop_qconv *c, const uint8_t *const *rows, int64_t pix0, int c0, int cnt,
                          int32_t *acc, void *dst, void *dst2, const void *res);
void qtop__q8_dw_p8_avx512vnni(const struct qtop_qconv *c, const uint8_t *const *rows, int ox0, int n, int c0, int cnt,
                               int32_t *acc);
void qtop__q8_dw_row_avx512vnni(const struct qtop_qconv *c, const uint8_t *const *rows, int64_t pix0, int c0, int cnt,
                                int32_t *acc, void *dst, void *dst2, const void *res);
#endif
#endif
