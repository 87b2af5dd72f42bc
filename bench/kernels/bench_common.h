/* Shared by the kernel microbenchmarks in this folder (not part of the test suite). */
#ifndef QTOP_BENCH_COMMON_H
#define QTOP_BENCH_COMMON_H
#include "isa_config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Cold-cache mode of the benchmarks: write a buffer larger than L3, then re-read the input, as inside a model, where a
 * layer's weights were last touched an inference ago and its input was just written. */
static inline void bench_evict(const void *src, size_t n) {
    static unsigned char *junk;
    const size_t jn = (size_t)96 << 20;
    if (!junk) junk = malloc(jn);
    for (size_t i = 0; i < jn; i += 64) junk[i] = (unsigned char)i;
    volatile unsigned char sink = 0;
    for (size_t i = 0; i < n; i += 64) sink ^= ((const unsigned char *)src)[i];
    (void)sink;
}

/* GMAC/s of one int8 GEMM microkernel on an L1-resident mr × K tile against its widest weight block. The machine is
 * shared: many short runs, keep the fastest (the one that had the core to itself). */
static inline void ukr_bench(const qtop_q8_gemm_kernel *k, int K) {
    int kstep = k->kstep, esz = kstep == 4 ? 1 : 2;
    int Kp = (K + kstep - 1) / kstep * kstep;
    int64_t bstride = (int64_t)16 * Kp;
    void *A = calloc((size_t)k->mr * Kp, esz), *W = calloc((size_t)bstride * k->nbmax, esz);
    memset(A, 1, (size_t)k->mr * Kp * esz);
    memset(W, 1, (size_t)bstride * k->nbmax * esz);
    int32_t tile[Q8_MR * 64];
    double best = 0;
    for (int rep = 0; rep < 300; rep++) {
        int iters = 300;
        double t0 = now();
        for (int i = 0; i < iters; i++) k->fn(A, Kp, k->mr, W, bstride, k->nbmax, Kp / kstep, 0, tile);
        double t = now() - t0;
        double g = (double)iters * k->mr * k->nbmax * 16 * Kp / t * 1e-9;
        if (g > best) best = g;
    }
    printf("  %-36s K=%-5d %6.1f GMAC/s\n", k->name, K, best);
    free(A); free(W);
}
#endif
