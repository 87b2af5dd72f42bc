#!/usr/bin/env bash
# Builds and runs the single-core fp32 conv2d_transpose microbenchmark (bench/kernels/deconv_bench.c).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/out
clang -O2 -std=gnu11 -D_GNU_SOURCE -ISources/CQtopKernels/include -ISources/CQtopKernels bench/kernels/deconv_bench.c \
  Sources/CQtopKernels/*.c -lpthread -lm -o bench/out/deconv_bench
exec bench/out/deconv_bench "$@"
