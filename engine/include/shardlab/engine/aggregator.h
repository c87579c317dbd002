// Hash aggregation with mergeable partial states.
//
// Group keys are encoded into fixed-width byte strings: numbers and dates by their bytes,
// strings by an id from a per-aggregator string pool, so even multi-column keys hash and
// compare as short byte strings. LowCardinality keys are pooled once per dictionary entry,
// not per row. Partial aggregators (one per part or thread, later one per shard) merge into
// one; merge() translates pooled ids, so partials never share mutable state.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "shardlab/engine/expression.h"
#include "shardlab/engine/column.h"

namespace shardlab::engine {

enum class AggregateKind : uint8_t { kCount, kSum, kAvg, kMin, kMax, kUniqExact };

struct AggregateSpec {
  AggregateKind kind = AggregateKind::kCount;
  ExprNodePtr arg;  // null for count()
  DataType result_type;
  std::string text;
};

// The type an aggregate returns, as ClickHouse types it.
DataType aggregate_result_type(AggregateKind kind, DataType arg);

class Aggregator {
 public:
  Aggregator(std::vector<DataType> key_types, std::vector<AggregateSpec> aggregates);
  ~Aggregator();
  Aggregator(Aggregator&&) noexcept;
  Aggregator& operator=(Aggregator&&) noexcept;
  // A deep copy: cheaper than merging into an empty aggregator (no hashing).
  Aggregator(const Aggregator& other);

  // Adds `rows` rows: keys[k] and args[a] are the evaluated key and argument columns (args[a]
  // is unused for count()).
  void add(const std::vector<const Column*>& keys, const std::vector<const Column*>& args,
           size_t rows);
  void merge(const Aggregator& other);
  // Makes room for `groups` groups in all, so that reaching them costs no rehash. A hint.
  void reserve(size_t groups);
  // Expects `scale` times the rows added so far in all: reserves the groups that extrapolates
  // to, where growing to them would cost rehashing. A hint.
  void expect_rows(double scale);
  // finish() of this aggregator with `others` merged in: what a distributed query's initiator
  // does with the shards' partial states. Faster than merge() then finish() when uniqExact
  // states are large, because their union is counted without being built; this aggregator is
  // consumed. `threads` may share the work (the count()-only layout uses them).
  std::vector<Column> merge_and_finish(std::span<const Aggregator* const> others,
                                       unsigned threads = 1) &&;
  size_t groups() const;
  // The memory the state holds (keys, slots, aggregate states), for caches that bound it.
  size_t memory_bytes() const;
  // Key columns then aggregate columns, one row per group, in first-seen order (slot order
  // for the count()-only layout of one integer key, see count_table.h). A query with
  // no GROUP BY has exactly one group even without input rows, as in ClickHouse.
  std::vector<Column> finish() const;

 private:
  struct State;
  // The state with any rows add() set aside counted into its groups. Const methods call it
  // too: it changes no answer, but it is why no method, const or not, may run on one
  // Aggregator from two threads at once.
  State& settled() const;

  std::unique_ptr<State> state_;
};

}  // namespace shardlab::engine
