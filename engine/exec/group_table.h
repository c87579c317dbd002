// The general layout of an aggregation's groups: any keys, mapped to dense group numbers in
// first-seen order (the aggregate states are arrays indexed by them, AggregateStates).
//
// Keys are encoded into fixed-width byte strings: numbers and dates by their bytes, strings by
// an id from a per-column StringPool (LowCardinality keys pooled once per dictionary entry, not
// per row), so even multi-column keys hash and compare as short byte strings. Three tables
// find a key's group:
//   - one key with a small value space (pooled ids, 8/16-bit integers): a dense array indexed
//     by the value, in front of the general table;
//   - 8-byte keys, the common case of one UInt64 key: slots holding the key itself, in 32 bits
//     while every key seen fits (8 bytes a slot instead of 16), batches prefetched;
//   - anything else: slots of group numbers, the keys apart, hashed with XXH3.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "shardlab/engine/allocators.h"
#include "engine/exec/string_pool.h"
#include "shardlab/engine/column.h"

namespace shardlab::engine {

class GroupTable {
 public:
  // With no key types, the table holds its one group from the start, as a query without
  // GROUP BY has one group even without rows.
  explicit GroupTable(std::vector<DataType> key_types);

  const std::vector<DataType>& key_types() const { return key_types_; }
  size_t key_width() const { return key_width_; }
  size_t groups() const { return groups_; }

  // The group of each of `rows` rows into gid[row], new keys becoming new groups.
  // REQUIRES: keys[k] is a column of key_types()[k] with `rows` rows.
  void find_groups(const std::vector<const Column*>& keys, size_t rows, uint32_t* gid);
  // The group of `key`, a key of the counts-only layout (CountTable): the only key, a 4- or
  // 8-byte integer.
  uint32_t find_or_insert_counted(uint32_t key);
  // The group of this table that each of `other`'s groups maps to, inserting new ones.
  // Pooled string ids are translated through their strings. REQUIRES: equal key types.
  LargePageVector<uint32_t> map_groups(const GroupTable& other);
  // Makes room for `groups` groups of a single 8-byte integer key without rehashing. A hint.
  void reserve(size_t groups);
  // One column per key, one row per group (strings for string-like keys).
  std::vector<Column> key_columns() const;
  size_t memory_bytes() const;

 private:
  // 8-byte keys stored in their slot; group_plus_one 0: an empty slot.
  template <typename K>
  struct KeySlot {
    K key;
    uint32_t group_plus_one;
  };
  using Slot32 = KeySlot<uint32_t>;
  using Slot64 = KeySlot<uint64_t>;

  uint64_t hash(const uint8_t* key) const;
  void grow();
  uint32_t find_or_insert(const uint8_t* key);
  template <typename From, typename To>
  static void rehash(const LargePageVector<From>& from, LargePageVector<To>* to);
  template <typename Slot>
  static void grow_table(LargePageVector<Slot>* table);
  void widen_keys();
  template <typename Slot>
  uint32_t find_or_insert_in(LargePageVector<Slot>& table, uint64_t key, uint64_t hash);
  template <typename Slot>
  void find_or_insert_chunk(LargePageVector<Slot>& table, const uint64_t* batch, size_t count,
                            uint32_t* out);
  void find_or_insert_u64_batch(const uint64_t* batch, size_t count, uint32_t* out);
  // Encodes `rows` rows of `keys` into scratch_, key_width_ bytes a row.
  void encode_keys(const std::vector<const Column*>& keys, size_t rows);

  std::vector<DataType> key_types_;
  std::vector<size_t> key_offsets_;
  size_t key_width_ = 0;
  std::vector<StringPool> pools_;
  LargePageVector<uint8_t> keys_;    // groups x key_width
  LargePageVector<uint32_t> slots_;  // open addressing: group + 1, 0 when empty
  size_t groups_ = 0;
  // LowCardinality key columns: dictionary -> pooled ids, cached across blocks of one part.
  std::vector<std::shared_ptr<const Dictionary>> cached_dict_;
  std::vector<std::vector<uint32_t>> cached_ids_;
  PodVector<uint8_t> scratch_;
  LargePageVector<uint32_t> direct_;  // narrow single key -> group + 1 (0: not seen yet)
  LargePageVector<Slot32> slots32_;
  LargePageVector<Slot64> slots64_;
  bool wide_keys_ = false;  // slots64_ is the table, not slots32_
};

}  // namespace shardlab::engine
