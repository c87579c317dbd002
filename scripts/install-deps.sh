#!/usr/bin/env bash
# Installs every build, test and benchmark dependency from Debian 12 packages.
set -euo pipefail
# python3 (standard library only) runs the tests that drive whole processes: the kill -9
# crash test, the CLI error test and the differential test against ClickHouse. ccache makes
# rebuilds cheap. clang and its runtime libraries (libFuzzer, the sanitizers) build the fuzz
# targets (tests/fuzz/); the runtimes are only a recommendation of clang, hence named here.
# memcached is the real server the cache model is checked against (sim/cache/); libmemcached
# links the test that checks the model's ketama against the client library's own, and is live
# mode's memcached client; nettle
# gives ketama its MD5. Open MPI runs `shardlab sweep` across machines (mpirun). zookeeper is
# the coordinator of live mode's replicated cluster; cpp-httplib its HTTP client of ClickHouse.
packages=(
  build-essential cmake pkg-config ccache git python3 clang libclang-rt-14-dev
  libfmt-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev
  liblz4-dev libzstd-dev libxxhash-dev libeigen3-dev libboost-graph-dev
  catch2 libbenchmark-dev gnuplot-nox libgnuplot-iostream-dev
  clickhouse-server clickhouse-client memcached libmemcached-dev nettle-dev
  openmpi-bin libopenmpi-dev
  libcpp-httplib-dev zookeeper
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # clickhouse-server's maintainer scripts try to start the service; tests start their own
  # private server instead, so the package's service is left stopped.
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
