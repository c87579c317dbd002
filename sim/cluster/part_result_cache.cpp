#include "sim/cluster/part_result_cache.h"

namespace shardlab::sim::cluster {

uint64_t PartResultCache::weigh(const engine::PartResult& result) {
  // The entry itself and its key, roughly; then what the result holds.
  uint64_t weight = 256;
  if (result.aggregate) weight += result.aggregate->memory_bytes();
  for (const engine::Column& column : result.rows) weight += column.byte_size();
  return weight;
}

const engine::PartResult* PartResultCache::find(size_t shard, const std::string& fingerprint,
                                                const std::string& part) {
  const auto it = entries_.find(Key{shard, fingerprint, part});
  if (it == entries_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return &it->second.result;
}

const engine::PartResult& PartResultCache::insert(size_t shard, const std::string& fingerprint,
                                                  const std::string& part,
                                                  engine::PartResult result) {
  Key key{shard, fingerprint, part};
  // Two subqueries may miss on the same part at once; the second result replaces the first.
  if (const auto old = entries_.find(key); old != entries_.end()) {
    weight_ -= old->second.weight;
    lru_.erase(old->second.lru);
    entries_.erase(old);
  }
  lru_.push_front(key);
  Entry entry;
  entry.weight = weigh(result);
  entry.result = std::move(result);
  entry.lru = lru_.begin();
  weight_ += entry.weight;
  const auto it = entries_.emplace(std::move(key), std::move(entry)).first;
  const engine::PartResult& kept = it->second.result;
  // The newest entry survives its own insertion even when it alone passes the capacity.
  while (weight_ > capacity_ && entries_.size() > 1) evict();
  return kept;
}

void PartResultCache::evict() {
  const Key& oldest = lru_.back();
  const auto it = entries_.find(oldest);
  weight_ -= it->second.weight;
  entries_.erase(it);
  lru_.pop_back();
}

void PartResultCache::set_capacity(uint64_t capacity) {
  capacity_ = capacity;
  while (weight_ > capacity_ && !entries_.empty()) evict();
}

void PartResultCache::accumulate(const engine::PartResult& part, engine::PartResult* into) {
  if (part.aggregate) {
    into->aggregate->merge(*part.aggregate);
  } else if (!part.rows.empty()) {
    if (into->rows.empty()) {
      into->rows = part.rows;
    } else {
      for (size_t c = 0; c < part.rows.size(); ++c) engine::append_column(&into->rows[c], part.rows[c]);
    }
  }
  into->profile.add(part.profile);
}

}  // namespace shardlab::sim::cluster
