/* avx2_vnni int8 GEMM microkernels (Alder Lake and later, Zen 5): vpdpbusd on ymm, u8 activations × s8 weights into
 * s32, 4 k per lane, on the u8 kernels' packing. One template (q8_avxvnni_gemm.h) instantiated twice:
 *   _vex:  VEX-encoded vpdpbusd (AVX-VNNI) — the kernels of the avx2_vnni ISA row;
 *   _evex: the EVEX encoding of the same instruction on ymm (AVX512VL + AVX512_VNNI) — the row's verification twin,
 *          which runs on AVX-512 VNNI CPUs without AVX-VNNI (qtop_qconv_create_twin), same tiles, same driver. */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#include "isa_config.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

static inline int32_t avn_ld32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }

#define AVN_NBMAX 1
typedef void (*avn_fn)(const uint8_t *, int64_t, const int8_t *, int64_t, int, int32_t *);

#define AVN_T __attribute__((target("avx2,fma,avxvnni")))
#define AVN_DP(c, a, w) _mm256_dpbusd_avx_epi32((c), (a), (w))
#define AVN_SFX vex
#include "q8_avxvnni_gemm.h"
#undef AVN_T
#undef AVN_DP
#undef AVN_SFX

#define AVN_T __attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni")))
#define AVN_DP(c, a, w) _mm256_dpbusd_epi32((c), (a), (w))
#define AVN_SFX evex
#include "q8_avxvnni_gemm.h"
#undef AVN_T
#undef AVN_DP
#undef AVN_SFX
#endif
