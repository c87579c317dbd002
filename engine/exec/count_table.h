// The counts-only layout of an aggregation: count() alone, on one 4- or 8-byte integer key
// (GROUP BY user_id ... count()), while every key fits in 32 bits and fewer than 2^32 rows
// have been counted. Each slot holds its key and its count, so a row costs one probe of one
// cache line, and a group costs 8 bytes at the table's load instead of a slot, a key and a
// count apart (a third of the memory, which a fresh process pays for page by page). Groups
// come out in slot order. The first key or count that does not fit moves the groups to the
// general layout (GroupTable) for good: the Aggregator does that with take_slots().
//
// Deferred counting. Once the table holds kDeferGroups groups, its growth costs fresh pages
// and soon it no longer fits in L2, where a probe per row is a cache miss. count() then sets
// keys aside in KeyBuckets, by the top bits of their hash, and they are counted later bucket
// by bucket, each bucket in a small table that stays in cache (count_in_buckets):
// finish_in_buckets() writes those counts out directly, without building the big table;
// anything else that needs the groups rebuilds the table from them (settle_pending).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "shardlab/engine/allocators.h"
#include "shardlab/engine/aggregator.h"
#include "engine/exec/bucket_counter.h"
#include "engine/exec/key_buckets.h"
#include "shardlab/engine/column.h"

namespace shardlab::engine {

class CountTable {
 public:
  // A table of groups past this many sets keys aside instead of growing.
  static constexpr size_t kDeferGroups = size_t{1} << 12;

  // `count_columns`: how many count() columns finish() writes (the query may repeat count()).
  CountTable(DataType key_type, size_t count_columns)
      : key_type_(key_type), count_columns_(count_columns) {}

  // Whether an aggregation of these keys and aggregates starts in this layout.
  static bool applies(const std::vector<DataType>& key_types,
                      const std::vector<AggregateSpec>& specs);

  size_t groups() const { return groups_; }
  uint64_t rows_counted() const { return rows_counted_; }
  bool deferring() const { return groups_ >= kDeferGroups || !pending_.empty(); }
  // Whether set-aside keys hold memory, even if none is waiting (see settle_pending()).
  bool holds_pending() const { return pending_.memory_bytes() != 0; }

  // Counts `rows` keys, each below 2^32. REQUIRES: rows_counted() + rows < 2^32.
  void count(const uint32_t* keys, size_t rows);
  void count(const uint64_t* keys, size_t rows);
  // Adds the set-aside keys to the groups; `release` frees their memory instead of keeping it
  // for more keys.
  void settle_pending(bool release);
  // Makes room for `more` new groups without growing.
  void reserve(size_t more);
  // Adds `other`'s groups. REQUIRES: the rows counted by both together fewer than 2^32.
  void merge(const CountTable& other);
  // The key column, then the counts once per count() column; groups in slot order.
  std::vector<Column> finish() const;
  // finish() of `tables` merged, for many groups or set-aside keys: the groups counted bucket
  // by bucket, in bucket order, on up to `threads` threads. No table of all the groups is
  // built and no table is merged into another. REQUIRES: the rows counted by all of them
  // together fewer than 2^32.
  static std::vector<Column> finish_in_buckets(std::span<const CountTable* const> tables,
                                               unsigned threads);
  // The groups, set-aside keys settled, in slot order (count 0: an empty slot); the table is
  // left empty, its memory released.
  LargePageVector<CountSlot> take_slots();
  size_t memory_bytes() const;

 private:
  // A state settles its set-aside keys past this many: what bounds their memory (32 MiB).
  static constexpr size_t kMaxPendingKeys = size_t{1} << 23;

  static size_t bucket_of(uint64_t hash) { return hash >> (64 - KeyBuckets::kBucketBits); }
  // A key's first slot comes from the top bits of its hash, so slots run in hash order (but
  // for a cluster wrapping past the end). Growing the table or merging another one into it
  // then visits the target's slots in ascending order: a stream, not a cache miss per group.
  static unsigned home_shift(size_t table_size);
  // Adds `count` to `key`'s slot of `table`, which has an empty slot; true if it was empty.
  static bool add_count(LargePageVector<CountSlot>& table, uint32_t key, uint32_t count);
  static std::vector<PodVector<CountSlot>> count_in_buckets(
      std::span<const CountTable* const> tables, unsigned threads);

  template <typename K>
  void count_keys(const K* keys, size_t rows);
  std::vector<Column> count_columns(Column keys, Column counts) const;
  void add_region_to(size_t bucket, BucketCounter* counter) const;

  DataType key_type_;
  size_t count_columns_;
  LargePageVector<CountSlot> slots_;
  size_t groups_ = 0;
  uint64_t rows_counted_ = 0;  // bounds every count in `slots_`
  KeyBuckets pending_;
};

}  // namespace shardlab::engine
