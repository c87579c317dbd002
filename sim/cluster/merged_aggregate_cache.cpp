#include "sim/cluster/merged_aggregate_cache.h"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace shardlab::sim::cluster {
namespace {

bool starts_before(const engine::PartInfo& a, const engine::PartInfo& b) {
  return std::tie(a.partition_id, a.min_block) < std::tie(b.partition_id, b.min_block);
}

std::optional<int64_t> ttl_min(const engine::Part& part) {
  const auto range = part.ttl_range();
  return range ? std::optional<int64_t>(range->first) : std::nullopt;
}

}  // namespace

std::optional<std::vector<bool>> MergedAggregateCache::missing_parts(
    const std::vector<Covered>& covered, const std::vector<engine::PartPtr>& parts) {
  std::vector<size_t> order(parts.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return starts_before(parts[a]->info(), parts[b]->info()); });
  std::vector<bool> missing(parts.size(), false);
  size_t next = 0;  // the first kept part not yet matched to a visible one
  for (size_t idx : order) {
    const engine::PartInfo& p = parts[idx]->info();
    // Kept parts that end before this one starts are in no visible part any more.
    if (next < covered.size()) {
      const engine::PartInfo& c = covered[next].info;
      if (c.partition_id < p.partition_id ||
          (c.partition_id == p.partition_id && c.max_block < p.min_block))
        return std::nullopt;
    }
    uint64_t rows = 0;
    std::optional<int64_t> earliest;
    bool any = false;
    for (; next < covered.size() && covered[next].info.partition_id == p.partition_id &&
           covered[next].info.min_block <= p.max_block;
         ++next) {
      const Covered& c = covered[next];
      if (c.info.min_block < p.min_block || c.info.max_block > p.max_block) return std::nullopt;
      rows += c.rows;
      if (c.ttl_min && (!earliest || *c.ttl_min < *earliest)) earliest = c.ttl_min;
      any = true;
    }
    if (!any) {
      missing[idx] = true;
    } else if (rows != parts[idx]->rows() || earliest != ttl_min(*parts[idx])) {
      return std::nullopt;
    }
  }
  if (next != covered.size()) return std::nullopt;
  return missing;
}

MergedAggregateCache::Update MergedAggregateCache::begin(size_t replica,
                                                         const std::string& fingerprint,
                                                         const std::vector<engine::PartPtr>& parts,
                                                         engine::Aggregator empty) {
  Key key{replica, fingerprint};
  auto it = entries_.find(key);
  Update update;
  if (it != entries_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    if (auto missing = missing_parts(it->second.covered, parts)) {
      update.rebuild_ = false;
      update.missing_ = std::move(*missing);
    }
  } else {
    lru_.push_front(key);
    Entry entry;
    entry.lru = lru_.begin();
    it = entries_.emplace(std::move(key), std::move(entry)).first;
  }
  Entry& entry = it->second;
  if (update.rebuild_) {
    if (entry.state) ++rebuilds_;
    entry.state = std::move(empty);
  }
  update.state_ = &*entry.state;
  return update;
}

const engine::Aggregator& MergedAggregateCache::finish(size_t replica,
                                                       const std::string& fingerprint,
                                                       const std::vector<engine::PartPtr>& parts) {
  const auto it = entries_.find(Key{replica, fingerprint});
  Entry& entry = it->second;
  entry.covered.clear();
  for (const engine::PartPtr& part : parts)
    entry.covered.push_back(Covered{part->info(), part->rows(), ttl_min(*part)});
  std::sort(entry.covered.begin(), entry.covered.end(),
            [](const Covered& a, const Covered& b) { return starts_before(a.info, b.info); });
  weight_ -= entry.weight;
  entry.weight = 256 + entry.covered.size() * sizeof(Covered) + entry.state->memory_bytes();
  weight_ += entry.weight;
  // The entry just brought up to date survives even when it alone passes the capacity.
  while (weight_ > capacity_ && entries_.size() > 1) {
    const auto oldest = entries_.find(lru_.back());
    if (oldest == it) break;
    weight_ -= oldest->second.weight;
    entries_.erase(oldest);
    lru_.pop_back();
  }
  return *entry.state;
}

}  // namespace shardlab::sim::cluster
