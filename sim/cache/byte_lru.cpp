#include "sim/cache/byte_lru.h"

namespace shardlab::sim::cache {

bool ByteLru::get(uint64_t key) {
  const auto it = index_.find(key);
  if (it == index_.end()) return false;
  order_.splice(order_.begin(), order_, it->second);
  return true;
}

void ByteLru::set(uint64_t key, uint64_t bytes) {
  remove(key);
  if (bytes > capacity_) return;
  while (used_ + bytes > capacity_) {
    used_ -= order_.back().bytes;
    index_.erase(order_.back().key);
    order_.pop_back();
    ++evictions_;
  }
  order_.push_front({key, bytes});
  index_[key] = order_.begin();
  used_ += bytes;
}

bool ByteLru::remove(uint64_t key) {
  const auto it = index_.find(key);
  if (it == index_.end()) return false;
  used_ -= it->second->bytes;
  order_.erase(it->second);
  index_.erase(it);
  return true;
}

}  // namespace shardlab::sim::cache
