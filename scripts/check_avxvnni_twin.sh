#!/usr/bin/env bash
# The avx2_vnni row's kernels (q8_avxvnni.c and q8_narrow_x86.c, VEX vpdpbusd) cannot run on a CPU without AVX-VNNI;
# the tests run their EVEX twin (same template) instead. This check closes the gap at the machine-code level, at -O2
# as in release:
#   1. no _vex function holds an EVEX-encoded instruction (zmm, ymm16-31, mask registers) — it would fault on
#      Alder Lake and other AVX-VNNI CPUs without AVX-512;
#   2. every _vex function's instruction stream equals its _evex twin's, instruction by instruction, once the
#      encoding spelling ({vex} prefix, vmovdqu64 / vmovdqu32 for vmovdqu, vpxord for vpxor), alignment padding and
#      code addresses are set aside — so the twin that the tests check bit-exact computes what the row computes.
#   usage: scripts/check_avxvnni_twin.sh   (exit 0 when both hold)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in q8_avxvnni q8_narrow_x86; do   # the GEMM tiles and the narrow k×k tiles
  clang -O2 -std=gnu11 -D_GNU_SOURCE -ISources/CQtopKernels/include -ISources/CQtopKernels \
    -c "Sources/CQtopKernels/$f.c" -o "$tmp/$f.o"
  objdump -d --no-show-raw-insn "$tmp/$f.o" >> "$tmp/k.dis"
done
python3 - "$tmp/k.dis" <<'PY'
import collections, re, sys
funcs = collections.OrderedDict()
cur = None
for line in open(sys.argv[1]):
    m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
    if m:
        cur = m.group(1); funcs[cur] = []; continue
    if cur and re.match(r"^\s+[0-9a-f]+:", line):
        funcs[cur].append(line.split(":", 1)[1].strip())

def norm(ins):
    ins = ins.replace("{vex}", "").strip()
    ins = re.sub(r"\s*#.*$", "", ins)                       # objdump's address comments
    ins = re.sub(r"<[^>]*>", "", ins)                       # branch target names
    op, _, args = ins.partition(" ")
    args = args.strip()
    if op.startswith("nop") or op in ("data16", "cs") or (op == "xchg" and args == "%ax,%ax"):
        return None                                         # alignment padding
    if op.startswith("j") or op == "call":
        args = ""                                           # code addresses differ between the two copies
    args = re.sub(r"0x[0-9a-f]+\(%rip\)", "RIP", args)
    op = {"vmovdqu64": "vmovdqu", "vmovdqu32": "vmovdqu", "vmovdqa64": "vmovdqa", "vmovdqa32": "vmovdqa",
          "vpxord": "vpxor", "vpxorq": "vpxor", "vpbroadcastd": "vpbroadcastd"}.get(op, op)
    return op + " " + re.sub(r"\s+", "", args)

def canon(seq):
    """Vector registers renamed in order of first use: the two copies may allocate different ymm numbers."""
    names = {}
    def ren(m):   # by register number, keeping the width: xmm3 and ymm3 are one register
        return f"%{m.group(1)}v{names.setdefault(m.group(2), len(names))}"
    return [re.sub(r"%([xy])mm(\d+)", ren, i) for i in seq]

bad = 0
vex = [f for f in funcs if f.endswith("_vex")]
if not vex:
    print("no _vex functions found"); sys.exit(1)
for f in vex:
    evex_like = [i for i in funcs[f] if re.search(r"%zmm|%ymm(1[6-9]|2\d|3[01])|%xmm(1[6-9]|2\d|3[01])|%k[0-7]|\{1to", i)]
    if evex_like:
        print(f"{f}: EVEX-only operands: {evex_like[:3]}"); bad = 1
    twin = f[:-4] + "_evex"
    a = canon([x for x in map(norm, funcs[f]) if x])
    b = canon([x for x in map(norm, funcs.get(twin, [])) if x])
    if a != b:
        i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        print(f"{f}: differs from {twin} at instruction {i}: {a[i] if i < len(a) else '-'} | {b[i] if i < len(b) else '-'}")
        bad = 1
dp = sum(1 for f in vex for i in funcs[f] if "vpdpbusd" in i and "{vex}" in i)
print(f"{len(vex)} VEX functions, {dp} VEX vpdpbusd: " + ("same instruction streams as the EVEX twin" if not bad else "MISMATCH"))
sys.exit(bad)
PY
