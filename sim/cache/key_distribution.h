// How a client spreads keys over cache nodes, as libmemcached 1.1.4 does it, so that a model run
// and a real client put every key on the same node.
//
//  * modula  libmemcached's default: the key's one-at-a-time hash modulo the node count. Adding
//            or losing a node moves almost every key.
//  * ketama  MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED: each node owns about 160 points per equal
//            share on a ring of MD5 points; a key goes to the first point at or after the first
//            four bytes of its MD5. Losing a node moves only the keys it held.
//
// Which node owns a key is a pure function of the node list (hosts, ports, weights, order), as
// in the client library; `sim/cache/README.md` says how the ring is built and where floats matter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shardlab::sim::cache {

struct CacheServer {
  std::string host;  // as given: the client hashes the name, it never resolves it
  uint16_t port = 11211;
  uint32_t weight = 1;  // 0 counts as 1, as in libmemcached
};

enum class KeyDistribution : uint8_t { kModula, kKetama };

const char* key_distribution_name(KeyDistribution distribution);

// libmemcached's one-at-a-time hash (its default key hash), over signed chars as on amd64.
uint32_t one_at_a_time_hash(std::string_view key);
// The first four bytes of the key's MD5, little-endian: the key hash of weighted ketama.
uint32_t ketama_key_hash(std::string_view key);

class KeyRouter {
 public:
  // Throws InputError for no server, or more than 100 (libmemcached aborts on a ring that
  // large).
  KeyRouter(KeyDistribution distribution, std::vector<CacheServer> servers);

  // The index into servers() of the node that holds `key`.
  size_t server_of(std::string_view key) const {
    return server_of_hash(key_hash(distribution_, key));
  }
  // The same in two steps, so that a caller can keep a key's hash and place it again on another
  // node list of the same distribution.
  static uint32_t key_hash(KeyDistribution distribution, std::string_view key) {
    return distribution == KeyDistribution::kKetama ? ketama_key_hash(key)
                                                    : one_at_a_time_hash(key);
  }
  size_t server_of_hash(uint32_t hash) const;
  const std::vector<CacheServer>& servers() const { return servers_; }
  KeyDistribution distribution() const { return distribution_; }
  // ketama: how many ring points each server got (float rounding can give 156 for 160).
  std::vector<size_t> points_per_server() const;

 private:
  void build_continuum();

  KeyDistribution distribution_;
  std::vector<CacheServer> servers_;
  std::vector<std::pair<uint32_t, uint32_t>> continuum_;  // ketama: (point, server), sorted
};

}  // namespace shardlab::sim::cache
