/* Int8 convolution / matmul: descriptors, weight packing, task decomposition, generic reference, epilogue. */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#include "isa_config.h"
#include "q8_act.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int out_dim(int in, int k, int s, int p0, int p1, int d) {
    if (s <= 0 || d <= 0 || k <= 0) return 0;
    int eff = d * (k - 1) + 1;
    int span = in + p0 + p1 - eff;
    if (span < 0) return 0;
    return span / s + 1;
}

int qtop_qconv_out_h(const qtop_qconv_desc *d) { return out_dim(d->h, d->kh, d->stride_h, d->pad_t, d->pad_b, d->dil_h); }
int qtop_qconv_out_w(const qtop_qconv_desc *d) { return out_dim(d->w, d->kw, d->stride_w, d->pad_l, d->pad_r, d->dil_w); }

static int is_dw(const qtop_qconv_desc *d) { return qtop_conv_family(d->ic, d->oc, d->groups, d->kh, d->kw) == QTOP_CONV_DW; }

const char *qtop_qconv_impl_name(const qtop_qconv_desc *d) {
    return qtop_conv_family_name(qtop_conv_family(d->ic, d->oc, d->groups, d->kh, d->kw));
}

/* GEMM microkernel for a desc at an ISA row: the u8 kernel for u8 activations (or s8 ones it can shift), else
 * the row's s8 kernel for s8 ones, else the s16 kernel; NULL = generic reference. */
static const qtop_q8_gemm_kernel *pick_gemm(const qtop_isa_config *cfg, const qtop_qconv_desc *d) {
    const qtop_q8_gemm_kernel *u8 = cfg->q8_u8;
    if (u8 && (d->src_dt == QTOP_DT_U8 || u8->shift_s8)) return u8;
    if (cfg->q8_s8 && d->src_dt == QTOP_DT_S8 && d->ic / d->groups >= cfg->q8_s8->min_icg) return cfg->q8_s8;
    return cfg->q8_s16;
}

static int isa_available(int isa) { return (qtop_cpu_isa_mask() >> isa) & 1; }

#define WHY(...) do { if (why && why_len) snprintf(why, why_len, __VA_ARGS__); } while (0)

static int desc_valid(const qtop_qconv_desc *d, char *why, size_t why_len) {
    if (d->n <= 0 || d->h <= 0 || d->w <= 0 || d->ic <= 0 || d->oc <= 0 || d->kh <= 0 || d->kw <= 0) {
        WHY("invalid shape"); return 0;
    }
    if (d->groups <= 0 || d->ic % d->groups || d->oc % d->groups) { WHY("channels not divisible by groups"); return 0; }
    if (d->pad_t < 0 || d->pad_b < 0 || d->pad_l < 0 || d->pad_r < 0) { WHY("negative padding"); return 0; }
    if (qtop_qconv_out_h(d) <= 0 || qtop_qconv_out_w(d) <= 0) { WHY("empty output"); return 0; }
    if (d->src_dt != QTOP_DT_U8 && d->src_dt != QTOP_DT_S8) { WHY("input must be u8 or s8"); return 0; }
    if (d->dst_dt != QTOP_DT_U8 && d->dst_dt != QTOP_DT_S8 && d->dst_dt != QTOP_DT_F32) { WHY("bad output dtype"); return 0; }
    if (d->res_dt < QTOP_DT_U8 || d->res_dt > QTOP_DT_NONE) { WHY("bad residual dtype"); return 0; }
    if (d->act < QTOP_ACT_NONE || d->act > QTOP_ACT_MAX_INT8) { WHY("bad activation"); return 0; }
    if (!(d->in_range > 0) || (d->dst_dt != QTOP_DT_F32 && !(d->out_range > 0)) ||
        ((d->res_dt == QTOP_DT_U8 || d->res_dt == QTOP_DT_S8) && !(d->res_range > 0))) {
        WHY("quantization ranges must be > 0"); return 0;
    }
    if (d->has_q2 && (d->dst_dt != QTOP_DT_F32 || (d->q2_dt != QTOP_DT_U8 && d->q2_dt != QTOP_DT_S8) ||
                      !(d->q2_range > 0))) {
        WHY("second output needs f32 main output, u8/s8 type and range > 0"); return 0;
    }
    int64_t k = (int64_t)d->kh * d->kw * (d->ic / d->groups);
    /* worst case |acc| = 255 * 128 * K must fit int32 */
    if (k > 65000) { WHY("reduction length %lld too large for int32 accumulation", (long long)k); return 0; }
    return 1;
}

int qtop_qconv_query(const qtop_qconv_desc *d, int isa, int cap, char *why, size_t why_len) {
    if (why && why_len) why[0] = 0;
    if (isa < 0 || isa >= QTOP_ISA_COUNT) { WHY("unknown isa"); return 0; }
    if (!desc_valid(d, why, why_len)) return 0;
    const qtop_isa_config *cfg = qtop__isa_config(isa);
    if (!cfg) { WHY("%s: no %s kernel in this build", qtop_isa_name(isa), qtop_isa_name(isa)); return 0; }
    if (!isa_available(isa)) { WHY("%s: cpu lacks %s", qtop_isa_name(isa), qtop_isa_name(isa)); return 0; }
    if (isa > cap && !(cap == QTOP_ISA_GENERIC && isa == QTOP_ISA_GENERIC)) {
        WHY("%s: capped by --isa %s", qtop_isa_name(isa), qtop_isa_name(cap)); return 0;
    }
    if (is_dw(d)) {
        if (!cfg->q8_dw) { WHY("%s: no depthwise kernel at this level (a lower level serves it)", qtop_isa_name(isa)); return 0; }
        return 1;
    }
    const qtop_q8_stem_kernel *sk = qtop__q8_stem_pick(cfg, d);
    if (sk) { WHY("%s", sk->name); return 1; }
    const qtop_q8_narrow_kernel *nk = qtop__q8_narrow_pick(cfg, d);
    if (nk) { WHY("%s", nk->name); return 1; }
    if (!cfg->q8_u8 && !cfg->q8_s16 && isa != QTOP_ISA_GENERIC) {
        WHY("%s: no int8 GEMM kernel at this level", qtop_isa_name(isa)); return 0;
    }
    const qtop_q8_gemm_kernel *gk = pick_gemm(cfg, d);
    if (gk) WHY("%s", gk->name);
    return 1;
}

/* ------------------------------------------------------------------ epilogue (the exact spec chain) */

static inline float act_apply(float y, const qtop_qconv_desc *d) {
    switch (d->act) {
    case QTOP_ACT_RELU: return y > 0 ? y : 0.0f;
    case QTOP_ACT_RELU6: { float t = y > 0 ? y : 0.0f; return t < 6.0f ? t : 6.0f; }
    case QTOP_ACT_HARD_SWISH: {
        float t = y + 3.0f;
        t = t > 0 ? t : 0.0f;
        t = t < 6.0f ? t : 6.0f;
        float s = t * (1.0f / 6.0f);
        return y * s;
    }
    case QTOP_ACT_SIGMOID: return q8_sigmoid(y);
    case QTOP_ACT_HARD_SIGMOID: return q8_hard_sigmoid(y, d->act_alpha, d->act_beta);
    case QTOP_ACT_SWISH: return q8_swish(y);
    default: return y;
    }
}


void qtop__q8_epilogue(const struct qtop_qconv *c, int64_t pix, int oc0, int cnt, const int32_t *acc, void *dst,
                       void *dst2, const void *res) {
    const qtop_qconv_desc *d = &c->d;
    int64_t base = pix * d->oc + oc0;
    for (int j = 0; j < cnt; j++) {
        int ch = oc0 + j;
        int32_t a = acc[j];
        if (c->comp) a += c->comp[ch];
        float y = (float)a * c->scale[ch];
        y = y + c->bias[ch];
        switch (d->res_dt) {
        case QTOP_DT_U8: y = y + (float)((const uint8_t *)res)[base + j] * c->step_r; break;
        case QTOP_DT_S8: y = y + (float)((const int8_t *)res)[base + j] * c->step_r; break;
        case QTOP_DT_F32: y = y + ((const float *)res)[base + j]; break;
        default: break;
        }
        y = act_apply(y, d);
        switch (d->dst_dt) {
        case QTOP_DT_U8: ((uint8_t *)dst)[base + j] = (uint8_t)requant(y, c->inv_out, 0.0f, QTOP_U8_MAX); break;
        case QTOP_DT_S8: ((int8_t *)dst)[base + j] = (int8_t)requant(y, c->inv_out, -128.0f, 127.0f); break;
        default: ((float *)dst)[base + j] = y; break;
        }
        if (d->has_q2) {
            if (d->q2_dt == QTOP_DT_U8) ((uint8_t *)dst2)[base + j] = (uint8_t)requant(y, c->inv_q2, 0.0f, QTOP_U8_MAX);
            else ((int8_t *)dst2)[base + j] = (int8_t)requant(y, c->inv_q2, -128.0f, 127.0f);
        }
    }
}

/* ------------------------------------------------------------------ create */

static int64_t rup(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

static qtop_qconv *create_with(const qtop_qconv_desc *d, const int8_t *weights, const float *weight_ranges,
                               const float *bias, int isa, const qtop_isa_config *cfg);

qtop_qconv *qtop_qconv_create(const qtop_qconv_desc *d, const int8_t *weights, const float *weight_ranges,
                              const float *bias, int isa) {
    if (!qtop_qconv_query(d, isa, isa, NULL, 0)) return NULL;
    return create_with(d, weights, weight_ranges, bias, isa, qtop__isa_config(isa));
}

qtop_qconv *qtop_qconv_create_twin(const qtop_qconv_desc *d, const int8_t *weights, const float *weight_ranges,
                                   const float *bias, int isa) {
    const qtop_isa_config *cfg = qtop__isa_config_twin(isa);
    if (!cfg || !desc_valid(d, NULL, 0) || (is_dw(d) ? !cfg->q8_dw : !pick_gemm(cfg, d))) return NULL;
    return create_with(d, weights, weight_ranges, bias, isa, cfg);
}

static qtop_qconv *create_with(const qtop_qconv_desc *d, const int8_t *weights, const float *weight_ranges,
                               const float *bias, int isa, const qtop_isa_config *cfg) {
    qtop_qconv *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->d = *d;
    c->isa = isa;
    c->cfg = cfg;
    c->kind = is_dw(d) ? Q8_KIND_DW : Q8_KIND_GEMM;
    c->oh = qtop_qconv_out_h(d);
    c->ow = qtop_qconv_out_w(d);
    c->icg = d->ic / d->groups;
    c->ocg = d->oc / d->groups;
    c->taps = d->kh * d->kw;
    c->K = c->taps * c->icg;
    c->scale = malloc(sizeof(float) * d->oc);
    c->bias = malloc(sizeof(float) * d->oc);
    float step_x = d->in_range / 127.0f;
    for (int o = 0; o < d->oc; o++) {
        float ws = weight_ranges[o] / 127.0f;
        c->scale[o] = step_x * ws;
        c->bias[o] = bias ? bias[o] : 0.0f;
    }
    c->step_r = (d->res_dt == QTOP_DT_U8 || d->res_dt == QTOP_DT_S8) ? d->res_range / 127.0f : 0.0f;
    c->inv_out = d->dst_dt != QTOP_DT_F32 ? 127.0f / d->out_range : 0.0f;
    c->inv_q2 = d->has_q2 ? 127.0f / d->q2_range : 0.0f;

    /* reference layout [oc][taps*icg], k = tap*icg + ic */
    c->wref = malloc((size_t)d->oc * c->K);
    for (int o = 0; o < d->oc; o++)
        for (int i = 0; i < c->icg; i++)
            for (int t = 0; t < c->taps; t++)
                c->wref[(size_t)o * c->K + (size_t)t * c->icg + i] = weights[((size_t)o * c->icg + i) * c->taps + t];

    if (c->kind == Q8_KIND_GEMM && qtop__q8_stem_create(c)) return c;
    if (c->kind == Q8_KIND_GEMM && qtop__q8_narrow_create(c)) return c;
    if (c->kind == Q8_KIND_DW) {
        c->dk = c->cfg->q8_dw;
        c->cp = (int)rup(d->oc, c->dk->cw);
        c->npairs = (d->kh + 1) / 2 * d->kw;
        c->wdw = calloc((size_t)c->npairs * 2 * c->cp, sizeof(int16_t));
        for (int t = 0; t < c->taps; t++)
            for (int o = 0; o < d->oc; o++)
                c->wdw[qtop__q8_dw_widx(o, t / d->kw, t % d->kw, d->kw, c->cp)] = c->wref[(size_t)o * c->K + t];
        /* the input row read for window rows outside the image */
        c->dwzero = calloc((size_t)d->w * d->ic, 1);
        return c;
    }
    c->gk = pick_gemm(c->cfg, d);
    if (c->gk && c->gk->signed_a && memchr(c->wref, 0x80, (size_t)d->oc * c->K)) c->gk = c->cfg->q8_s16; /* -128 */
    if (!c->gk) return c;

    c->ocb = (int)((c->ocg + 15) / 16);
    const int kstep = c->gk->kstep;
    const int u8 = kstep == 4;   /* u8 A × s8 W; else s16 × s16 */
    c->Kp = (int)rup(c->K, kstep);
    c->wblock_elems = (size_t)16 * c->Kp;
    c->wgroup_elems = c->wblock_elems * c->ocb;
    size_t esz = u8 ? 1 : 2;
    c->wpack = calloc(c->wgroup_elems * d->groups, esz);
    for (int g = 0; g < d->groups; g++)
        for (int o = 0; o < c->ocg; o++) {
            int blk = o / 16, lane = o % 16;
            const int8_t *src = c->wref + (size_t)(g * c->ocg + o) * c->K;
            for (int k = 0; k < c->K; k++) {
                size_t idx = g * c->wgroup_elems + blk * c->wblock_elems + (size_t)(k / kstep) * 16 * kstep +
                             (size_t)lane * kstep + (k % kstep);
                if (u8) ((int8_t *)c->wpack)[idx] = src[k];
                else ((int16_t *)c->wpack)[idx] = src[k];
            }
        }
    if (u8) {
        c->direct = d->kh == 1 && d->kw == 1 && d->groups == 1 && d->stride_h == 1 && d->stride_w == 1 &&
                    !d->pad_t && !d->pad_b && !d->pad_l && !d->pad_r && (c->icg % 4) == 0;
        int s8 = d->src_dt == QTOP_DT_S8 && !c->gk->signed_a;   /* s8 activations the kernel shifts */
        c->xor_direct = c->direct && s8;
        c->shift_im2col = !c->direct && s8;
        if (s8) {
            c->comp = malloc(sizeof(int32_t) * d->oc);
            for (int o = 0; o < d->oc; o++) {
                int32_t s = 0;
                for (int k = 0; k < c->K; k++) s += c->wref[(size_t)o * c->K + k];
                c->comp[o] = -128 * s;
            }
        }
    } else {
        c->a_s16 = 1;
        c->widen_direct = d->kh == 1 && d->kw == 1 && d->groups == 1 && d->stride_h == 1 && d->stride_w == 1 &&
                          !d->pad_t && !d->pad_b && !d->pad_l && !d->pad_r && c->Kp == c->K;
    }
    return c;
}

void qtop_qconv_destroy(qtop_qconv *c) {
    if (!c) return;
    free(c->scale); free(c->bias); free(c->wref); free(c->wdw); free(c->dwzero); free(c->wpack); free(c->comp);
    free(c->wstem); free(c->wnarrow);
    free(c);
}

int qtop_qconv_isa(const qtop_qconv *c) { return c->isa; }

/* ------------------------------------------------------------------ run */

#define Q8_TILE_ROWS 64          /* most rows per GEMM task (M <= 64: one task; else Q8_MB) */
_Static_assert(Q8_MB <= Q8_TILE_ROWS, "task_gemm's accumulator tile must hold a task's rows");
#define Q8_L1_BUDGET (24 * 1024) /* bytes of weights + A the blocks-outer GEMM order keeps in L1 */
#ifndef Q8_EPI_ROW_BUDGET
#define Q8_EPI_ROW_BUDGET (16 * 1024) /* bytes of output / residual rows one GEMM epilogue call may span */
#endif

#define Q8_SHARED_A_MAX ((size_t)8 << 20) /* most bytes of a run's shared im2col (qrun.acols) */

static int dt_bytes(int dt) { return dt == QTOP_DT_F32 ? 4 : dt == QTOP_DT_NONE ? 0 : 1; }

typedef struct {
    qtop_qconv *c;
    const uint8_t *src;
    void *dst;
    void *dst2;
    const void *res;
    int64_t M;        /* output pixels */
    int mtiles, osplit, oc_per_split;
    int mb;           /* rows per task */
    size_t scratch_bytes;
    void *acols;      /* GEMM: A of every row tile and group, built once per run (task_acols); NULL: per task */
} qrun;

static inline int32_t ld_src(const uint8_t *p, int s8) { return s8 ? (int32_t)(int8_t)*p : (int32_t)*p; }

/* generic reference: one task = one output row (n, oy) */
static void task_generic(void *vctx, int64_t task, int thread) {
    (void)thread;
    qrun *r = vctx;
    qtop_qconv *c = r->c;
    const qtop_qconv_desc *d = &c->d;
    int n = (int)(task / c->oh), oy = (int)(task % c->oh);
    int s8 = d->src_dt == QTOP_DT_S8;
    int32_t acc[64];
    for (int ox = 0; ox < c->ow; ox++) {
        int64_t pix = ((int64_t)n * c->oh + oy) * c->ow + ox;
        for (int o0 = 0; o0 < d->oc; o0 += 64) {
            int cnt = d->oc - o0 < 64 ? d->oc - o0 : 64;
            for (int j = 0; j < cnt; j++) {
                int o = o0 + j, g = o / c->ocg;
                const int8_t *w = c->wref + (size_t)o * c->K;
                int32_t s = 0;
                for (int ky = 0; ky < d->kh; ky++) {
                    int iy = oy * d->stride_h - d->pad_t + ky * d->dil_h;
                    if (iy < 0 || iy >= d->h) continue;
                    for (int kx = 0; kx < d->kw; kx++) {
                        int ix = ox * d->stride_w - d->pad_l + kx * d->dil_w;
                        if (ix < 0 || ix >= d->w) continue;
                        const uint8_t *x = r->src + (((int64_t)n * d->h + iy) * d->w + ix) * d->ic + (int64_t)g * c->icg;
                        const int8_t *wt = w + (size_t)(ky * d->kw + kx) * c->icg;
                        for (int i = 0; i < c->icg; i++) s += ld_src(x + i, s8) * (int32_t)wt[i];
                    }
                }
                acc[j] = s;
            }
            qtop__q8_epilogue(c, pix, o0, cnt, acc, r->dst, r->dst2, r->res);
        }
    }
}

/* im2col rows [m0, m0+mc) of group g into buf (u8 bytes, or s16), row length Kp. */
__attribute__((unused)) static void im2col(const qtop_qconv *c, const uint8_t *src, int g, int64_t m0, int mc, void *buf) {
    const qtop_qconv_desc *d = &c->d;
    int s8 = d->src_dt == QTOP_DT_S8;
    int icg = c->icg, Kp = c->Kp;
    for (int r = 0; r < mc; r++) {
        int64_t m = m0 + r;
        int ox = (int)(m % c->ow);
        int64_t t = m / c->ow;
        int oy = (int)(t % c->oh), n = (int)(t / c->oh);
        int k = 0;
        for (int ky = 0; ky < d->kh; ky++) {
            int iy = oy * d->stride_h - d->pad_t + ky * d->dil_h;
            for (int kx = 0; kx < d->kw; kx++, k += icg) {
                int ix = ox * d->stride_w - d->pad_l + kx * d->dil_w;
                int inb = iy >= 0 && iy < d->h && ix >= 0 && ix < d->w;
                const uint8_t *x = inb ? src + (((int64_t)n * d->h + iy) * d->w + ix) * d->ic + (int64_t)g * icg : NULL;
                if (c->a_s16) {
                    int16_t *o = (int16_t *)buf + (int64_t)r * Kp + k;
                    if (!inb) memset(o, 0, sizeof(int16_t) * icg);
                    else if (s8) for (int i = 0; i < icg; i++) o[i] = (int8_t)x[i];
                    else for (int i = 0; i < icg; i++) o[i] = x[i];
                } else {
                    uint8_t *o = (uint8_t *)buf + (int64_t)r * Kp + k;
                    if (c->shift_im2col) {
                        if (!inb) memset(o, 0x80, icg);
                        else for (int i = 0; i < icg; i++) o[i] = x[i] ^ 0x80;
                    } else {
                        if (!inb) memset(o, 0, icg);
                        else memcpy(o, x, icg);
                    }
                }
            }
        }
        for (; k < Kp; k++) {
            if (c->a_s16) ((int16_t *)buf)[(int64_t)r * Kp + k] = 0;
            else ((uint8_t *)buf)[(int64_t)r * Kp + k] = 0;
        }
    }
}

/* im2col for groups == 1 and dil_w == 1: the in-bounds taps of one kernel row are contiguous in NHWC, so each
 * (row, ky) is one copy plus padding. Same values as im2col(). `s16` (a constant in the two callers, which the
 * compiler specializes) picks the element: bytes for the u8 kernels (xor 0x80 when c->shift_im2col, padding 0x80
 * then), or s16 widened through the ISA row's q8_widen for the s16 kernels (s8 activations at levels without a
 * shifted u8 kernel, e.g. the 3-channel stem at avx2). */
static inline __attribute__((always_inline)) void im2col_rows(const qtop_qconv *c, const uint8_t *src, int64_t m0,
                                                              int mc, void *buf, const int s16) {
    const qtop_qconv_desc *d = &c->d;
    const int ic = d->ic, kw = d->kw, Kp = c->Kp, rowlen = kw * ic;
    const size_t esz = s16 ? sizeof(int16_t) : 1;
    const int shift = !s16 && c->shift_im2col;
    const int padv = shift ? 0x80 : 0;
    const int s8 = d->src_dt == QTOP_DT_S8;
    const qtop_q8_widen_fn widen = c->cfg->q8_widen;
    int ox = (int)(m0 % c->ow);
    int64_t t = m0 / c->ow;
    int oy = (int)(t % c->oh), n = (int)(t / c->oh);
    for (int r = 0; r < mc; r++) {
        uint8_t *row = (uint8_t *)buf + (int64_t)r * Kp * (int64_t)esz, *o = row;
        int ix0 = ox * d->stride_w - d->pad_l;
        int kx0 = ix0 < 0 ? -ix0 : 0;
        int kx1 = d->w - ix0 < kw ? d->w - ix0 : kw;
        if (kx1 < kx0) kx1 = kx0;
        for (int ky = 0; ky < d->kh; ky++, o += esz * (size_t)rowlen) {
            int iy = oy * d->stride_h - d->pad_t + ky * d->dil_h;
            if (iy < 0 || iy >= d->h || kx1 == kx0) { memset(o, padv, esz * (size_t)rowlen); continue; }
            if (kx0) memset(o, padv, esz * (size_t)kx0 * ic);
            const uint8_t *x = src + (((int64_t)n * d->h + iy) * d->w + ix0 + kx0) * ic;
            uint8_t *dst = o + esz * (size_t)kx0 * ic;
            int len = (kx1 - kx0) * ic;
            if (s16) {
                int16_t *w16 = (int16_t *)dst;
                if (widen) widen(w16, x, len, s8);
                else if (s8) for (int i = 0; i < len; i++) w16[i] = (int8_t)x[i];
                else for (int i = 0; i < len; i++) w16[i] = x[i];
            } else if (shift) {
                qtop__q8_flip_sign(dst, x, len);
            } else {
                memcpy(dst, x, (size_t)len);
            }
            if (kx1 < kw) memset(o + esz * (size_t)kx1 * ic, padv, esz * (size_t)(kw - kx1) * ic);
        }
        int k = d->kh * rowlen;
        if (k < Kp) memset(row + esz * (size_t)k, 0, esz * (size_t)(Kp - k));
        if (++ox == c->ow) { ox = 0; if (++oy == c->oh) { oy = 0; n++; } }
    }
}

static void im2col_u8_rows(const qtop_qconv *c, const uint8_t *src, int64_t m0, int mc, uint8_t *buf) {
    im2col_rows(c, src, m0, mc, buf, 0);
}

static void im2col_s16_rows(const qtop_qconv *c, const uint8_t *src, int64_t m0, int mc, int16_t *buf) {
    im2col_rows(c, src, m0, mc, buf, 1);
}

void qtop__q8_epi_generic(const struct qtop_qconv *c, int64_t pix0, int mr, int astride, int oc0, int cnt,
                          const int32_t *acc, void *dst, void *dst2, const void *res) {
    for (int i = 0; i < mr; i++) qtop__q8_epilogue(c, pix0 + i, oc0, cnt, acc + (int64_t)i * astride, dst, dst2, res);
}

/* Plain C on the u8 packing [ksteps][16][4]: exact for every byte value. */
void qtop__q8_gemm_u8_ref(const void *A, int64_t lda, int mr, const void *W, int64_t bstride, int nb, int ksteps,
                          int xor_src, int32_t *tile) {
    const uint8_t *a = A;
    const int8_t *w = W;
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nb; j++)
            for (int l = 0; l < 16; l++) {
                int32_t s = 0;
                for (int k = 0; k < ksteps; k++)
                    for (int q = 0; q < 4; q++) {
                        int32_t x = a[i * lda + k * 4 + q] ^ (xor_src ? 0x80 : 0);
                        s += x * w[j * bstride + (int64_t)k * 64 + l * 4 + q];
                    }
                tile[i * 64 + j * 16 + l] = s;
            }
}

/* The depthwise reference (qtop_q8_dw_fn's contract) on the reference weights. */
void qtop__q8_dw_generic(const struct qtop_qconv *c, const uint8_t *const *rows, int ox0, int n, int c0, int cnt,
                         int32_t *acc) {
    const qtop_qconv_desc *d = &c->d;
    const int s8 = d->src_dt == QTOP_DT_S8;
    for (int j = 0; j < n; j++)
        for (int ch = 0; ch < cnt; ch++) {
            int32_t s = 0;
            for (int ky = 0; ky < d->kh; ky++)
                for (int kx = 0; kx < d->kw; kx++) {
                    int ix = (ox0 + j) * d->stride_w - d->pad_l + kx * d->dil_w;
                    if (ix < 0 || ix >= d->w) continue;
                    s += ld_src(rows[ky] + (int64_t)ix * d->ic + ch, s8) * c->wref[(int64_t)(c0 + ch) * c->K + ky * d->kw + kx];
                }
            acc[(int64_t)j * c->cp + ch] = s;
        }
}

/* The GEMM's A rows [m0, m0+mc) of group g (not the direct path): Kp-long u8 or s16 rows into buf. */
static void build_a(const qrun *r, int g, int64_t m0, int mc, void *buf) {
    const qtop_qconv *c = r->c;
    const qtop_qconv_desc *d = &c->d;
    if (c->widen_direct) {
        /* 1×1, stride 1, no padding: the mc rows are one contiguous run of src, each already Kp long */
        const uint8_t *x = r->src + m0 * d->ic;
        int s8 = d->src_dt == QTOP_DT_S8;
        int64_t n = (int64_t)mc * d->ic;
        if (c->cfg->q8_widen) c->cfg->q8_widen(buf, x, (int)n, s8);
        else for (int64_t e = 0; e < n; e++) ((int16_t *)buf)[e] = s8 ? (int8_t)x[e] : x[e];
    } else if (d->groups == 1 && d->dil_w == 1) {
        if (c->a_s16) im2col_s16_rows(c, r->src, m0, mc, buf);
        else im2col_u8_rows(c, r->src, m0, mc, buf);
    } else {
        im2col(c, r->src, g, m0, mc, buf);
    }
}

/* Phase one of a run whose row tiles are shared by several channel splits: one task = one row tile of one group,
 * built once into the run's shared A (r->acols, [groups][M][Kp]) instead of once per split. */
static void task_acols(void *vctx, int64_t task, int thread) {
    (void)thread;
    const qrun *r = vctx;
    const qtop_qconv *c = r->c;
    int mt = (int)(task % r->mtiles), g = (int)(task / r->mtiles);
    int64_t m0 = (int64_t)mt * r->mb;
    int mc = (int)(r->M - m0 < r->mb ? r->M - m0 : r->mb);
    build_a(r, g, m0, mc, (char *)r->acols + ((int64_t)g * r->M + m0) * c->Kp * (int64_t)(c->a_s16 ? 2 : 1));
}

static void task_gemm(void *vctx, int64_t task, int thread) {
    (void)thread;
    qrun *r = vctx;
    qtop_qconv *c = r->c;
    const qtop_qconv_desc *d = &c->d;
    int split = (int)(task % r->osplit);
    int64_t t2 = task / r->osplit;
    int mt = (int)(t2 % r->mtiles);
    int g = (int)(t2 / r->mtiles);
    int64_t m0 = (int64_t)mt * r->mb;
    int mc = (int)(r->M - m0 < r->mb ? r->M - m0 : r->mb);
    int blk0 = split * r->oc_per_split / 16;
    int blk1 = (split + 1) * r->oc_per_split / 16;
    if (blk1 > c->ocb) blk1 = c->ocb;
    const void *A;
    int64_t lda = c->Kp;
    if (c->direct) {
        A = r->src + m0 * d->ic;
        lda = d->ic;
    } else if (r->acols) {
        A = (const char *)r->acols + ((int64_t)g * r->M + m0) * c->Kp * (int64_t)(c->a_s16 ? 2 : 1);
    } else {
        void *buf = qtop__tls_scratch(r->scratch_bytes);
        build_a(r, g, m0, mc, buf);
        A = buf;
    }
    /* [mb][64] int32: a 64-channel group's accumulators for every row of the task, then one epilogue call */
    int32_t tile[Q8_TILE_ROWS * Q8_EPI_BLOCKS * 16] __attribute__((aligned(64)));
    const qtop_q8_gemm_kernel *gk = c->gk;
    qtop_q8_epi_fn epi = c->cfg->q8_epi;
    const int u8 = gk->kstep == 4, MR = gk->mr, nbmax = gk->nbmax;
    qtop_q8_gemm_fn ukr = gk->fn;
    /* kernels exact only for bytes <= 127 (vpmaddubsw): a task whose A holds a larger byte runs the exact C path.
     * A's rows are one contiguous run (direct: lda == K; im2col: Kp-long rows, padded with 0), checked as one. */
    if (gk->over127 && gk->over127((const uint8_t *)A, 0, 1, (int)(mc * lda))) ukr = qtop__q8_gemm_u8_ref;
    int nbl = (blk1 - blk0 + Q8_EPI_BLOCKS - 1) / Q8_EPI_BLOCKS;
    const int ksteps = c->Kp / gk->kstep;
    const size_t wesz = u8 ? 1 : 2;
    /* Loop order: chunks of eb rows (a multiple of MR) outer, 64-channel groups inside; inside a group the row
     * tiles of MR rows sweep the group's blocks (nbmax per kernel call) into the [eb][64] tile, then ONE epilogue
     * call requantizes the eb rows, so its per-call setup and per-channel constants are paid once per eb rows, not
     * per MR (small K: the epilogue is most of the work). eb is bounded so the output, residual and second output
     * rows one epilogue call touches (oc apart) stay in L1: wide f32 outputs (ResNet's block tails) get short
     * chunks. Rows outer inside the group when its weights overflow L1 (each row tile's A stays in L1 while they
     * stream from L2), blocks outer when a block's weights fit L1 next to the chunk's A (every row tile reuses them). */
    const int64_t row_bytes = (int64_t)d->oc * (dt_bytes(d->dst_dt) + (d->has_q2 ? 1 : 0) + dt_bytes(d->res_dt));
    int eb = (int)(Q8_EPI_ROW_BUDGET / (row_bytes > 0 ? row_bytes : 1)) / MR * MR;
    if (eb < MR) eb = MR;
    if (eb > mc) eb = mc;
    const int64_t wblk = (int64_t)c->wblock_elems * (int64_t)wesz;
    const int blocks_outer = nbmax == 1 && wblk + (int64_t)eb * lda * (int64_t)wesz <= Q8_L1_BUDGET;
    for (int e0 = 0; e0 < mc; e0 += eb) {
        const int ec = mc - e0 < eb ? mc - e0 : eb;
        const char *Ae = (const char *)A + e0 * lda * (int64_t)wesz;
        if (d->res_dt == QTOP_DT_F32 && e0 + eb < mc) {
            /* f32 residual rows of the next chunk: start fetching them while this chunk computes */
            const int nec = mc - e0 - eb < eb ? mc - e0 - eb : eb;
            const int c0 = blk0 * 16, c1 = blk1 * 16 < c->ocg ? blk1 * 16 : c->ocg;
            for (int rr = 0; rr < nec; rr++) {
                const char *p = (const char *)((const float *)r->res + (m0 + e0 + eb + rr) * d->oc + g * c->ocg + c0);
                for (int off = 0; off < (c1 - c0) * 4; off += 64) __builtin_prefetch(p + off, 0, 3);
            }
        }
        for (int bi = 0; bi < nbl; bi++) {
            int b0 = blk0 + bi * Q8_EPI_BLOCKS;
            int nbg = blk1 - b0 < Q8_EPI_BLOCKS ? blk1 - b0 : Q8_EPI_BLOCKS;
            int ch0 = b0 * 16;
            int cnt = c->ocg - ch0 < nbg * 16 ? c->ocg - ch0 : nbg * 16;
            const char *Wg = (const char *)c->wpack + (g * c->wgroup_elems + (size_t)b0 * c->wblock_elems) * wesz;
            if (blocks_outer) {
                for (int s = 0; s < nbg; s++)
                    for (int i = 0; i < ec; i += MR)
                        ukr(Ae + i * lda * (int64_t)wesz, lda, ec - i < MR ? ec - i : MR, Wg + s * wblk,
                            (int64_t)c->wblock_elems, 1, ksteps, c->xor_direct, tile + i * 64 + s * 16);
            } else {
                for (int i = 0; i < ec; i += MR)
                    for (int s = 0; s < nbg; s += nbmax)
                        ukr(Ae + i * lda * (int64_t)wesz, lda, ec - i < MR ? ec - i : MR, Wg + s * wblk,
                            (int64_t)c->wblock_elems, nbg - s < nbmax ? nbg - s : nbmax, ksteps, c->xor_direct,
                            tile + i * 64 + s * 16);
            }
            epi(c, m0 + e0, ec, Q8_EPI_BLOCKS * 16, g * c->ocg + ch0, cnt, tile, r->dst, r->dst2, r->res);
        }
    }
}

/* depthwise: one task = one output row (n, oy) × one channel slice, in runs of Q8_DW_RUN output pixels; the
 * microkernel handles the left / right edge, window rows outside the image read the zero row. */
static void task_dw(void *vctx, int64_t task, int thread) {
    qrun *r = vctx;
    qtop_qconv *c = r->c;
    const qtop_qconv_desc *d = &c->d;
    (void)thread;
    const int split = (int)(task % r->osplit);
    const int64_t row = task / r->osplit;
    const int n = (int)(row / c->oh), oy = (int)(row % c->oh);
    const int c0 = split * r->oc_per_split;
    const int cnt = d->oc - c0 < r->oc_per_split ? d->oc - c0 : r->oc_per_split;
    const uint8_t **rows = (const uint8_t **)qtop__tls_scratch(r->scratch_bytes);
    int32_t *acc = (int32_t *)(((uintptr_t)(rows + d->kh) + 63) & ~(uintptr_t)63);
    const uint8_t *img = r->src + (int64_t)n * d->h * d->w * d->ic + c0;
    for (int ky = 0; ky < d->kh; ky++) {
        int iy = oy * d->stride_h - d->pad_t + ky * d->dil_h;
        rows[ky] = iy < 0 || iy >= d->h ? c->dwzero + c0 : img + (int64_t)iy * d->w * d->ic;
    }
    if (c->dk->row) {
        c->dk->row(c, rows, ((int64_t)n * c->oh + oy) * c->ow, c0, cnt, acc, r->dst, r->dst2, r->res);
        return;
    }
    for (int ox = 0; ox < c->ow; ox += Q8_DW_RUN) {
        int run = c->ow - ox < Q8_DW_RUN ? c->ow - ox : Q8_DW_RUN;
        c->dk->fn(c, rows, ox, run, c0, cnt, acc);
        int64_t pix = ((int64_t)n * c->oh + oy) * c->ow + ox;
        c->cfg->q8_epi(c, pix, run, c->cp, c0, cnt, acc, r->dst, r->dst2, r->res);
    }
}

void qtop_qconv_run(qtop_qconv *c, const void *src, void *dst, const void *residual, qtop_pool *pool) {
    qtop_qconv_run2(c, src, dst, NULL, residual, pool);
}

void qtop_qconv_run2(qtop_qconv *c, const void *src, void *dst, void *dst2, const void *residual, qtop_pool *pool) {
    const qtop_qconv_desc *d = &c->d;
    int threads = qtop_pool_threads(pool);
    (void)threads;
    if (c->kind == Q8_KIND_STEM) { qtop__q8_stem_run(c, src, dst, d->has_q2 ? dst2 : NULL, residual, pool); return; }
    if (c->kind == Q8_KIND_NARROW) { qtop__q8_narrow_run(c, src, dst, d->has_q2 ? dst2 : NULL, residual, pool); return; }
    qrun r = { c, src, dst, d->has_q2 ? dst2 : NULL, residual, (int64_t)d->n * c->oh * c->ow, 0, 1, 0, 0 };
    if (c->kind == Q8_KIND_DW) {
        r.scratch_bytes = (size_t)d->kh * sizeof(void *) + 64 + (size_t)Q8_DW_RUN * c->cp * 4;
        /* few output rows (late, small planes): also split channels, in whole weight chunks */
        int64_t nrows = (int64_t)d->n * c->oh;
        int chunks = c->cp / c->dk->cw;
        r.osplit = 1;
        if (nrows < 4 * threads && chunks > 1) {
            r.osplit = (int)((4 * threads + nrows - 1) / nrows);
            if (r.osplit > chunks) r.osplit = chunks;
        }
        int cps = (chunks + r.osplit - 1) / r.osplit;
        r.oc_per_split = cps * c->dk->cw;
        r.osplit = (chunks + cps - 1) / cps;
        qtop_parallel_for(pool, nrows * r.osplit, task_dw, &r);
        return;
    }
    if (c->gk) {
        const int MR = c->gk->mr;
        size_t esz = c->a_s16 ? 2 : 1;
        /* rows per task: up to Q8_TILE_ROWS rows form one tile (channels are split instead; task_gemm's accumulator
         * tile holds that many rows); else near-equal tiles of at most Q8_MB rows, a multiple of the microkernel
         * height */
        if (r.M <= Q8_TILE_ROWS) r.mb = (int)r.M;
        else {
            /* aim for ~12 row tiles per thread (dynamic balance), tiles of 24..Q8_MB rows */
            int64_t want = (r.M + 12 * threads - 1) / (12 * threads);
            int64_t mb = rup(want, MR);
            if (mb < 24) mb = 24;
            if (mb > Q8_MB) mb = Q8_MB;
            int64_t t = (r.M + mb - 1) / mb;
            r.mb = (int)rup((r.M + t - 1) / t, MR);
        }
        r.scratch_bytes = (size_t)r.mb * c->Kp * esz;
        r.mtiles = (int)((r.M + r.mb - 1) / r.mb);
        int64_t base = (int64_t)r.mtiles * d->groups;
        /* few row tiles (fc with small M): also split output channels, in 64-channel chunks */
        int chunks = (c->ocb + 3) / 4;
        r.osplit = 1;
        if (base < 8 * threads && chunks > 1) {
            r.osplit = (int)((8 * threads + base - 1) / base);
            if (r.osplit > chunks) r.osplit = chunks;
        }
        int bps = (c->ocb + r.osplit - 1) / r.osplit;   /* blocks per split */
        if (bps > 4 && bps % 4) bps = (int)rup(bps, 4);   /* whole 64-channel microkernel widths */
        r.oc_per_split = bps * 16;
        r.osplit = (c->ocb + bps - 1) / bps;
        /* channel splits of one row tile would each build its im2col (e.g. ResNet's 3×3 512 at 7×7: 8 splits of
         * 49 × 4608 bytes): build every tile's once, first, into the calling thread's scratch */
        size_t abytes = (size_t)d->groups * (size_t)r.M * (size_t)c->Kp * esz;
        if (r.osplit > 1 && !c->direct && abytes <= Q8_SHARED_A_MAX) {
            r.acols = qtop__tls_scratch(abytes);
            if (r.acols) qtop_parallel_for(pool, base, task_acols, &r);
        }
        qtop_parallel_for(pool, base * r.osplit, task_gemm, &r);
        return;
    }
    qtop_parallel_for(pool, (int64_t)d->n * c->oh, task_generic, &r);
}

/* ------------------------------------------------------------------ matmul as a 1×1 conv over M "pixels" */

struct qtop_qmatmul { qtop_qconv *conv; };

static qtop_qconv_desc mm_desc(const qtop_qmatmul_desc *d) {
    qtop_qconv_desc c;
    memset(&c, 0, sizeof c);
    c.n = 1; c.h = 1; c.w = d->m; c.ic = d->k; c.oc = d->n; c.kh = 1; c.kw = 1;
    c.stride_h = c.stride_w = 1; c.dil_h = c.dil_w = 1; c.groups = 1;
    c.src_dt = d->src_dt; c.dst_dt = d->dst_dt; c.res_dt = d->res_dt; c.act = d->act;
    c.in_range = d->in_range; c.out_range = d->out_range; c.res_range = d->res_range;
    c.act_alpha = d->act_alpha; c.act_beta = d->act_beta;
    return c;
}

int qtop_qmatmul_query(const qtop_qmatmul_desc *d, int isa, int cap, char *why, size_t why_len) {
    qtop_qconv_desc c = mm_desc(d);
    return qtop_qconv_query(&c, isa, cap, why, why_len);
}

qtop_qmatmul *qtop_qmatmul_create(const qtop_qmatmul_desc *d, const int8_t *weights, const float *weight_ranges,
                                  const float *bias, int isa) {
    qtop_qconv_desc c = mm_desc(d);
    int8_t *wt = malloc((size_t)d->k * d->n + 1);
    for (int k = 0; k < d->k; k++)
        for (int n = 0; n < d->n; n++) wt[(size_t)n * d->k + k] = weights[(size_t)k * d->n + n];
    qtop_qconv *conv = qtop_qconv_create(&c, wt, weight_ranges, bias, isa);
    free(wt);
    if (!conv) return NULL;
    qtop_qmatmul *m = malloc(sizeof *m);
    m->conv = conv;
    return m;
}

void qtop_qmatmul_run(qtop_qmatmul *m, const void *src, void *dst, const void *residual, qtop_pool *pool) {
    qtop_qconv_run(m->conv, src, dst, residual, pool);
}

void qtop_qmatmul_destroy(qtop_qmatmul *m) {
    if (!m) return;
    qtop_qconv_destroy(m->conv);
    free(m);
}
