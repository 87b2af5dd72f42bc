#!/usr/bin/env bash
# Builds and runs bench/kernels/avxvnni_twin.c (the avx2_vnni row's EVEX twin vs the avx2 row, one core).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/out
clang -O2 -std=gnu11 -D_GNU_SOURCE -ISources/CQtopKernels/include -ISources/CQtopKernels bench/kernels/avxvnni_twin.c \
  Sources/CQtopKernels/*.c -lpthread -lm -o bench/out/avxvnni_twin
exec bench/out/avxvnni_twin "$@"
