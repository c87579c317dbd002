// Memoised per-part query results. Parts are immutable, so a given (copy, query fingerprint,
// part name) always produces the same partial result and work profile: a simulated day with
// millions of shard-queries scans each part once per query shape. A copy is a set of replicas
// whose parts of the same name hold the same rows: a replicated shard's replicas share one.
//
// Bounded: each entry is weighed by the bytes its result holds (aggregation states, candidate
// rows), and the least recently used entries go when the total passes the capacity. An evicted
// result is computed again by the engine when a query needs it.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <tuple>

#include "shardlab/engine/query.h"

namespace shardlab::sim::cluster {

class PartResultCache {
 public:
  explicit PartResultCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  // The memoised result, or null. Marks it most recently used.
  const engine::PartResult* find(size_t copy, const std::string& fingerprint,
                                 const std::string& part);
  const engine::PartResult& insert(size_t copy, const std::string& fingerprint,
                                   const std::string& part, engine::PartResult result);
  void set_capacity(uint64_t capacity);
  uint64_t weight() const { return weight_; }
  size_t entries() const { return entries_.size(); }

  // Adds `part` into `into` (a result of the same query): partial aggregates merge, candidate
  // rows append, profiles add.
  static void accumulate(const engine::PartResult& part, engine::PartResult* into);

 private:
  using Key = std::tuple<size_t, std::string, std::string>;
  struct Entry {
    engine::PartResult result;
    uint64_t weight = 0;
    std::list<Key>::iterator lru;
  };
  static uint64_t weigh(const engine::PartResult& result);
  void evict();

  uint64_t capacity_;
  uint64_t weight_ = 0;
  std::map<Key, Entry> entries_;
  std::list<Key> lru_;  // most recent first
};

}  // namespace shardlab::sim::cluster
