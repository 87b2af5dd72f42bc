#!/usr/bin/env bash
# Runs the tests under AddressSanitizer (all of them) and ThreadSanitizer (the concurrent parts: runtime and
# pipeline), each in its own scratch path, and writes the outcome to bench/SANITIZERS.md.
#
#   scripts/sanitize.sh [address|thread]...     (default: both)
#
# Both are debug builds of everything (a few minutes each on 2 cores); the logs stay in .build-{asan,tsan}/*.log.
set -uo pipefail
cd "$(dirname "$0")/.."
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(address thread)
# TSan is slow and the ~10 min of float/int8 kernel sweeps would dominate; the runtime and the pipeline (live runner,
# thread pools, executors from two threads) are where the threads are — the same filter as .ci/run.
tsan_filter='QtopRuntimeTests|QtopPipelineTests'
out=bench/SANITIZERS.md
declare -A summary

for kind in "${kinds[@]}"; do
  case $kind in
    address) scratch=.build-asan; filter=(); ;;
    thread) scratch=.build-tsan; filter=(--filter "$tsan_filter") ;;
    *) echo "sanitize: unknown sanitizer '$kind' (address|thread)" >&2; exit 2 ;;
  esac
  log=$scratch/sanitize.log
  mkdir -p "$scratch"
  t0=$SECONDS
  echo "sanitize: $kind …"
  # halt_on_error=0 is not supported for ASan without -fsanitize-recover; the first report ends the run, so the
  # log's report is the first finding. Leak checking is off: Swift's runtime metadata caches look like leaks.
  ASAN_OPTIONS=detect_leaks=0 TSAN_OPTIONS=halt_on_error=0 \
    swift test --sanitize="$kind" --scratch-path "$scratch" "${filter[@]}" > "$log" 2>&1
  rc=$?
  secs=$((SECONDS - t0))
  executed=$(grep -E 'Executed [0-9]+ tests' "$log" | tail -1 | sed -E 's/^[[:space:]]*//')
  reports=$(grep -c -E '^(==[0-9]+==ERROR: AddressSanitizer|WARNING: ThreadSanitizer)' "$log")
  first=$(grep -m1 -E '^(==[0-9]+==ERROR: AddressSanitizer|WARNING: ThreadSanitizer|SUMMARY: )' "$log" | sed -E 's/==[0-9]+==//')
  summary[$kind]="| $kind | $(sed "s/|/, /g" <<<"${filter[1]:-all}") | $rc | ${executed:-no XCTest summary (crashed or failed to build)} | $reports | ${first:-none} | ${secs}s |"
done

{
  echo "# Sanitizer runs"
  echo
  echo "\`scripts/sanitize.sh\` on $(date -u '+%Y-%m-%d %H:%M') UTC at commit $(git rev-parse --short HEAD) ($(nproc) shared cores)," \
       "Swift $(swift --version 2>&1 | grep -o -m1 'version [0-9.]*' | cut -d' ' -f2)."
  echo
  echo "| sanitizer | tests | exit | XCTest | reports | first report | wall |"
  echo "|---|---|---|---|---|---|---|"
  # A sanitizer not run this time keeps its row from the previous results.
  for kind in address thread; do
    if [ -n "${summary[$kind]:-}" ]; then echo "${summary[$kind]}"
    elif [ -f "$out" ]; then grep -m1 "^| $kind |" "$out" || true; fi
  done
} > "$out.new"
if [ -f "$out" ] && grep -q '^## Notes' "$out"; then sed -n '/^## Notes/,$p' "$out" | { echo; cat; } >> "$out.new"; fi
mv "$out.new" "$out"
cat "$out"
