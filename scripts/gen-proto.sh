#!/usr/bin/env bash
# Regenerates Sources/QtopFormat/Proto/framework.pb.swift from our framework.proto.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift from apple/swift-protobuf 1.39.0:
#   git clone https://github.com/apple/swift-protobuf && cd swift-protobuf && git checkout 1.39.0 \
#     && swift build -c release --product protoc-gen-swift
# then run: PROTOC_GEN_SWIFT=/path/to/swift-protobuf/.build/release/protoc-gen-swift scripts/gen-proto.sh
# CI never runs this; the generated file is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
[ -x "$plugin" ] || { echo "gen-proto.sh: protoc-gen-swift not found (set PROTOC_GEN_SWIFT)" >&2; exit 2; }
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Public \
  --swift_out=Sources/QtopFormat/Proto \
  -I Sources/QtopFormat/Proto framework.proto
echo "wrote Sources/QtopFormat/Proto/framework.pb.swift"
