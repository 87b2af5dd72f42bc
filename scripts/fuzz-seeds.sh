#!/usr/bin/env bash
# Builds the fuzz seed corpus from samples/ into ${1:-.build-fuzz/seeds}/<target>/ (git-ignored; never committed).
# pdmodel: every .pdmodel · npy: every small .npy · pdiparams and pipeline: each sample's program and params joined
# into one container input (u32 LE program length · program · params), the format of Sources/QtopFuzzTargets/FuzzTarget.swift;
# pipeline also gets each program alone (an empty params half: zero parameters from the declarations).
# pirjson: every PIR .json program in samples/
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build-fuzz/seeds}
rm -rf "$out"
mkdir -p "$out"/{pdmodel,pdiparams,npy,pipeline,pirjson}
for m in samples/*.pdmodel; do
  base=${m%.pdmodel}
  name=$(basename "$base")
  cp "$m" "$out/pdmodel/$name.pdmodel"
  python3 - "$m" "$base.pdiparams" "$out/pdiparams/$name.bin" <<'PY'
import struct, sys
program, params = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
open(sys.argv[3], 'wb').write(struct.pack('<I', len(program)) + program + params)
PY
  cp "$out/pdiparams/$name.bin" "$out/pipeline/$name.bin"
  # Program alone: the pipeline target then makes zero parameters from the declarations.
  python3 -c 'import struct, sys; p = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(struct.pack("<I", len(p)) + p)' \
    "$m" "$out/pipeline/$name.program.bin"
done
# PIR programs: every .json model (the manifests are not programs).
find samples -name '*.json' ! -name 'manifest.json' -exec cp {} "$out/pirjson/" \;
# Small .npy files only: the 3 MB test set would only slow every mutation down.
find samples -name '*.npy' -size -64k -exec cp {} "$out/npy/" \;
echo "seeds in $out: $(for t in "$out"/*; do printf '%s=%s ' "$(basename "$t")" "$(ls "$t" | wc -l)"; done)"
