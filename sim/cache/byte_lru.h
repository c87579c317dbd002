// A plain LRU over bytes: what a cache would do with memory as one pool, no slab classes and no
// segments. The point of comparison for the memcached model (a trace whose size mix shifts is
// where the two part ways), not a model of any server.
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>

namespace shardlab::sim::cache {

class ByteLru {
 public:
  explicit ByteLru(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  bool get(uint64_t key);  // true on a hit, which moves the key to the front
  void set(uint64_t key, uint64_t bytes);
  bool remove(uint64_t key);
  uint64_t evictions() const { return evictions_; }
  uint64_t used_bytes() const { return used_; }

 private:
  struct Entry {
    uint64_t key;
    uint64_t bytes;
  };
  uint64_t capacity_;
  uint64_t used_ = 0;
  uint64_t evictions_ = 0;
  std::list<Entry> order_;  // front: most recent
  std::unordered_map<uint64_t, std::list<Entry>::iterator> index_;
};

}  // namespace shardlab::sim::cache
