#ifndef QTOP_KERNELS_H
#define QTOP_KERNELS_H
/*
 * qtop C kernel layer: CPU detection, a persistent thread pool, int8 kernels (NHWC, exact integer
 * arithmetic of docs/int8-semantics.md) and fp32 kernels (NCHW), each with a generic C implementation
 * and per-ISA implementations selected at creation time.
 *
 * This header is imported by Swift: no intrinsics headers, plain C types only.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int qtop_kernels_abi_version(void);

/* ---------------------------------------------------------------- CPU detection */

/* Same order as Swift's ISALevel. */
typedef enum {
    QTOP_ISA_GENERIC = 0,
    QTOP_ISA_SSE41 = 1,
    QTOP_ISA_AVX2 = 2,
    QTOP_ISA_AVX2_VNNI = 3,
    QTOP_ISA_AVX512_CORE = 4,
    QTOP_ISA_AVX512_VNNI = 5,
    QTOP_ISA_NEON = 6,
    QTOP_ISA_NEON_DOTPROD = 7,
    QTOP_ISA_COUNT = 8
} qtop_isa;

/* Bit i set = ISA level i usable on this CPU with this OS (generic is always set). */
uint32_t qtop_cpu_isa_mask(void);
/* CPU model name (CPUID brand string, /proc/cpuinfo or sysctl); never NULL. */
const char *qtop_cpu_model_name(void);
/* "generic", "sse41", "avx2", ... (Swift ISALevel raw values); "?" when out of range. */
const char *qtop_isa_name(int isa);
/* Bit i set = this build contains kernels for ISA level i (x86 levels only on x86-64). */
uint32_t qtop_compiled_isa_mask(void);

/* ---------------------------------------------------------------- thread pool */

typedef struct qtop_pool qtop_pool;
/* fn(ctx, task, thread) for task in [0, n); thread in [0, qtop_pool_threads(pool)). */
typedef void (*qtop_task_fn)(void *ctx, int64_t task, int thread);

/* A pool of `threads` total threads: the caller of parallel_for plus threads-1 persistent workers. */
qtop_pool *qtop_pool_create(int threads);
void qtop_pool_destroy(qtop_pool *pool);
int qtop_pool_threads(const qtop_pool *pool); /* 1 for NULL */
/* Runs every task once and returns when all are done. The caller participates. pool may be NULL (serial).
 * Calls from inside a task run serially on the calling thread (thread index 0 of a private serial context
 * is NOT used: nested tasks see the caller's thread index). Concurrent calls on one pool are serialized. */
void qtop_parallel_for(qtop_pool *pool, int64_t n, qtop_task_fn fn, void *ctx);

/* ---------------------------------------------------------------- common enums */

typedef enum { QTOP_DT_U8 = 0, QTOP_DT_S8 = 1, QTOP_DT_F32 = 2, QTOP_DT_NONE = 3 } qtop_dtype;

/* Largest value a kernel writes to a u8 tensor. Paddle's symmetric 8-bit grid tops out at qmax = 127, so a u8
 * tensor holds the non-negative half of that grid; saturating higher would let values through that Paddle clips.
 * (u8 *inputs* may hold any value 0..255; kernels accept them.) */
#define QTOP_U8_MAX 127.0f
typedef enum { QTOP_ACT_NONE = 0, QTOP_ACT_RELU = 1, QTOP_ACT_RELU6 = 2, QTOP_ACT_HARD_SWISH = 3 } qtop_act;
/* Int8 epilogue only (qconv/qmatmul descs; the fp32 descs take the four above): sigmoid, hard_sigmoid with
 * act_alpha = slope and act_beta = offset, swish (silu, beta 1). Exact definitions (a fixed exp polynomial, every
 * step a separately rounded Float operation): docs/int8-semantics.md step 5 and q8_act.h. */
#define QTOP_ACT_SIGMOID 4
#define QTOP_ACT_HARD_SIGMOID 5
#define QTOP_ACT_SWISH 6
#define QTOP_ACT_MAX_INT8 6
/* y[i] = act(y[i]) for the int8 epilogue's activation codes, the same scalar definition (for float kernels whose
 * own epilogue lacks an activation: applied after them). */
void qtop_act_apply_f32(float *y, int64_t n, int act, float alpha, float beta, qtop_pool *pool);

/* ---------------------------------------------------------------- convolution family */

/* The one classification of a convolution shape, used by the int8 and fp32 drivers and by Swift's registry:
 * depthwise (groups == ic == oc > 1), else 1×1, else k×k. */
typedef enum { QTOP_CONV_1X1 = 0, QTOP_CONV_KXK = 1, QTOP_CONV_DW = 2 } qtop_conv_family_kind;
int qtop_conv_family(int ic, int oc, int groups, int kh, int kw);
/* "conv1x1", "conv" or "dwconv" (registry implementation names); "?" when out of range. */
const char *qtop_conv_family_name(int family);

/* ---------------------------------------------------------------- int8 convolution (NHWC) */

typedef struct {
    int n, h, w, ic;               /* input NHWC */
    int oc, kh, kw;                /* weights [oc][ic/groups][kh][kw] */
    int stride_h, stride_w;
    int pad_t, pad_b, pad_l, pad_r;
    int dil_h, dil_w;
    int groups;
    int src_dt;                    /* QTOP_DT_U8 or QTOP_DT_S8 */
    int dst_dt;                    /* QTOP_DT_U8, QTOP_DT_S8 or QTOP_DT_F32 (NHWC) */
    int res_dt;                    /* QTOP_DT_NONE, QTOP_DT_U8, QTOP_DT_S8 or QTOP_DT_F32 (NHWC, output shape) */
    int act;                       /* qtop_act */
    float in_range;                /* S_x (abs-max range): step = S_x / 127 */
    float out_range;               /* S_out, for u8/s8 output: inv = 127 / S_out */
    float res_range;               /* S_r, for int8 residual */
    /* Optional second output (has_q2 = 1, only with dst_dt == F32): the f32 value y of every element, also
     * quantized as a separate `quantize` node would: clamp(rint(y * (127 / q2_range))) into q2_dt (u8/s8) NHWC. */
    int has_q2;
    int q2_dt;                     /* QTOP_DT_U8 or QTOP_DT_S8 */
    float q2_range;
    float act_alpha, act_beta;     /* hard_sigmoid slope and offset (unused by other activations) */
} qtop_qconv_desc;

typedef struct qtop_qconv qtop_qconv;

/* Output spatial size for a desc (0 or negative when invalid). */
int qtop_qconv_out_h(const qtop_qconv_desc *d);
int qtop_qconv_out_w(const qtop_qconv_desc *d);
/* Can `isa` serve this desc with ISA cap `cap`? Returns 1 (why gets a short note, may be "") or 0 (why = reason). */
int qtop_qconv_query(const qtop_qconv_desc *d, int isa, int cap, char *why, size_t why_len);
/* Implementation family used for this desc: "conv1x1", "conv" or "dwconv". */
const char *qtop_qconv_impl_name(const qtop_qconv_desc *d);
/* Packs weights once. weights: s8 [oc][ic/groups][kh][kw]; weight_ranges: Sw[oc]; bias: f32 [oc] or NULL.
 * Returns NULL when the ISA cannot serve the desc (see query). */
qtop_qconv *qtop_qconv_create(const qtop_qconv_desc *d, const int8_t *weights, const float *weight_ranges,
                              const float *bias, int isa);
/* Verification only (tests, kernel benchmarks): as create at `isa`, with that ISA row's twin kernels, the same source
 * compiled for an encoding this CPU runs (avx2_vnni's VEX vpdpbusd as EVEX on an AVX-512 VNNI CPU without AVX-VNNI).
 * NULL when `isa` has no twin here or the row cannot serve the desc. Never chosen by dispatch. */
qtop_qconv *qtop_qconv_create_twin(const qtop_qconv_desc *d, const int8_t *weights, const float *weight_ranges,
                                   const float *bias, int isa);
/* src NHWC (u8/s8), dst NHWC, residual NHWC (or NULL when res_dt == NONE). */
void qtop_qconv_run(qtop_qconv *c, const void *src, void *dst, const void *residual, qtop_pool *pool);
/* As qtop_qconv_run, plus dst2 (u8/s8 NHWC, output shape) for a desc with has_q2 = 1 (NULL otherwise). */
void qtop_qconv_run2(qtop_qconv *c, const void *src, void *dst, void *dst2, const void *residual, qtop_pool *pool);
void qtop_qconv_destroy(qtop_qconv *c);
int qtop_qconv_isa(const qtop_qconv *c);

/* ---------------------------------------------------------------- int8 matmul / fc */

typedef struct {
    int m, k, n;                   /* X [m][k] (u8/s8) × W [k][n] (s8) → Out [m][n] */
    int src_dt, dst_dt, res_dt, act;
    float in_range, out_range, res_range;
    float act_alpha, act_beta;     /* as in qtop_qconv_desc */
} qtop_qmatmul_desc;

typedef struct qtop_qmatmul qtop_qmatmul;
int qtop_qmatmul_query(const qtop_qmatmul_desc *d, int isa, int cap, char *why, size_t why_len);
/* weights: s8 [k][n] (Paddle layout); weight_ranges [n]; bias [n] or NULL. */
qtop_qmatmul *qtop_qmatmul_create(const qtop_qmatmul_desc *d, const int8_t *weights, const float *weight_ranges,
                                  const float *bias, int isa);
void qtop_qmatmul_run(qtop_qmatmul *m, const void *src, void *dst, const void *residual, qtop_pool *pool);
void qtop_qmatmul_destroy(qtop_qmatmul *m);

/* ---------------------------------------------------------------- int8 pooling (NHWC) */

/* Windows come from the caller (Paddle's rules: global, adaptive, SAME/VALID/explicit padding, ceil_mode,
 * exclusive live in Swift): output row i reads input rows [rs[i], re[i]), column q reads [cs[q], ce[q]) (empty
 * when end <= start). max: the largest element (0 for an empty window). avg: y = Float(sum) * (step_in /
 * Float(rdiv[i] * cdiv[q])) (a divisor <= 0 counts as 1), requantized like a conv output. */
typedef struct {
    int n, h, w, c;
    int oh, ow;
    int is_avg;                    /* 0 = max, 1 = avg */
    int src_dt, dst_dt;            /* max: dst_dt must equal src_dt; avg: u8/s8/f32 */
    float in_range, out_range;
} qtop_qpool_desc;

typedef struct qtop_qpool qtop_qpool;
/* Checks the desc and every window (0 <= start, end <= extent), copies the windows. NULL (why = reason) when invalid
 * or when `isa` has no kernels in this build / on this CPU. Arrays have oh (rs, re, rdiv) and ow (cs, ce, cdiv)
 * entries. */
qtop_qpool *qtop_qpool_create(const qtop_qpool_desc *d, const int *rs, const int *re, const int *cs, const int *ce,
                              const int *rdiv, const int *cdiv, int isa, char *why, size_t why_len);
void qtop_qpool_run(const qtop_qpool *p, const void *src, void *dst, qtop_pool *pool);
void qtop_qpool_destroy(qtop_qpool *p);

/* ---------------------------------------------------------------- reorders */

/* f32 NCHW → u8/s8 NHWC, q = clamp(rint(x * (127 / range))). For [M,K] use n=M, c=K, h=w=1. `isa`: the row kernels
 * of that level (bit-exact with every other level); a level without them (or that the CPU lacks) runs generic C. */
void qtop_quantize_nchw_to_nhwc(const float *src, void *dst, int dst_dt, int n, int c, int h, int w, float range,
                                int isa, qtop_pool *pool);
/* u8/s8 NHWC → f32 NCHW, x = q * (range / 127). `isa` as above. */
void qtop_dequantize_nhwc_to_nchw(const void *src, int src_dt, float *dst, int n, int c, int h, int w, float range,
                                  int isa, qtop_pool *pool);
/* f32 NHWC → f32 NCHW (generic rows; qtop_scale_nhwc_f32 with s = NULL picks an ISA's). */
void qtop_reorder_nhwc_to_nchw_f32(const float *src, float *dst, int n, int c, int h, int w, qtop_pool *pool);

/* f32 NHWC boundaries of an int8 graph (SE blocks; docs/int8-semantics.md). `isa` as for the reorders above.
 * Global average pool: f32 NHWC [n, hw, c] → dst [n, c]; per channel the hw pixels are summed in pixel order from
 * +0, then divided by hw (one Float division). */
void qtop_gap_nhwc_f32(const float *src, float *dst, int n, int hw, int c, int isa, qtop_pool *pool);
/* Channel scale of f32 NHWC x [n, h, w, c] by s [n, c] (s NULL: 1): y = x * s, then y = x + y when residual,
 * written as f32 NCHW (dst_dt QTOP_DT_F32) or u8/s8 NHWC requantized with `range`. */
void qtop_scale_nhwc_f32(const float *src, const float *s, int residual, void *dst, int dst_dt, float range,
                         int n, int c, int h, int w, int isa, qtop_pool *pool);
/* The same, then + z (f32 NCHW [n, c, h, w], the FPN's upsampled addend) before the store / requantization. */
void qtop_scale_add_nhwc_f32(const float *src, const float *s, int residual, const float *z, void *dst, int dst_dt, float range,
                             int n, int c, int h, int w, int isa, qtop_pool *pool);
/* The same with z at 1/zf of x's extents (f32 NCHW [n, c, h / zf, w / zf]; h and w multiples of zf): pixel (y, x)
 * adds z's (y / zf, x / zf), a nearest zf-times upsample folded into the add. Returns 0 (nothing written) on bad
 * arguments. */
int qtop_scale_add_up_nhwc_f32(const float *src, const float *s, int residual, const float *z, int zf, void *dst, int dst_dt,
                               float range, int n, int c, int h, int w, int isa, qtop_pool *pool);
/* Nearest interp of a u8/s8 NHWC tensor [n, ih, iw, c] → [n, oh, ow, c]: output pixel (y, x) copies input pixel
 * (rows[y], cols[x]) (Paddle's nearest indices, computed by the caller). Returns 0 (nothing written) when an index
 * or extent is out of range. */
int qtop_q8_nearest_nhwc(const void *src, void *dst, int n, int ih, int iw, int c, int oh, int ow, const int *rows,
                         const int *cols, qtop_pool *pool);
/* Data movement (f32_layout.c; byte copies, no arithmetic). qtop_copy_bytes: memcpy split over the pool.
 * qtop_concat_bytes: output row o (of `outer`) is input 0's row o (row_bytes[0] bytes), then input 1's, ...;
 * concat on axis a is outer = prod(shape[..<a]), row_bytes[i] = shape_i[a...] * element size. 0 on bad arguments.
 * qtop_nearest_nchw_f32: `planes` (n*c) planes of 4-byte elements ih x iw -> oh x ow, output (y, x) copies input
 * (rows[y], cols[x]); 0 (nothing written) when an index or extent is out of range. */
void qtop_copy_bytes(void *dst, const void *src, int64_t bytes, qtop_pool *pool);
int qtop_concat_bytes(const void *const *srcs, const int64_t *row_bytes, int k, void *dst, int64_t outer, qtop_pool *pool);
int qtop_nearest_nchw_f32(const void *src, void *dst, int64_t planes, int ih, int iw, int oh, int ow, const int *rows,
                          const int *cols, qtop_pool *pool);
/* qconcat along channels: `rows` pixels; input i (u8/s8 per src_dts, chans[i] channels) lands at its channel
 * offset of dst (u8/s8, cout = sum of chans) as clamp(rint(Float(q) * ratios[i])) (docs/int8-semantics.md "Other
 * integer ops"), with the rescale rows of `isa` (bit-exact with the generic one). Returns 0 (nothing written) on bad
 * arguments. */
int qtop_q8_concat_nhwc(const void *const *srcs, const int *src_dts, const int *chans, const float *ratios, int k,
                        void *dst, int dst_dt, int64_t rows, int cout, int isa, qtop_pool *pool);

/* ---------------------------------------------------------------- fp32 convolution (NCHW) */

typedef struct {
    int n, ic, h, w;               /* input NCHW */
    int oc, kh, kw;                /* weights [oc][ic/groups][kh][kw] */
    int stride_h, stride_w;
    int pad_t, pad_b, pad_l, pad_r;
    int dil_h, dil_w;
    int groups;
    int has_residual;              /* residual f32 NCHW, output shape */
    int act;
} qtop_fconv_desc;

typedef struct qtop_fconv qtop_fconv;
int qtop_fconv_out_h(const qtop_fconv_desc *d);
int qtop_fconv_out_w(const qtop_fconv_desc *d);
int qtop_fconv_query(const qtop_fconv_desc *d, int isa, int cap, char *why, size_t why_len);
/* "conv1x1", "conv" or "dwconv". */
const char *qtop_fconv_impl_name(const qtop_fconv_desc *d);
qtop_fconv *qtop_fconv_create(const qtop_fconv_desc *d, const float *weights, const float *bias, int isa);
void qtop_fconv_run(qtop_fconv *c, const float *src, float *dst, const float *residual, qtop_pool *pool);
void qtop_fconv_destroy(qtop_fconv *c);

/* ---------------------------------------------------------------- fp32 matmul / fc */

typedef struct {
    int m, k, n;                   /* X [m][k] × W [k][n] (+ bias [n]) (+ residual [m][n]) → act */
    int has_residual;
    int act;
} qtop_fmatmul_desc;

typedef struct qtop_fmatmul qtop_fmatmul;
int qtop_fmatmul_query(const qtop_fmatmul_desc *d, int isa, int cap, char *why, size_t why_len);
/* weights [k][n] packed once; bias [n] or NULL. */
qtop_fmatmul *qtop_fmatmul_create(const qtop_fmatmul_desc *d, const float *weights, const float *bias, int isa);
void qtop_fmatmul_run(qtop_fmatmul *m, const float *x, float *dst, const float *residual, qtop_pool *pool);
void qtop_fmatmul_destroy(qtop_fmatmul *m);

/* ---------------------------------------------------------------- fp32 transposed convolution (NCHW) */

/* Paddle's conv2d_transpose: input pixel (iy, ix) adds x · W[ic][o][ky][kx] to output pixel
 * (iy·stride_h - pad_t + ky·dil_h, ix·stride_w - pad_l + kx·dil_w) of channel g·(oc/groups) + o; taps falling
 * outside [0, oh) × [0, ow) are dropped; y = act(Σ + bias). (f32_deconv.c) */
typedef struct {
    int n, ic, h, w;               /* input NCHW */
    int oc, kh, kw;                /* weights [ic][oc/groups][kh][kw] */
    int oh, ow;                    /* output extent (output_padding / output_size already applied by the caller) */
    int stride_h, stride_w;
    int pad_t, pad_l;
    int dil_h, dil_w;
    int groups;
    int act;                       /* QTOP_ACT_NONE / RELU / RELU6 / HARD_SWISH */
} qtop_fdeconv_desc;

typedef struct qtop_fdeconv qtop_fdeconv;
int qtop_fdeconv_query(const qtop_fdeconv_desc *d, int isa, int cap, char *why, size_t why_len);
/* Packs the weights once. bias [oc] or NULL. Threads: `pool` at run time. */
qtop_fdeconv *qtop_fdeconv_create(const qtop_fdeconv_desc *d, const float *weights, const float *bias, int isa);
void qtop_fdeconv_run(const qtop_fdeconv *c, const float *src, float *dst, qtop_pool *pool);
void qtop_fdeconv_destroy(qtop_fdeconv *c);
/* "exact-cover" (kernel == stride, every output pixel one tap) or "scatter-accumulate". */
const char *qtop_fdeconv_mode(const qtop_fdeconv *c);

/* ---------------------------------------------------------------- int8 transposed convolution (q8_deconv.c) */

/* qconv2d_transpose: the geometry of qtop_fdeconv_desc on u8/s8 NHWC input; acc = the exact int32 sum of the
 * products reaching an output element, then the qconv epilogue (docs/int8-semantics.md steps 2–6, no residual).
 * Output u8/s8 NHWC, or f32 NCHW. */
typedef struct {
    int n, h, w, ic;               /* input NHWC */
    int oc, kh, kw;                /* weights s8 [ic][oc/groups][kh][kw] */
    int oh, ow;                    /* output extent (output_padding / output_size applied) */
    int stride_h, stride_w, pad_t, pad_l, dil_h, dil_w, groups;
    int src_dt;                    /* QTOP_DT_U8 or QTOP_DT_S8 */
    int dst_dt;                    /* QTOP_DT_U8 / QTOP_DT_S8 (NHWC) or QTOP_DT_F32 (NCHW) */
    int act;                       /* qtop_act or QTOP_ACT_SIGMOID .. QTOP_ACT_SWISH */
    float in_range, out_range;     /* S_x; S_out for u8/s8 output */
    float act_alpha, act_beta;     /* hard_sigmoid slope and offset */
} qtop_qdeconv_desc;

typedef struct qtop_qdeconv qtop_qdeconv;
/* 1 when `isa` (capped at `cap`) serves the desc (why = the GEMM microkernel), else 0 with the reason. */
int qtop_qdeconv_query(const qtop_qdeconv_desc *d, int isa, int cap, char *why, size_t why_len);
/* Packs once. weight_ranges, bias: [oc] (bias may be NULL). Streams may share one object. */
qtop_qdeconv *qtop_qdeconv_create(const qtop_qdeconv_desc *d, const int8_t *weights, const float *weight_ranges,
                                  const float *bias, int isa);
void qtop_qdeconv_run(const qtop_qdeconv *k, const void *src, void *dst, qtop_pool *pool);
void qtop_qdeconv_destroy(qtop_qdeconv *k);
/* "exact-cover" or "scatter-accumulate" (see q8_deconv.c). */
const char *qtop_qdeconv_mode(const qtop_qdeconv *k);

/* ---------------------------------------------------------------- fp32 pooling (NCHW) */

/* planes = n*c planes of h×w → oh×ow. Output row i reads input rows [rs[i], re[i]), column q reads [cs[q], ce[q])
 * (empty when end <= start). max: starts at -FLT_MAX, y = y > x ? y : x (Paddle's order). avg: sum in row-major
 * window order divided by (float)(rdiv[i] * cdiv[q]). The window arrays must outlive the call. */
void qtop_fpool_nchw(const float *src, float *dst, int planes, int h, int w, int oh, int ow, const int *rs,
                     const int *re, const int *cs, const int *ce, const int *rdiv, const int *cdiv, int is_max,
                     qtop_pool *pool);

/* fp32 pool2d through the ISA row's pooling kernels (f32_pool.c): `global` windows fold each plane in 64 lanes;
 * column windows that are regular (cs[q] = max(0, q*col_s - col_p), ce[q] = min(w, q*col_s - col_p + col_k), checked)
 * fold row by row; anything else takes qtop_fpool_nchw. Every ISA row gives the same bits. Returns 1, or 0 when the
 * row has no kernels or the sizes are invalid (nothing written). */
typedef struct {
    int planes, h, w, oh, ow, is_max, global;
    const int *rs, *re, *cs, *ce, *rdiv, *cdiv;   /* windows and divisors as for qtop_fpool_nchw */
    int col_k, col_s, col_p;                      /* regular column windows (col_k 0: none) */
} qtop_fpool_desc;
int qtop_fpool2d(int isa, const qtop_fpool_desc *d, const float *src, float *dst, qtop_pool *pool);

/* ---- fp32 elementwise / row ops of the model families (f32_ops.c) ----
 * `isa` picks the isa_config row (generic = the scalar reference); each returns 1, or 0 when that row has no
 * such kernels or an argument is out of range (nothing written). Threads: `pool` (NULL = serial). */
typedef enum { QTOP_BIN_ADD, QTOP_BIN_SUB, QTOP_BIN_MUL, QTOP_BIN_DIV, QTOP_BIN_MAX, QTOP_BIN_MIN } qtop_binop;
typedef enum { QTOP_UN_RELU, QTOP_UN_SIGMOID, QTOP_UN_SWISH, QTOP_UN_HARD_SIGMOID, QTOP_UN_HARD_SWISH } qtop_unop;
/* swish: a = beta; hard_sigmoid: a = slope, b = offset; hard_swish: a = threshold, b = scale, c = offset. */
typedef struct { int op; float a, b, c; } qtop_unary_desc;
/* 1 when `isa` has fp32 op kernels in this build and the CPU runs them. */
int qtop_f32_ops_available(int isa);
/* rows × inner outputs: out[r*inner + i] = x[xoff[r] + i*xstep] op y[yoff[r] + i*ystep] (steps 0 or 1: a
 * broadcast scalar or a contiguous run; NULL offsets = 0). The caller lays broadcasting out as these rows. */
int qtop_f32_binary_rows(int isa, int op, const float *x, const float *y, float *out, int64_t rows, int64_t inner,
                         const int64_t *xoff, const int64_t *yoff, int xstep, int ystep, qtop_pool *pool);
int qtop_f32_unary(int isa, const qtop_unary_desc *d, const float *x, float *y, int64_t n, qtop_pool *pool);
/* layer_norm over rows of `cols`: Paddle's formula; scale / bias / mean / var may be NULL. */
int qtop_f32_layer_norm(int isa, const float *x, float *y, int64_t rows, int64_t cols, float eps, const float *scale,
                        const float *bias, float *mean, float *var, qtop_pool *pool);
/* Row r of `inner` values: y = x + x * s[r] (s[r % channels] when shared), the product rounded before the sum
 * (scale_residual), then y + z (z NULL: none; same layout as x). 0 when `isa` has no fp32 op rows. */
int qtop_f32_scale_residual_rows(int isa, const float *x, const float *s, const float *z, float *y, int64_t rows, int64_t inner,
                                 int64_t channels, int shared, qtop_pool *pool);
/* Row r of `inner` values: y = x * scale[r % channels] + bias[r % channels] (inference batch_norm, NCHW). */
int qtop_f32_affine_rows(int isa, const float *x, float *y, int64_t rows, int64_t inner, const float *scale,
                         const float *bias, int64_t channels, qtop_pool *pool);
/* softmax over each contiguous row of `cols`. */
int qtop_f32_softmax_rows(int isa, const float *x, float *y, int64_t rows, int64_t cols, qtop_pool *pool);

/* ---- fp32 batched matmul of two activations (f32_bmm.c) ----
 * out[b] = alpha · op(X[xoff[b]]) · op(Y[yoff[b]]) for b in [0, batch), matrices row-major and contiguous; op(X) is
 * [m][k] (X stored [k][m] when trans_x), op(Y) is [k][n] (Y stored [n][k] when trans_y); xoff / yoff are matrix
 * indices (the caller lays batch broadcasting out as them; NULL = b). The ISA row's fp32 GEMM microkernel. */
typedef struct {
    int batch, m, k, n;
    int trans_x, trans_y;
    float alpha;                   /* 1: none (matmul_v2); legacy matmul's alpha otherwise */
} qtop_fbmm_desc;
int qtop_fbmm_query(const qtop_fbmm_desc *d, int isa, int cap, char *why, size_t why_len);
/* 1, or 0 (nothing written) when the desc is invalid or `isa` has no fp32 GEMM here. */
int qtop_fbmm_run(const qtop_fbmm_desc *d, int isa, const float *x, const float *y, float *out, const int64_t *xoff,
                  const int64_t *yoff, qtop_pool *pool);
/* transpose2 of 4-byte elements (f32_bmm_transpose.c): dst = src permuted, Paddle's / NumPy's `perm` (output dim i
 * is input dim perm[i]); rank <= 8. 1, or 0 when perm or dims are invalid (nothing written). */
int qtop_transpose_4b(const void *src, void *dst, int rank, const int64_t *dims, const int *perm, qtop_pool *pool);

/* ---- int8 batched matmul of two fake-quantized activations (q8_bmm.c) ----
 * Shapes, trans_x / trans_y and xoff / yoff as qtop_fbmm_desc (alpha 1). Both operands are f32 and are quantized
 * inside as `quantize` would (s8, q = saturate(rint(v · (127 / range))), NaN → 0); out = Float(Σ qx·qy) ·
 * ((x_range / 127) · (y_range / 127)), the int32 sum exact (k ≤ 65536): the same bits at every ISA. */
typedef struct {
    int batch, m, k, n;
    int trans_x, trans_y;
    float x_range, y_range;
} qtop_qbmm_desc;
int qtop_qbmm_query(const qtop_qbmm_desc *d, int isa, int cap, char *why, size_t why_len);
int qtop_qbmm_run(const qtop_qbmm_desc *d, int isa, const float *x, const float *y, float *out, const int64_t *xoff,
                  const int64_t *yoff, qtop_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
