// The merged partial aggregate of each replica's parts, per query shape, kept between queries.
//
// A replica answers an aggregating subquery by merging the partial states of all its visible
// parts. Between two queries of the same shape a replica's large parts barely change: new ones
// appear now and then, and background merges replace parts by one that holds exactly their
// rows. Merging every part's state again for every query took about a tenth of a full-scale
// run (the memo of per-part results already saves the scans), so the merged state of the parts
// the caller chooses (the cluster gives the settled, large ones) is kept and brought up to date
// instead: new parts are merged in, and a part that merged kept parts together changes nothing
// when its row count equals theirs (a plain MergeTree merge keeps every row) and so does its
// earliest TTL (a TTL merge drops the earliest rows first, so a part that lost kept rows starts
// later). Anything else (a part gone, a part overlapping kept ones differently, a merge that
// took in rows the state has not seen) rebuilds the state from all parts.
//
// Bounded like PartResultCache: entries are weighed by their state's memory and the least
// recently used go first.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "shardlab/engine/aggregator.h"
#include "shardlab/engine/part.h"

namespace shardlab::sim::cluster {

class MergedAggregateCache {
 public:
  explicit MergedAggregateCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  // One replica's merged state for one query shape, being brought up to date for `parts`.
  class Update {
   public:
    // Whether part `index` of the parts given to begin() must be merged in.
    bool needs(size_t index) const { return rebuild_ || missing_[index]; }
    // Merges a part's partial state in. REQUIRES: needs(index) for its part.
    void add(const engine::Aggregator& part_state) { state_->merge(part_state); }

   private:
    friend class MergedAggregateCache;
    bool rebuild_ = true;
    std::vector<bool> missing_;
    engine::Aggregator* state_ = nullptr;
  };

  // Starts bringing the state of (`replica`, `fingerprint`) up to date with `parts`, the
  // replica's visible parts: add() each part that needs() it, then finish().
  // `empty` is a state with no groups yet, used when the state is (re)built.
  Update begin(size_t replica, const std::string& fingerprint,
               const std::vector<engine::PartPtr>& parts, engine::Aggregator empty);
  // Records that the state now covers `parts` and returns it.
  const engine::Aggregator& finish(size_t replica, const std::string& fingerprint,
                                   const std::vector<engine::PartPtr>& parts);

  uint64_t weight() const { return weight_; }
  size_t entries() const { return entries_.size(); }
  // States started again from empty because their kept parts could not be matched.
  uint64_t rebuilds() const { return rebuilds_; }

 private:
  // A part the state holds: its name's block range, its rows and its earliest TTL.
  struct Covered {
    engine::PartInfo info;
    uint64_t rows = 0;
    std::optional<int64_t> ttl_min;
  };
  using Key = std::pair<size_t, std::string>;
  struct Entry {
    std::vector<Covered> covered;  // sorted by partition, then first block
    std::optional<engine::Aggregator> state;
    uint64_t weight = 0;
    std::list<Key>::iterator lru;
  };
  // Which of `parts` the entry lacks, or nullopt if it cannot be brought up to date.
  static std::optional<std::vector<bool>> missing_parts(const std::vector<Covered>& covered,
                                                        const std::vector<engine::PartPtr>& parts);

  uint64_t capacity_;
  uint64_t weight_ = 0;
  uint64_t rebuilds_ = 0;
  std::map<Key, Entry> entries_;
  std::list<Key> lru_;  // most recent first
};

}  // namespace shardlab::sim::cluster
