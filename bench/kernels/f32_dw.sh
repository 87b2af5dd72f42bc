#!/usr/bin/env bash
# Builds and runs the single-core fp32 depthwise microbenchmark (bench/kernels/f32_dw_bench.c).
#   usage: bench/kernels/f32_dw.sh [isa-number [mbv2|mbv3|det]]
#   KERNELS=dir builds against another copy of CQtopKernels (an A/B); OUT=name names the binary
set -euo pipefail
cd "$(dirname "$0")/../.."
K="${KERNELS:-Sources/CQtopKernels}"
mkdir -p bench/out
clang -O2 -std=gnu11 -D_GNU_SOURCE -I"$K/include" -I"$K" bench/kernels/f32_dw_bench.c "$K"/*.c -lpthread -lm \
  -o "bench/out/${OUT:-f32_dw_bench}"
exec "bench/out/${OUT:-f32_dw_bench}" "$@"
