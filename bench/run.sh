#!/usr/bin/env bash
# Side-by-side benchmark: qtop vs OpenVINO's benchmark_app on the same machine, in one run.
# Installs openvino from PyPI into bench/.venv, exports the models with paddlepaddle (bench/.venv-paddle) unless
# BENCH_MODELS names a directory that already has them, builds qtop in release mode, then runs bench/compare.py,
# which prints the table and writes bench/RESULTS.md.
#   usage: bench/run.sh [--seconds N] [--threads N] [--models resnet50,mobilenet_v2]
set -euo pipefail
cd "$(dirname "$0")/.."
OV_VERSION="${OV_VERSION:-2026.4.1}"
PADDLE_VERSION="${PADDLE_VERSION:-3.3.1}"

if [ ! -x bench/.venv/bin/benchmark_app ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install -q "openvino==${OV_VERSION}" numpy protobuf
fi
# OpenVINO needs PTQ models rewritten (see bench/ov_fix_model.py); that tool reads our own schema.
mkdir -p bench/out/pb
protoc --python_out=bench/out/pb -I Sources/QtopFormat/Proto framework.proto

MODELS_DIR="${BENCH_MODELS:-bench/models}"
if [ ! -f "$MODELS_DIR/resnet50_int8.pdmodel" ] || [ ! -f "$MODELS_DIR/mobilenet_v2_int8.pdmodel" ]; then
  if [ ! -x bench/.venv-paddle/bin/python ]; then
    python3 -m venv bench/.venv-paddle
    bench/.venv-paddle/bin/pip install -q "paddlepaddle==${PADDLE_VERSION}" numpy
  fi
  bench/.venv-paddle/bin/python scripts/export_vision_models.py "$MODELS_DIR" --models resnet50,mobilenet_v2
fi

swift build -c release --product qtop
exec bench/.venv/bin/python bench/compare.py --models-dir "$MODELS_DIR" --qtop .build/release/qtop \
  --benchmark-app bench/.venv/bin/benchmark_app --ov-python bench/.venv/bin/python "$@"
