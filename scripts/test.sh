#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs the whole test suite with ctest,
# including the differential test against a private ClickHouse 18.16 server. The suite runs
# twice: on the optimised build, then on an AddressSanitizer + UndefinedBehaviorSanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j2)
echo "== the same suite under AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHARDLAB_SANITIZE=ON -DSHARDLAB_BENCH=OFF > /dev/null
cmake --build build-asan -j2
cd build-asan
ctest --output-on-failure -j2
