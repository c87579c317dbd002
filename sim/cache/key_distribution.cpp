#include "sim/cache/key_distribution.h"

#include <fmt/format.h>
#include <nettle/md5.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "base/errors.h"

namespace shardlab::sim::cache {

namespace {

// libmemcached's MEMCACHED_POINTS_PER_SERVER_KETAMA, four points per MD5 digest, and its limit of
// 100 servers (an assertion in the Debian build).
constexpr float kPointsPerServer = 160.0f;
constexpr size_t kPointsPerHash = 4;
constexpr size_t kMaxServers = 100;
constexpr uint16_t kDefaultPort = 11211;

std::array<uint8_t, MD5_DIGEST_SIZE> md5(std::string_view text) {
  md5_ctx ctx;
  md5_init(&ctx);
  md5_update(&ctx, text.size(), reinterpret_cast<const uint8_t*>(text.data()));
  std::array<uint8_t, MD5_DIGEST_SIZE> digest{};
  md5_digest(&ctx, digest.size(), digest.data());
  return digest;
}

uint32_t little_endian_word(const std::array<uint8_t, MD5_DIGEST_SIZE>& digest, size_t word) {
  const uint8_t* b = digest.data() + 4 * word;
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}

// The ring strings: "host-i" on the default port, "host:port-i" otherwise (hosts.cc).
std::string point_name(const CacheServer& server, size_t index) {
  return server.port == kDefaultPort ? fmt::format("{}-{}", server.host, index)
                                     : fmt::format("{}:{}-{}", server.host, server.port, index);
}

// libmemcached computes the share in single precision, every step rounded to float; in double,
// 25 equal servers would get 160 points each instead of the library's 156.
size_t weighted_points(uint32_t weight, uint64_t total_weight, size_t servers) {
  const float share = static_cast<float>(weight) / static_cast<float>(total_weight);
  volatile float x = share * kPointsPerServer;  // volatile: no fused or widened arithmetic
  x = x * 0.25f;
  x = x * static_cast<float>(servers);
  x = x + 1e-10f;
  return static_cast<size_t>(std::floor(x)) * kPointsPerHash;
}

}  // namespace

const char* key_distribution_name(KeyDistribution distribution) {
  return distribution == KeyDistribution::kKetama ? "ketama" : "modula";
}

uint32_t one_at_a_time_hash(std::string_view key) {
  uint32_t value = 0;
  for (const char c : key) {
    value += static_cast<uint32_t>(static_cast<int32_t>(static_cast<signed char>(c)));
    value += value << 10;
    value ^= value >> 6;
  }
  value += value << 3;
  value ^= value >> 11;
  value += value << 15;
  return value;
}

uint32_t ketama_key_hash(std::string_view key) { return little_endian_word(md5(key), 0); }

KeyRouter::KeyRouter(KeyDistribution distribution, std::vector<CacheServer> servers)
    : distribution_(distribution), servers_(std::move(servers)) {
  if (servers_.empty()) throw InputError("a cache tier needs at least one node");
  if (servers_.size() > kMaxServers) {
    throw InputError(fmt::format("{} cache nodes: libmemcached's ketama takes at most {}",
                                 servers_.size(), kMaxServers));
  }
  for (CacheServer& server : servers_) {
    if (server.weight == 0) server.weight = 1;
  }
  if (distribution_ == KeyDistribution::kKetama) build_continuum();
}

void KeyRouter::build_continuum() {
  uint64_t total_weight = 0;
  for (const CacheServer& server : servers_) total_weight += server.weight;
  for (size_t index = 0; index < servers_.size(); ++index) {
    const size_t points = weighted_points(servers_[index].weight, total_weight, servers_.size());
    for (size_t name = 0; name < points / kPointsPerHash; ++name) {
      const auto digest = md5(point_name(servers_[index], name));
      for (size_t word = 0; word < kPointsPerHash; ++word) {
        continuum_.emplace_back(little_endian_word(digest, word), static_cast<uint32_t>(index));
      }
    }
  }
  std::sort(continuum_.begin(), continuum_.end());  // by point, then by server, as the library
}

size_t KeyRouter::server_of_hash(uint32_t hash) const {
  // libmemcached does not hash at all with one server.
  if (servers_.size() == 1) return 0;
  if (distribution_ == KeyDistribution::kModula) return hash % servers_.size();
  auto it = std::lower_bound(continuum_.begin(), continuum_.end(),
                             std::pair<uint32_t, uint32_t>{hash, 0});
  if (it == continuum_.end()) it = continuum_.begin();  // the ring wraps
  return it->second;
}

std::vector<size_t> KeyRouter::points_per_server() const {
  std::vector<size_t> points(servers_.size(), 0);
  for (const auto& point : continuum_) ++points[point.second];
  return points;
}

}  // namespace shardlab::sim::cache
