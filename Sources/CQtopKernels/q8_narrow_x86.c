/* x86 narrow k×k int8 microkernels (q8_narrow.c): one template (q8_narrow_x86.h) instantiated per ISA row, named
 * op × tile × ISA. All use ymm vectors (8 channels): on Zen 4 a zmm multiply takes the two 256-bit halves' slots, so
 * ymm loses nothing there, and 8-channel vectors fit 8, 16, 24 and 32 output channels without idle lanes. The
 * AVX-512 rows get the 32-register file (EVEX encodings), hence twice the pixels per call.
 *   avx2          s16 pairs, vpmaddwd + vpaddd           16 registers
 *   avx2_vnni     u8 × s8, VEX vpdpbusd                  16 registers (its EVEX twin: the same tiles)
 *   avx512_core   s16 pairs, vpmaddwd + vpaddd           32 registers
 *   avx512_vnni   u8 × s8, EVEX vpdpbusd                 32 registers */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#include "isa_config.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define NW_MAXACC 24

/* ---- avx2: s16. vpmaddwd needs a register for its product before the add: mr·nv + nv + 2 ≤ 16 */
#define NW_T __attribute__((target("avx2,fma")))
#define NW_OP(c, a, w) _mm256_add_epi32((c), _mm256_madd_epi16((a), (w)))
#define NW_MR1 12
#define NW_MR2 6
#define NW_MR3 3
#define NW_MR4 2
#define NW_SFX s16_avx2
#include "q8_narrow_x86.h"
#undef NW_T
#undef NW_OP
#undef NW_SFX

/* ---- avx2_vnni: the same tiles (4 × 24 would fit 16 registers exactly, but clang spills one accumulator there) */

#define NW_T __attribute__((target("avx2,fma,avxvnni")))
#define NW_OP(c, a, w) _mm256_dpbusd_avx_epi32((c), (a), (w))
#define NW_SFX u8_avx2vnni_vex
#include "q8_narrow_x86.h"
#undef NW_T
#undef NW_OP
#undef NW_SFX
#define NW_T __attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni")))
#define NW_OP(c, a, w) _mm256_dpbusd_epi32((c), (a), (w))
#define NW_SFX u8_avx2vnni_evex
#include "q8_narrow_x86.h"
#undef NW_T
#undef NW_OP
#undef NW_SFX
#undef NW_MR1
#undef NW_MR2
#undef NW_MR3
#undef NW_MR4

/* ---- AVX-512 rows: 32 registers */
#define NW_MR1 24
#define NW_MR2 12
#define NW_MR3 8
#define NW_MR4 6
#define NW_T __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq")))
#define NW_OP(c, a, w) _mm256_add_epi32((c), _mm256_madd_epi16((a), (w)))
#define NW_SFX s16_avx512
#include "q8_narrow_x86.h"
#undef NW_T
#undef NW_OP
#undef NW_SFX
#define NW_T __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define NW_OP(c, a, w) _mm256_dpbusd_epi32((c), (a), (w))
#define NW_SFX u8_avx512vnni
#include "q8_narrow_x86.h"
#undef NW_T
#undef NW_OP
#undef NW_SFX
#undef NW_MR1
#undef NW_MR2
#undef NW_MR3
#undef NW_MR4

#define NW_FNS(sfx) { nw_1_##sfx, nw_2_##sfx, nw_3_##sfx, nw_4_##sfx }
/* min_ic / max_oc / full_max_ic: where each row measured faster than its GEMM path (bench/kernels/q8_narrow.sh).
 * 32 channels (2 pixels per call at 16 registers, 6 at 32) lost to the GEMM's whole blocks on every row; 16 channels
 * won at avx2 (whose u8 GEMM checks every tile for bytes > 127) but lost on the AVX-512 rows beyond 8 input channels. */
const qtop_q8_narrow_kernel qtop__q8_narrow_s16_avx2 = {
    "q8_narrow_s16_ymm_avx2", NW_FNS(s16_avx2), { 12, 6, 3, 2 }, 1, 8, 24, 1 << 30,
};
const qtop_q8_narrow_kernel qtop__q8_narrow_u8_avx2vnni = {
    "q8_narrow_u8_ymm_avx2vnni", NW_FNS(u8_avx2vnni_vex), { 12, 6, 3, 2 }, 0, 8, 24, 1 << 30,
};
const qtop_q8_narrow_kernel qtop__q8_narrow_u8_avx2vnni_twin = {
    "q8_narrow_u8_ymm_avx2vnni_evex", NW_FNS(u8_avx2vnni_evex), { 12, 6, 3, 2 }, 0, 8, 24, 1 << 30,
};
const qtop_q8_narrow_kernel qtop__q8_narrow_s16_avx512 = {
    "q8_narrow_s16_ymm_avx512", NW_FNS(s16_avx512), { 24, 12, 8, 6 }, 1, 8, 24, 8,
};
const qtop_q8_narrow_kernel qtop__q8_narrow_u8_avx512vnni = {
    "q8_narrow_u8_ymm_avx512vnni", NW_FNS(u8_avx512vnni), { 24, 12, 8, 6 }, 0, 8, 24, 8,
};
#endif
