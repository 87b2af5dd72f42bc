#!/usr/bin/env bash
# Builds and runs the single-core int8 narrow k×k microbenchmark (bench/kernels/q8_narrow_bench.c) against the
# library's C sources (or those of another checkout: Q8_SRC=/path/to/Sources/CQtopKernels, for before / after).
#   usage: bench/kernels/q8_narrow.sh [isa-number [name-substring]]   (2 = avx2, 4 = avx512_core, 5 = avx512_vnni)
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/out
src="${Q8_SRC:-Sources/CQtopKernels}"
out="bench/out/q8_narrow_bench${Q8_SRC:+_alt}"
clang -O2 -std=gnu11 -D_GNU_SOURCE -I"$src/include" -I"$src" bench/kernels/q8_narrow_bench.c "$src"/*.c \
  -lpthread -lm -o "$out"
exec "$out" "$@"
