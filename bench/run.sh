#!/usr/bin/env bash
# Side-by-side benchmark: qtop vs OpenVINO's benchmark_app on the same machine, in one run, per ISA level.
# Installs openvino from PyPI into bench/.venv, exports the models with paddlepaddle (BENCH_PY, a Python that has
# paddlepaddle, else bench/.venv-paddle) unless BENCH_MODELS names a directory that already has them, builds qtop in
# release mode, then runs bench/compare.py, which prints the table and writes bench/RESULTS.md.
# The OCR family models (--models ocr_det,ocr_rec: full-size PP-OCRv4-style det at [1,3,640,640] and rec at
# [1,3,48,320]) come from scripts/export_family_models.py into BENCH_FAMILY_MODELS (default bench/models-families).
#   usage: bench/run.sh [--seconds N] [--threads N] [--rounds N] [--models resnet50,mobilenet_v2,ocr_det,ocr_rec]
#                       [--isas avx2,avx512_core,avx512_vnni] [--hints latency,throughput] [--append LABEL]
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
if command -v protoc >/dev/null; then
  protoc --python_out=bench/out/pb -I Sources/QtopFormat/Proto framework.proto
else
  bench/.venv/bin/python -c "import grpc_tools" 2>/dev/null || bench/.venv/bin/pip install -q grpcio-tools
  bench/.venv/bin/python -m grpc_tools.protoc --python_out=bench/out/pb -I Sources/QtopFormat/Proto framework.proto
fi
MODELS="resnet50,mobilenet_v2,mobilenet_v3_large,shufflenet_v2_x1_0"
# --models as passed to compare.py (its default otherwise)
prev=""
for a in "$@"; do
  case "$prev" in --models) MODELS="$a" ;; esac
  case "$a" in --models=*) MODELS="${a#--models=}" ;; esac
  prev="$a"
done
VISION="" FAMILY=""
for m in ${MODELS//,/ }; do
  case "$m" in ocr_det|ocr_rec) FAMILY="$FAMILY,$m" ;; *) VISION="$VISION,$m" ;; esac
done

MODELS_DIR="${BENCH_MODELS:-bench/models}"
FAMILY_DIR="${BENCH_FAMILY_MODELS:-bench/models-families}"
paddle_python() {
  if [ -n "${BENCH_PY:-}" ]; then echo "$BENCH_PY"; return; fi
  if [ ! -x bench/.venv-paddle/bin/python ]; then
    python3 -m venv bench/.venv-paddle
    bench/.venv-paddle/bin/pip install -q "paddlepaddle==${PADDLE_VERSION}" numpy >&2
  fi
  echo bench/.venv-paddle/bin/python
}
missing=""
for m in ${VISION//,/ }; do [ -f "$MODELS_DIR/${m}_int8.pdmodel" ] || missing="$missing,$m"; done
[ -z "$missing" ] || "$(paddle_python)" scripts/export_vision_models.py "$MODELS_DIR" --models "${missing#,}"
missing=""
for m in ${FAMILY//,/ }; do [ -f "$FAMILY_DIR/${m}_int8.pdmodel" ] || missing="$missing,$m"; done
[ -z "$missing" ] || "$(paddle_python)" scripts/export_family_models.py "$FAMILY_DIR" --models "${missing#,}"

swift build -c release --product qtop
exec bench/.venv/bin/python bench/compare.py --models-dir "$MODELS_DIR:$FAMILY_DIR" --qtop .build/release/qtop \
  --benchmark-app bench/.venv/bin/benchmark_app --ov-python bench/.venv/bin/python "$@"
