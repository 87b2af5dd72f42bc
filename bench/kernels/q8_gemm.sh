#!/usr/bin/env bash
# Builds and runs the int8 GEMM convolution microbenchmark (bench/kernels/q8_gemm_bench.c).
#   usage: bench/kernels/q8_gemm.sh [isa-number [name-substring]]   (2 = avx2, 4 = avx512_core, 5 = avx512_vnni)
#   THREADS=2 runs on a pool (wall time); KERNELS=dir builds against another copy of CQtopKernels (an A/B);
#   OUT=name names the binary
set -euo pipefail
cd "$(dirname "$0")/../.."
K="${KERNELS:-Sources/CQtopKernels}"
mkdir -p bench/out
clang -O2 -std=gnu11 -D_GNU_SOURCE -I"$K/include" -I"$K" bench/kernels/q8_gemm_bench.c "$K"/*.c -lpthread -lm \
  -o "bench/out/${OUT:-q8_gemm_bench}"
exec "bench/out/${OUT:-q8_gemm_bench}" "$@"
