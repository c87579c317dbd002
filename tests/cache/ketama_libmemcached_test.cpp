// The model's key placement against libmemcached's own: for each server list, every key must go
// to the server memcached_server_by_key picks with MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED (and with
// the default modula distribution). libmemcached is linked by this test only; no server runs.
#include <libmemcached/memcached.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "sim/cache/key_distribution.h"

using shardlab::sim::cache::CacheServer;
using shardlab::sim::cache::KeyDistribution;
using shardlab::sim::cache::KeyRouter;

namespace {

// The server index libmemcached chooses for each key, or -1 on an error.
std::vector<int> library_choice(const std::vector<CacheServer>& servers, bool ketama,
                                const std::vector<std::string>& keys) {
  memcached_st* client = memcached_create(nullptr);
  if (ketama) memcached_behavior_set(client, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
  for (const CacheServer& server : servers) {
    memcached_server_add_with_weight(client, server.host.c_str(), server.port, server.weight);
  }
  std::vector<int> out;
  for (const std::string& key : keys) {
    memcached_return_t rc;
    const memcached_instance_st* chosen =
        memcached_server_by_key(client, key.data(), key.size(), &rc);
    int index = -1;
    for (size_t i = 0; chosen != nullptr && i < servers.size(); ++i) {
      if (servers[i].host == memcached_server_name(chosen) &&
          servers[i].port == memcached_server_port(chosen)) {
        index = static_cast<int>(i);
      }
    }
    out.push_back(index);
  }
  memcached_free(client);
  return out;
}

}  // namespace

int main() {
  std::mt19937_64 rng(7);
  std::vector<std::string> keys;
  for (int i = 0; i < 20000; ++i) keys.push_back("k:" + std::to_string(rng() % 10'000'000));
  keys.push_back("key0");
  size_t checked = 0;
  size_t mismatched = 0;
  for (int config = 0; config < 60; ++config) {
    const size_t count = 1 + rng() % (config < 40 ? 12 : 100);
    const bool weighted = config % 2 == 1;
    std::vector<CacheServer> servers;
    for (size_t i = 0; i < count; ++i) {
      const uint16_t port = static_cast<uint16_t>(11211 + rng() % 3);
      servers.push_back({"10.1." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1),
                         port, weighted ? static_cast<uint32_t>(1 + rng() % 9) : 1});
    }
    for (const bool ketama : {true, false}) {
      const KeyRouter router(ketama ? KeyDistribution::kKetama : KeyDistribution::kModula,
                             servers);
      const std::vector<int> expected = library_choice(servers, ketama, keys);
      for (size_t k = 0; k < keys.size(); ++k) {
        ++checked;
        if (static_cast<int>(router.server_of(keys[k])) != expected[k]) {
          if (mismatched++ < 5) {
            std::printf("mismatch: %s, %zu servers, key %s: model %zu, libmemcached %d\n",
                        ketama ? "ketama" : "modula", servers.size(), keys[k].c_str(),
                        router.server_of(keys[k]), expected[k]);
          }
        }
      }
    }
  }
  std::printf("%zu placements checked against libmemcached %s, %zu differ\n", checked,
              memcached_lib_version(), mismatched);
  return mismatched == 0 ? 0 : 1;
}
