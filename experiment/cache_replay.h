// The cache model alone: `shardlab cache replay TRACE --memory 64MiB [...]` plays a request trace
// (experiment/cache_trace.h) through one or more modelled memcached servers and reports what
// they did, as one JSON object.
//
// With several nodes, keys are spread as the client library does (ketama or modula,
// sim/cache/key_distribution.h) or written round robin. Round robin gives a reader no way to
// compute where a key is: it keeps a directory (key -> node, one entry per key in the client's
// memory) or asks every node (a fan-out get, one request per node and read). Both are reported.
// A node can be removed or added at a moment of the trace; the report gives the share of the
// keys seen so far that moved, and the miss storm that followed.
//
// A missed get becomes a query to the database behind the cache. With a backend latency, the
// answer is set only once the query is done, so concurrent misses of a hot key each query
// (memcached leases, as Facebook's "Scaling Memcache" describes them, let one recompute while
// the others wait). The report gives the queries that reached the backend and their peak per
// second, with and without leases.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "sim/cache/memcached_model.h"

namespace shardlab::experiment {

enum class CachePolicy : uint8_t { kMemcached, kByteLru };
enum class CacheDistribution : uint8_t { kKetama, kModula, kRoundRobin };
enum class RoundRobinLookup : uint8_t { kDirectory, kFanout };

struct CacheReplayOptions {
  std::string trace_path;
  sim::cache::MemcachedConfig server;  // every node's
  CachePolicy policy = CachePolicy::kMemcached;
  size_t nodes = 1;
  CacheDistribution distribution = CacheDistribution::kKetama;
  RoundRobinLookup round_robin_lookup = RoundRobinLookup::kDirectory;
  std::optional<double> remove_node_at_s;  // the last node leaves (its items are lost)
  // Facebook's gutter pool: with memory for it, the keys of a node that left go to one spare
  // server with a short TTL instead of being spread over the others (ketama or modula only).
  uint64_t gutter_memory_bytes = 0;
  uint32_t gutter_ttl_s = 10;
  std::optional<double> add_node_at_s;     // an empty node joins
  double storm_window_s = 60;  // the hit ratio before and after a node change is over this long
  // How long the query behind a missed `get` takes before the client sets its answer (0: at
  // once). Meanwhile every other get of the key misses too and sends its own query (a
  // thundering herd), unless leases are on: then the first miss holds a lease and recomputes,
  // and the others wait for its set instead of querying.
  double backend_latency_s = 0;
  bool leases = false;
  // When set, a CSV of the trace second by second: second,gets,hits,hit_ratio,backend_queries,
  // evictions (the hit ratio over time, and the load that reached the backend).
  std::string series_path;
};

// Throws InputError for a bad trace line or option, with the line number for the trace.
nlohmann::json replay_cache_trace(const CacheReplayOptions& options);

}  // namespace shardlab::experiment
