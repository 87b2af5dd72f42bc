#!/usr/bin/env bash
# Builds and runs the single-core int8 depthwise microbenchmark (bench/kernels/q8_dw_bench.c) against the library's
# C sources.   usage: bench/kernels/q8_dw.sh [isa-number [name-substring]]   (2 = avx2, 4 = avx512_core, 5 = avx512_vnni)
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/out
clang -O2 -std=gnu11 -D_GNU_SOURCE -ISources/CQtopKernels/include -ISources/CQtopKernels bench/kernels/q8_dw_bench.c \
  Sources/CQtopKernels/*.c -lpthread -lm -o bench/out/q8_dw_bench
exec bench/out/q8_dw_bench "$@"
