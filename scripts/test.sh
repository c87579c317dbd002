#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs the whole test suite with ctest,
# including the differential test against a private ClickHouse 18.16 server. The suite runs
# twice: on the optimised build, then on an AddressSanitizer + UndefinedBehaviorSanitizer build.
# Between the two, the fuzz smoke: a clang build of only the libFuzzer targets (tests/fuzz/), each
# run over its seed corpus and then, from a fixed seed, for at most 50,000 inputs or
# FUZZ_SMOKE_SECONDS (default 20). The
# sanitizer suite runs last, so that ctest's closing summary is the whole suite's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j2)
echo "== fuzz smoke: every libFuzzer target over its seeds, then at most 50,000 inputs or ${FUZZ_SMOKE_SECONDS:-20} s each"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHARDLAB_FUZZ=ON \
  -DSHARDLAB_BENCH=OFF -DSHARDLAB_FUZZ_SMOKE_SECONDS="${FUZZ_SMOKE_SECONDS:-20}" > /dev/null
cmake --build build-fuzz -j2 --target fuzz_targets
(cd build-fuzz && ctest --output-on-failure -j2 -L fuzz)
echo "== the same suite under AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHARDLAB_SANITIZE=ON -DSHARDLAB_BENCH=OFF > /dev/null
cmake --build build-asan -j2
# AddressSanitizer's redzones make each stack frame several times larger: parsing SQL nested
# max_parser_depth (1000) deep needs about 2 MiB of stack in the optimised build and more than
# the default 8 MiB under the sanitizer, so the sanitized processes get 64 MiB.
# memcached_validation compares hit ratios with a real server on 6M requests; the optimised run
# above does that, and the model's code runs under the sanitizers in shardlab_tests' [cache] cases.
(cd build-asan && ulimit -s 65536 && ctest --output-on-failure -j2 -E '^memcached_validation$')
