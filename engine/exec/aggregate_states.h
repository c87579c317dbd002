// The states of an aggregation's aggregate functions, one array per state field indexed by
// group number (GroupTable's), so that count() and sum() update and merge as plain loops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "shardlab/engine/allocators.h"
#include "shardlab/engine/aggregator.h"
#include "engine/exec/uniq_set.h"
#include "shardlab/engine/column.h"

namespace shardlab::engine {

class AggregateStates {
 public:
  explicit AggregateStates(std::vector<AggregateSpec> specs)
      : specs_(std::move(specs)), states_(specs_.size()) {}

  const std::vector<AggregateSpec>& specs() const { return specs_; }
  size_t groups() const { return groups_; }

  // Adds empty states for new groups, up to `groups` groups.
  void grow_to(size_t groups);
  // Adds `rows` values of aggregate `a`'s argument (`arg`, null for count()) to the groups
  // gid[row]. `one_group`: a query without GROUP BY, whose gid may be left unset for count(),
  // sum() and avg().
  void update(size_t a, const Column* arg, size_t rows, const uint32_t* gid, bool one_group);
  // Sets every count() state of group `g` to `count`.
  void set_counts(uint32_t g, uint64_t count);
  // Merges every group og of `other` into group target[og], for aggregate `a`.
  void merge(const AggregateStates& other, const uint32_t* target, size_t a);
  // Merges group `og` of `other` into group `g`, for aggregate `a`.
  void merge_group(size_t a, uint32_t g, const AggregateStates& other, size_t og);
  // The uniqExact set of aggregate `a` in group `g`.
  const UniqSet& set(size_t a, uint32_t g) const { return states_[a].sets[g]; }
  // Appends one result column per aggregate, one row per group.
  void append_columns(std::vector<Column>* out) const;
  size_t memory_bytes() const;

 private:
  struct State {
    LargePageVector<uint64_t> count;
    LargePageVector<uint64_t> bits;  // integer sums (wrapping) or min/max order bits
    LargePageVector<double> sum_f;
    LargePageVector<uint8_t> has;
    std::vector<std::string> strings;
    std::vector<UniqSet> sets;
  };

  void add_group();
  void update_sum(State& s, const Column* arg, size_t rows, const uint32_t* gid, bool one_group);
  void update_min_max(State& s, bool is_min, const Column* arg, size_t rows, const uint32_t* gid);
  void update_uniq(State& s, const Column* arg, size_t rows, const uint32_t* gid);
  Column result_column(size_t a) const;

  std::vector<AggregateSpec> specs_;
  std::vector<State> states_;
  size_t groups_ = 0;
};

}  // namespace shardlab::engine
