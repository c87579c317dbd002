// memcached servers as hosts of the simulated network, and the client that spreads keys over them.
//
// Every request is a round trip played out in simulated time: the request's bytes from the
// client's host to the server's (network), the server's CPU for the operation (its worker threads
// are the node's cores), then the reply's bytes back. Each server's memory is a MemcachedModel,
// so hits, evictions and slab classes are memcached's own. The client places keys as
// libmemcached does (KeyRouter: ketama or modula).
//
// Placement. By default the client hashes the key (ketama or modula, as libmemcached). Two
// more placements are the application's own:
//   partition    the caller names the server (a partition map over a column of the data behind
//                the key, e.g. the province asked about); a key it does not name is hashed.
//   round_robin  each set goes to the next server in turn, so a reader cannot know where an
//                item is: every get and delete fans out to all servers (one request each, in
//                parallel; a get hits if any copy does). The extra requests are counted. An
//                older copy left on another server by a later set elsewhere can still answer.
//
// Failures. A crashed server's host is down: a request to it costs the client `connect_timeout`
// and fails, and the client (libmemcached's REMOVE_FAILED_SERVERS) ejects the server from its
// list, so its keys move to the others (ketama: only its keys; modula: almost all). When the
// server comes back, empty, it rejoins the list and its keys move back. With `gutter` servers,
// the keys of an ejected server go to the gutter pool instead, with a short TTL (Facebook's
// "Scaling Memcache"), and the other servers' keys stay where they are.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "sim/cache/key_distribution.h"
#include "sim/cache/memcached_model.h"
#include "sim/core/simulation.h"
#include "sim/hw/cpu.h"
#include "sim/hw/network.h"

namespace shardlab::sim::cache {

enum class Placement : uint8_t { kHash, kPartition, kRoundRobin };

struct CacheTierSpec {
  std::vector<std::string> hosts;  // network hosts, one server each
  MemcachedConfig server;
  Placement placement = Placement::kHash;
  KeyDistribution distribution = KeyDistribution::kKetama;  // kHash, and unnamed partition keys
  int threads = 4;  // memcached -t: worker threads, each a core of the host
  double cpu_speed = 1.0;
  // CPU for one request at speed 1: parsing, hashing, the LRU and the syscalls. memcached serves
  // some 200k-500k small requests per second per worker thread on current hardware.
  Duration op_cpu = Duration::microseconds(3);
  double cpu_s_per_byte = 0.1e-9;  // copying values
  uint32_t header_bytes = 48;      // protocol framing of a request or reply
  Duration connect_timeout = Duration::milliseconds(100);
  std::vector<std::string> gutter_hosts;  // empty: eject failed servers
  uint32_t gutter_ttl_s = 10;
};

struct CacheTierCounters {
  uint64_t gets = 0;
  uint64_t hits = 0;
  uint64_t sets = 0;
  uint64_t deletes = 0;
  uint64_t errors = 0;      // requests to a server that was down
  uint64_t ejections = 0;   // servers removed from the client's list
  uint64_t gutter_gets = 0;
  uint64_t gutter_hits = 0;
  uint64_t fanout_requests = 0;  // round_robin: the requests beyond one per get or delete
};

// Where a request goes: by the key's hash, or to the server a partition map chose.
struct CacheKey {
  CacheKey(std::string key, std::optional<size_t> chosen = std::nullopt)  // NOLINT: a plain key
      : text(std::move(key)), server(chosen) {}
  std::string text;
  std::optional<size_t> server;  // an index into the main pool (Placement::kPartition)
};

// A change of the client's server list, and the share of the keys stored so far that it moved.
struct Remap {
  Time at;
  std::string what;  // "eject cache2", "rejoin cache2"
  double moved_share = 0;
};

class CacheTier {
 public:
  // Throws InputError for an unknown host or a bad server config.
  CacheTier(Simulation& sim, Network& network, CacheTierSpec spec);

  // Each resolves when the reply is back; none throws. `value_bytes` is what a hit returns.
  Process get(HostId client, CacheKey key, uint32_t value_bytes, bool* hit);
  // memcached's multi-key get: the keys are grouped by server and each group is one request
  // (the servers in parallel). hits[i] is set for keys[i].
  Process get_multi(HostId client, std::vector<CacheKey> keys, std::vector<uint32_t> value_bytes,
                    std::vector<bool>* hits);
  Process set(HostId client, CacheKey key, uint32_t value_bytes, uint32_t ttl_s);
  // memcached's add: stores only if the key is absent; *stored says whether it did.
  Process add(HostId client, CacheKey key, uint32_t value_bytes, uint32_t ttl_s, bool* stored);
  Process touch(HostId client, CacheKey key, uint32_t ttl_s);
  Process remove(HostId client, CacheKey key);

  void crash(size_t server);
  void restart(size_t server);

  size_t servers() const { return servers_.size(); }
  // Servers are the main pool (spec.hosts) and then the gutter pool (spec.gutter_hosts).
  const std::string& host_name(size_t server) const { return names_[server]; }
  const MemcachedModel& model(size_t server) const { return *servers_[server].model; }
  const CacheTierCounters& counters() const { return counters_; }
  const std::vector<Remap>& remaps() const { return remaps_; }
  const CacheTierSpec& spec() const { return spec_; }

 private:
  struct Server {
    HostId host{};
    std::unique_ptr<Cpu> cpu;
    std::unique_ptr<MemcachedModel> model;
    bool up = true;
    bool ejected = false;  // from the client's list
    bool gutter = false;
  };
  struct Route {
    size_t server = 0;
    bool gutter = false;
  };

  Route route(const CacheKey& key) const;
  Process store(HostId client, CacheKey key, uint32_t value_bytes, uint32_t ttl_s,
                bool only_if_absent, bool* stored);
  // The servers a get or delete of `key` asks: its route, or every listed one for round_robin.
  std::vector<Route> read_routes(const CacheKey& key) const;
  void rebuild_router(std::string what);
  uint64_t clock_us() const { return static_cast<uint64_t>(sim_.now().ns() / 1000); }
  static uint64_t model_key(std::string_view key);
  // The round trip to `server`: `at_server` runs on the server's model when the request is in
  // and returns the reply's payload bytes. *ok is false when the server was down (the client
  // then waited connect_timeout and ejected it).
  Process round_trip(HostId client, size_t server, uint64_t request_bytes,
                     std::function<uint64_t(MemcachedModel&)> at_server, bool* ok);

  Simulation& sim_;
  Network& network_;
  CacheTierSpec spec_;
  std::vector<std::string> names_;  // every server's host: the main pool, then the gutter pool
  std::vector<Server> servers_;     // in the same order
  size_t main_servers_ = 0;
  std::vector<size_t> listed_;  // main servers in the client's list, in order
  std::unique_ptr<KeyRouter> router_;
  std::unique_ptr<KeyRouter> gutter_router_;
  std::vector<size_t> gutter_;
  std::unordered_set<std::string> stored_keys_;  // every key set so far, for remap shares
  size_t next_set_server_ = 0;                   // round_robin: the next set's server, in turn
  std::vector<Remap> remaps_;
  CacheTierCounters counters_;
};

}  // namespace shardlab::sim::cache
