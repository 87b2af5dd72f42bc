#!/usr/bin/env bash
# Coverage-guided fuzzing of qtop's file readers and load → passes → plan (libFuzzer through swiftc
# -sanitize=fuzzer; targets in Sources/QtopFuzzTargets, driver in Sources/qtop-fuzz + Sources/CQtopFuzz, declared only with QTOP_FUZZ=1).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   benchmark: fork mode (keeps going after a crash), all
#                                                      targets by default; figures → bench/FUZZ.md
#   scripts/fuzz.sh --ci [SECONDS]                     smoke: each target for SECONDS (default 5) from the seeds +
#                                                      the committed regression inputs; exit 1 on any crash
#   scripts/fuzz.sh --triage                           replays every artifact, prints one stack per distinct place
#
# Budgets: SECONDS_PER_TARGET may also be "name=seconds,..." (e.g. npy=60,pipeline=300). Corpora grow under
# .build-fuzz/corpus (git-ignored), artifacts (crash-*, oom-*, timeout-*) under .build-fuzz/findings/<target>.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scratch=.build-fuzz
# Not "$scratch/artifacts": SwiftPM owns that folder (binary targets) and empties it on every build.
bin=$scratch/release/qtop-fuzz
all_targets=(pdmodel pdiparams npy pipeline pirjson)
rss_mb=1024
timeout_s=10
# The machine is shared: every fuzzing process runs niced (QTOP_FUZZ_NICE=0 to run at normal priority).
nice_cmd=(nice -n "${QTOP_FUZZ_NICE:-10}")

# Extra libFuzzer flags per target: pirjson gets the token dictionary fuzz-seeds.sh writes from the PIR samples.
target_flags() {
  if [ "$1" = pirjson ] && [ -f "$scratch/seeds/pirjson.dict" ]; then echo "-dict=$scratch/seeds/pirjson.dict"; fi
}

build() {
  local t0=$SECONDS
  QTOP_FUZZ=1 swift build -c release --scratch-path "$scratch" --product qtop-fuzz -Xswiftc -sanitize=fuzzer \
    2>&1 | grep -E "error|Compiling qtop|Build|Linking" || true
  [ -x "$bin" ] || { echo "fuzz: build failed" >&2; exit 1; }
  build_seconds=$((SECONDS - t0))
  scripts/fuzz-seeds.sh "$scratch/seeds" >/dev/null
}

# Replays each artifact alone (with Swift's backtracer on) and groups them by the first frame in qtop's sources.
triage() {
  local dir f t log place kind
  for dir in "$scratch"/findings/*; do
    [ -d "$dir" ] || continue
    t=$(basename "$dir")
    for f in "$dir"/*; do
      [ -f "$f" ] || continue
      log=$(SWIFT_BACKTRACE=enable=yes,interactive=no QTOP_FUZZ_TARGET=$t "$bin" -rss_limit_mb=$rss_mb \
            -malloc_limit_mb=$rss_mb -timeout=$timeout_s "$f" 2>&1 || true)
      # Swift backtrace frame: "  3 [ra]  0x… static ShapeInference.infer(_:_:) + 13597 in qtop-fuzz at /…/Sources/X.swift:96:87"
      place=$(grep -m1 -E ' in qtop-fuzz at /[^ ]*/Sources/' <<<"$log" \
              | sed -E 's/^ *[0-9]+ [^0]*0x[0-9a-f]+ (.*) \+ [0-9]+ in qtop-fuzz at .*\/(Sources\/[^ ]*)$/\2  \1/' || true)
      # libFuzzer frame (malloc limit, timeout): "    #5 0x… in $s10QtopRuntime… /…/Sources/X.swift:12:3"
      [ -n "$place" ] || place=$(grep -m1 -E '^ +#[0-9]+ 0x[0-9a-f]+ in .* /[^ ]*/Sources/' <<<"$log" \
              | sed -E 's/^ +#[0-9]+ 0x[0-9a-f]+ in ([^ ]*) .*\/(Sources\/[^ ]*)$/\2  \1/' | /opt/swift/usr/bin/swift-demangle --simplified || true)
      kind=$(grep -m1 -o -E 'Fatal error: .*|Swift runtime failure: [^*]*|deadly signal|out-of-memory \([^)]*\)|timeout after [0-9]+ seconds|Program crashed: [^*]*' <<<"$log" || true)
      [ -n "$kind" ] || kind="no crash on replay"
      printf '%s\t%s\t%s\n' "${place:-(no qtop frame)}" "$t/$(basename "$f")" "$kind"
    done
  done | sort | awk -F'\t' '{ if ($1 != last) { print "\n" $1; last = $1 } print "    " $2 "  (" $3 ")" }'
}

if [ "${1:-}" = "--triage" ]; then build; triage; exit 0; fi

if [ "${1:-}" = "--ci" ]; then
  secs=${2:-5}
  build
  echo "fuzz --ci: build ${build_seconds}s"
  status=0
  for t in "${all_targets[@]}"; do
    # Committed regression inputs (not the opspec-pending ones) first, then a short run from the seeds.
    mapfile -t pending < <(sed -n -E "s|^$t/([^ #]+).*|\1|p" Tests/QtopFuzzTests/Regressions/opspec-pending.txt)
    regress=()
    for f in Tests/QtopFuzzTests/Regressions/$t/*; do
      [ -f "$f" ] || continue
      printf '%s\n' "${pending[@]:-}" | grep -qxF "$(basename "$f")" || regress+=("$f")
    done
    if [ ${#regress[@]} -gt 0 ]; then
      QTOP_FUZZ_TARGET=$t "$bin" -rss_limit_mb=$rss_mb -timeout=$timeout_s "${regress[@]}" >/dev/null 2>&1 \
        || { echo "fuzz --ci: $t regression input crashes"; status=1; }
    fi
    mkdir -p "$scratch/ci-corpus/$t" "$scratch/findings/$t"
    # shellcheck disable=SC2046
    if SWIFT_BACKTRACE=enable=no QTOP_FUZZ_TARGET=$t "${nice_cmd[@]}" "$bin" -max_total_time="$secs" -rss_limit_mb=$rss_mb \
        -timeout=$timeout_s $(target_flags "$t") -artifact_prefix="$scratch/findings/$t/" "$scratch/ci-corpus/$t" "$scratch/seeds/$t" \
        > "$scratch/ci-$t.log" 2>&1; then
      echo "fuzz --ci: $t ok ($(grep -o -E '^#[0-9]+' "$scratch/ci-$t.log" | tail -1 | tr -d '#') runs)"
    else
      echo "fuzz --ci: $t FOUND A CRASH (log $scratch/ci-$t.log)"; status=1
    fi
  done
  exit $status
fi

budget=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
seconds_for() { # "60" or "npy=60,pipeline=300"
  if [[ $budget == *=* ]]; then
    local kv; for kv in ${budget//,/ }; do [ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return; }; done; echo 60
  else echo "$budget"; fi
}

campaign_t0=$SECONDS
build
out=bench/FUZZ.md
rows=()
total_runs=0; total_crash=0; total_oom=0; total_timeout=0; max_rss=0
for t in "${targets[@]}"; do
  secs=$(seconds_for "$t")
  mkdir -p "$scratch/corpus/$t" "$scratch/findings/$t"
  log=$scratch/fuzz-$t.log
  echo "fuzz: $t for ${secs}s"
  # Fork mode with ignore_*: a crash is counted and saved, the campaign goes on. /usr/bin/time records the peak
  # RSS of the largest process (fuzzing jobs run as children; -rss_limit_mb kills any job past 1 GB as an OOM).
  # SWIFT_BACKTRACE=enable=no: Swift's crash handler would otherwise take the signal before libFuzzer saves the input.
  # shellcheck disable=SC2046
  /usr/bin/time -f 'maxrss_kb=%M' -o "$scratch/time-$t.txt" env SWIFT_BACKTRACE=enable=no QTOP_FUZZ_TARGET=$t \
    "${nice_cmd[@]}" "$bin" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 -max_total_time="$secs" \
    -rss_limit_mb=$rss_mb -malloc_limit_mb=$rss_mb -timeout=$timeout_s $(target_flags "$t") \
    -artifact_prefix="$scratch/findings/$t/" "$scratch/corpus/$t" "$scratch/seeds/$t" > "$log" 2>&1 || true
  last=$(grep -E '^#[0-9]+: cov' "$log" | tail -1)
  runs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last"); runs=${runs:-0}
  cov=$(sed -E 's/.* cov: ([0-9]+).*/\1/' <<<"$last")
  read -r oom tmo crash < <(sed -E 's|.*oom/timeout/crash: ([0-9]+)/([0-9]+)/([0-9]+).*|\1 \2 \3|' <<<"$last")
  rss_kb=$(sed -n 's/maxrss_kb=//p' "$scratch/time-$t.txt")
  rss=$(( ${rss_kb:-0} / 1024 ))
  rate=$(( runs / (secs > 0 ? secs : 1) ))
  distinct=$(ls "$scratch/findings/$t" | wc -l)
  rows+=("| $t | $secs | $runs | $rate | ${cov:-?} | ${crash:-0} | ${tmo:-0} | ${oom:-0} | $distinct | $rss |")
  total_runs=$((total_runs + runs)); total_crash=$((total_crash + ${crash:-0}))
  total_timeout=$((total_timeout + ${tmo:-0})); total_oom=$((total_oom + ${oom:-0}))
  [ "$rss" -gt "$max_rss" ] && max_rss=$rss
done

{
  echo "# Fuzz benchmark"
  echo
  echo "\`scripts/fuzz.sh $budget ${targets[*]}\` on $(date -u '+%Y-%m-%d %H:%M') UTC at commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo ' (+ uncommitted Sources changes)')" \
       "— $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores shared with other work; libFuzzer fork mode," \
       "one job at a time, niced, -rss_limit_mb=$rss_mb, -timeout=${timeout_s}s; release build with -sanitize=fuzzer (overflow" \
       "and bounds traps stay on), build ${build_seconds}s, wall $((SECONDS - campaign_t0))s in all."
  echo
  echo "| target | seconds | executions | exec/s | coverage | crashes | timeouts | OOMs | artifacts (distinct inputs) | peak RSS MB |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo "| **total** | | **$total_runs** | | | **$total_crash** | **$total_timeout** | **$total_oom** | | **$max_rss** |"
  echo
  echo "Crash counts are libFuzzer's (the same bug hit again by other inputs counts again); \`scripts/fuzz.sh --triage\`"
  echo "groups the artifacts by the first qtop frame of their stack."
} > "$out.new"
# Keep any hand-written notes below the generated table.
if [ -f "$out" ] && grep -q '^## Notes' "$out"; then sed -n '/^## Notes/,$p' "$out" | { echo; cat; } >> "$out.new"; fi
mv "$out.new" "$out"
cat "$out"
