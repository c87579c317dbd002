#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs the whole test suite with ctest,
# including the differential test against a private ClickHouse 18.16 server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j2
