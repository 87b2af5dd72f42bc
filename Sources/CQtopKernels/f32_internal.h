#ifndef QTOP_F32_INTERNAL_H
#define QTOP_F32_INTERNAL_H
#include "include/qtop_kernels.h"
/* C[mr][nr] (ldc) (+)= Ap[kc][MR] · Bp[kc][NR]; accumulate=0 overwrites. Partial tiles (mr<MR or nr<NR) allowed. */
typedef void (*qtop_sgemm_ukr)(int kc, const float *Ap, const float *Bp, float *C, int64_t ldc, int accumulate, int mr,
                               int nr);
typedef struct { int mr, nr; qtop_sgemm_ukr ukr; } qtop_sgemm_kernel;
#if defined(__x86_64__)
extern const qtop_sgemm_kernel qtop__sgemm_avx512;
extern const qtop_sgemm_kernel qtop__sgemm_avx2;
#endif
#endif
