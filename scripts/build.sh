#!/usr/bin/env bash
# Configures and builds shardlab into build/ (or $BUILD_DIR). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DSHARDLAB_WERROR=$werror "$@" > /dev/null
cmake --build "$build_dir" -j2
