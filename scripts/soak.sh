#!/usr/bin/env bash
# Soak test of the live UI: runs `qtop MODEL` in a private tmux server for DURATION seconds while it profiles
# continuously, samples the process's resident memory every INTERVAL seconds, switches views / modes / ISA caps now
# and then as a person would, and at the end checks that the terminal comes back on quit. Prints a summary table
# and, with --record, appends it to bench/SOAK.md.
#
# usage: scripts/soak.sh [--binary PATH] [--model PATH] [--duration SECONDS] [--interval SECONDS] [--threads N] [--record]
# Memory is "flat" when the median RSS of the last quarter of the run exceeds that of the second quarter by less
# than 5 % (the first quarter is warm-up: plans, packed weights, allocator pools).
set -euo pipefail
cd "$(dirname "$0")/.."

binary=.build/release/qtop
model=samples/shapes_int8.pdmodel
duration=3600
interval=10
threads=1
record=0
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --interval) interval="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --record) record=1; shift ;;
    *) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$binary" ] || { echo "soak.sh: $binary is not built (swift build -c release)" >&2; exit 2; }
command -v tmux >/dev/null || { echo "soak.sh: needs tmux" >&2; exit 2; }

sock="qtop-soak-$$"
t() { tmux -L "$sock" "$@"; }
trap 't kill-server >/dev/null 2>&1 || true' EXIT
out="$(mktemp -d)"
t new-session -d -s s -x 120 -y 35 \
  "env LANG=C.UTF-8 TERM=xterm-256color '$binary' '$model' --threads $threads --view profile; echo QTOP_EXIT=\$? > '$out/exit'; sleep 3600" \
  </dev/null >/dev/null 2>&1
sleep 3
pid="$(pgrep -n -f -- "$binary $model" || true)"
[ -n "$pid" ] || { echo "soak.sh: qtop did not start" >&2; t capture-pane -p -t s; exit 1; }

keys=(1 2 3 2 m m m i I '>' '<' r z space space 2)
samples="$out/rss.tsv"
start=$(date +%s)
i=0
while :; do
  now=$(( $(date +%s) - start ))
  [ "$now" -ge "$duration" ] && break
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  [ "$rss" = 0 ] && { echo "soak.sh: qtop exited early" >&2; t capture-pane -p -t s; exit 1; }
  printf '%s\t%s\n' "$now" "$rss" >> "$samples"
  # Every sample, one key of a person's session: views, modes (recompiles), ISA cap, sorting, reset, freeze.
  t send-keys -t s "${keys[$(( i % ${#keys[@]} ))]}"
  i=$(( i + 1 ))
  sleep "$interval"
done

t send-keys -t s 2; sleep 1; t send-keys -t s q
for _ in $(seq 1 50); do [ -s "$out/exit" ] && break; sleep 0.2; done
exit_line="$(cat "$out/exit" 2>/dev/null || echo 'QTOP_EXIT=?')"

python3 - "$samples" "$exit_line" "$binary" "$model" "$duration" "$threads" "$record" <<'EOF'
import statistics, sys, datetime, platform, subprocess
path, exit_line, binary, model, duration, threads, record = sys.argv[1:]
rows = [tuple(map(int, l.split())) for l in open(path) if l.strip()]
rss = [r for _, r in rows]
n = len(rss)
q = max(1, n // 4)
second, last = statistics.median(rss[q:2*q] or rss), statistics.median(rss[-q:])
growth = (last - second) / second * 100 if second else 0.0
flat = growth < 5.0
cpu = "unknown"
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"): cpu = l.split(":", 1)[1].strip(); break
except OSError:
    pass
table = "\n".join([
    f"### {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC — `{model}`, {int(duration)} s, {threads} thread(s), {cpu}",
    "",
    "| samples | RSS min | RSS 2nd quarter (median) | RSS last quarter (median) | RSS max | growth | memory | exit |",
    "|---|---|---|---|---|---|---|---|",
    f"| {n} | {min(rss)/1024:.1f} MB | {second/1024:.1f} MB | {last/1024:.1f} MB | {max(rss)/1024:.1f} MB | {growth:+.2f} % | {'flat' if flat else 'GROWING'} | {exit_line} |",
    "",
])
print(table)
if record == "1":
    with open("bench/SOAK.md", "a") as f:
        f.write(table + "\n")
sys.exit(0 if flat and exit_line == "QTOP_EXIT=0" else 1)
EOF
