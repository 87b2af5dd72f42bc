#!/usr/bin/env bash
# Builds and runs the single-core kernel microbenchmark (bench/kernels/kbench.c) against the library's C sources.
#   usage: bench/kernels/run.sh [isa-number [shape-substring]]   (e.g. 2 = avx2 only for the whole-conv rows;
#          a substring such as "dw3x3" runs only those conv rows and skips the microkernel rows)
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/out
clang -O2 -std=gnu11 -D_GNU_SOURCE -ISources/CQtopKernels/include -ISources/CQtopKernels bench/kernels/kbench.c \
  Sources/CQtopKernels/*.c -lpthread -lm -o bench/out/kbench
exec bench/out/kbench "$@"
