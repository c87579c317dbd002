// The servers of a cache replay and the figures reported about them (experiment/cache_replay.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "experiment/cache_trace.h"
#include "sim/cache/byte_lru.h"
#include "sim/cache/memcached_model.h"

namespace shardlab::experiment::cache_replay {

using sim::cache::ByteLru;
using sim::cache::MemcachedModel;

double ratio(uint64_t part, uint64_t whole);

// One cache server: the memcached model or the byte-LRU reference.
struct Node {
  std::unique_ptr<MemcachedModel> memcached;
  std::unique_ptr<ByteLru> lru;
  uint64_t requests = 0;
  uint64_t gets = 0;
  uint64_t hits = 0;

  bool get(uint64_t key, uint64_t now_us) {
    ++requests;
    ++gets;
    const bool hit = memcached ? memcached->get(key, now_us) : lru->get(key);
    hits += hit;
    return hit;
  }
  void set(uint64_t key, const CacheRequest& r, uint64_t now_us, bool add_only) {
    ++requests;
    if (memcached) {
      if (add_only) {
        memcached->add(key, static_cast<uint32_t>(r.key.size()), r.value_bytes, r.ttl_s, now_us);
      } else {
        memcached->set(key, static_cast<uint32_t>(r.key.size()), r.value_bytes, r.ttl_s, now_us);
      }
    } else if (!add_only || !lru->get(key)) {
      lru->set(key, MemcachedModel::item_bytes(static_cast<uint32_t>(r.key.size()), r.value_bytes));
    }
  }
  void remove(uint64_t key, uint64_t now_us) {
    ++requests;
    if (memcached) memcached->remove(key, now_us);
    else lru->remove(key);
  }
  void touch(uint64_t key, uint32_t ttl_s, uint64_t now_us) {
    ++requests;
    if (memcached) memcached->touch(key, ttl_s, now_us);
    else lru->get(key);
  }
};

// Every node's figures (the removed ones too), and their sums.
struct NodeTotals {
  uint64_t requests = 0;
  uint64_t gets = 0;
  uint64_t evictions = 0;
  uint64_t reassign_evictions = 0;
  uint64_t expired = 0;
  uint64_t pages_moved = 0;
  uint64_t memory = 0;
  uint64_t too_large = 0;
  std::vector<const MemcachedModel*> servers;
  nlohmann::json per_node = nlohmann::json::array();

  void add(const Node& node, bool present);
};

// Per slab class, summed over the servers; classes that never held a page are left out.
nlohmann::json slab_classes(const std::vector<const MemcachedModel*>& servers);

}  // namespace shardlab::experiment::cache_replay
