#!/usr/bin/env bash
# Builds the fuzz seed corpus from samples/ into ${1:-.build-fuzz/seeds}/<target>/ (git-ignored; never committed).
# pdmodel: every .pdmodel · npy: every small .npy · pdiparams and pipeline: each sample's program and params joined
# into one container input (u32 LE program length · program · params), the format of Sources/QtopFuzzTargets/FuzzTarget.swift;
# pipeline also gets each program alone (an empty params half: zero parameters from the declarations).
# pirjson: every PIR .json program in samples/ and samples/families/, plus a token dictionary (pirjson.dict).
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
# libFuzzer dictionary for pirjson (-dict): the samples' keys and type tags, JSON punctuation and hostile numbers, so
# byte mutations splice whole tokens instead of breaking the syntax on nearly every run.
python3 - "$out/pirjson.dict" "$out"/pirjson/*.json <<'PY'
import json, re, sys
tokens = set()
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            tokens.add(json.dumps(k)); walk(x)
    elif isinstance(v, list):
        for x in v: walk(x)
    elif isinstance(v, str) and len(v) <= 24 and "/" not in v and not re.search(r"_\d+$", v):
        tokens.add(json.dumps(v))  # type tags ("0.t_f32"), op names ("1.conv2d"), enums; not value names or scopes
for path in sys.argv[2:]:
    walk(json.load(open(path)))
tokens |= {"[]", "{}", "null", "true", "false", ",", ":", "[", "]", "{", "}", '""', "-1", "0", "-2", "2147483647",
           "2147483648", "4294967296", "9223372036854775807", "-9223372036854775808", "1e300", "-1e300", "1e-300", "0.5"}
with open(sys.argv[1], "w") as f:
    for t in sorted(tokens):
        f.write('"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"\n')
PY
# Small .npy files only: the 3 MB test set would only slow every mutation down.
find samples -name '*.npy' -size -64k -exec cp {} "$out/npy/" \;
echo "seeds in $out: $(for t in "$out"/*/; do printf '%s=%s ' "$(basename "$t")" "$(ls "$t" | wc -l)"; done)"
