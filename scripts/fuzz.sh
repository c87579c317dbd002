#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz/: scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60); TARGET among sql scenario platform flows tsv table_open
# (default: all). Configures and builds the clang fuzz build in build-fuzz/ ($FUZZ_BUILD_DIR)
# when needed. Each target starts from its seeds in tests/fuzz/corpus/TARGET/ and adds what it
# finds to a working corpus outside the repository, $FUZZ_WORK/TARGET/corpus (default
# FUZZ_WORK=${TMPDIR:-/tmp}/shardlab-fuzz), so the seeds are never changed; a crash, timeout or
# out-of-memory input goes to $FUZZ_WORK/TARGET/artifacts/. The run goes on after a crash
# (libFuzzer's fork mode) until the time is up. At the end a table gives per target the
# executions, coverage (libFuzzer's cov and ft) and the saved failing inputs; the exit code is 1
# when any target saved one.
#
# Reproduce a crash: build-fuzz/tests/fuzz/fuzz_TARGET ARTIFACT
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(sql scenario platform flows tsv table_open)
seconds=${1:-60}
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2; }
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "$0: unknown target '$t' (expected one of: ${all_targets[*]})" >&2; exit 2; }
done

build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
work=${FUZZ_WORK:-${TMPDIR:-/tmp}/shardlab-fuzz}
if ! grep -qs '^SHARDLAB_FUZZ:BOOL=ON' "$build_dir/CMakeCache.txt"; then
  CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSHARDLAB_FUZZ=ON -DSHARDLAB_BENCH=OFF > /dev/null
fi
# FUZZ_NO_BUILD=1 runs the targets as they are built (e.g. while another build is running).
[ "${FUZZ_NO_BUILD:-0}" = 1 ] || cmake --build "$build_dir" -j"${JOBS:-2}" --target "${targets[@]/#/fuzz_}"

# Per-target options: tests/fuzz/TARGET.options (the CI smoke test reads the same file).
extra_options() {
  if [ -f "tests/fuzz/$1.options" ]; then cat "tests/fuzz/$1.options"; fi
}

summary=()
failed=0
for t in "${targets[@]}"; do
  dir="$work/$t"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  echo "== fuzz_$t: $seconds s, working corpus $dir/corpus, failing inputs in $dir/artifacts/"
  # shellcheck disable=SC2046  # the options are words
  "$build_dir/tests/fuzz/fuzz_$t" "$dir/corpus" "tests/fuzz/corpus/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -artifact_prefix="$dir/artifacts/" $(extra_options "$t") > "$dir/fuzz.log" 2>&1 || true
  # The last status line: "#RUNS ... cov: N ft: N ..." (also in fork mode).
  stats=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$dir/fuzz.log" | tail -1 || true)
  runs=$(sed -E 's/^#([0-9]+).*/\1/' <<< "$stats")
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<< "$stats")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<< "$stats")
  found=$(find "$dir/artifacts" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \
          -o -name 'leak-*' \) | wc -l)
  [ "$found" -gt 0 ] && failed=1
  summary+=("$(printf '%-11s %12s %7s %8s %8s' "$t" "${runs:-?}" "${cov:-?}" "${ft:-?}" "$found")")
  echo "   log: $dir/fuzz.log"
done

echo
printf '%-11s %12s %7s %8s %8s\n' target executions cov ft failures
printf '%s\n' "${summary[@]}"
[ "$failed" -eq 0 ] || echo "failing inputs are under $work/TARGET/artifacts/"
exit "$failed"
