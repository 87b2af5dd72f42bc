#!/usr/bin/env bash
# Times how long `qtop graph` takes to open a ~20 MB Paddle 3 PIR program (issue 9: "well under a second"): the whole
# command — read and decode inference.json, read .pdiparams, import to the graph IR, shape inference, the listing.
# Writes the program once with scripts/make_big_pir.py (6800 blocks: 19.9 MB, 54k ops) into ${PIR_BENCH_DIR:-.build/pir-bench},
# builds qtop in release, then runs it RUNS times (default 5) and prints wall / user / sys seconds per run and the
# median wall time. The machine should be quiet; on a loaded one wall time is mostly waiting for a core, so the user +
# sys columns (CPU spent) are the figure to compare. Large files are decoded on up to 4 cores (PIRStripes): pin with
# `taskset -c 0` to see the one-core figure.
# usage: scripts/bench_pir_load.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
dir=${PIR_BENCH_DIR:-.build/pir-bench}
python=${PYTHON:-/work/pyenv/bin/python}
if [ ! -f "$dir/inference.json" ]; then
  "$python" scripts/make_big_pir.py "$dir" 6800 2>/dev/null
fi
log=$(mktemp)
swift build -c release --product qtop >"$log" 2>&1 || { cat "$log"; exit 1; }
rm -f "$log"
qtop=.build/release/qtop
echo "program: $dir/inference.json ($(du -m "$dir/inference.json" | cut -f1) MB), cores: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$qtop" graph "$dir" >/dev/null   # warm the page cache
walls=()
for i in $(seq "$runs"); do
  t=$( { /usr/bin/time -f "%e %U %S" "$qtop" graph "$dir" >/dev/null; } 2>&1 | tail -1)
  read -r wall user sys <<<"$t"
  printf 'run %d: wall %.2f s  user %.2f s  sys %.2f s\n' "$i" "$wall" "$user" "$sys"
  walls+=("$wall")
done
printf 'median wall: %s s\n' "$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
