// The state of uniqExact: a set of 64-bit values (numbers by their bits, strings by a 64-bit
// hash) in flat open-addressing arrays. A node-based std::unordered_set spends about 40 bytes
// and a pointer chase per value; here a value costs 8 to 16 bytes and merging two sets walks an
// array. Merging is what a distributed query over many parts does most (every part's partial
// state goes into the initiator's), so the difference decides how many rows a run can hold.
//
// A set stores each value through a bijective mix (so it counts the same values) and keeps the
// mixed form, which is already the slot hash: merging and growing never hash again. A small set
// is one array. Past kSplitAt values it becomes 256 arrays chosen by the mix's top byte, like
// ClickHouse's two-level hash tables: merging large sets then goes array by array, each about
// 1 MiB at ten million values, where one array of 256 MiB takes a cache miss per value
// (figures in bench/README.md, BM_UniqSetMergeShards).
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace shardlab::engine {

class UniqSet {
 public:
  void insert(uint64_t value) {
    const uint64_t key = mix(value);
    if (key == 0) {
      has_zero_ = true;  // 0 marks an empty slot (and only 0 mixes to 0), so it is kept aside
      return;
    }
    if (buckets_.empty()) {
      flat_.insert(key);
      if (flat_.stored > kSplitAt) split();
    } else {
      buckets_[key >> kBucketShift].insert(key);
    }
  }

  void merge(const UniqSet& other) {
    const UniqSet* one[] = {&other};
    merge_all(one);
  }

  // Merges several sets at once: each array grows once, to its final size, instead of once per
  // merge as a chain of merge() calls would, and a large set's arrays take their share of every
  // input while in cache.
  void merge_all(std::span<const UniqSet* const> others) {
    size_t incoming = 0;
    bool any_split = false;
    for (const UniqSet* other : others) {
      has_zero_ = has_zero_ || other->has_zero_;
      incoming += other->size_without_zero();
      any_split = any_split || !other->buckets_.empty();
    }
    if (incoming == 0) return;
    if (buckets_.empty() && (any_split || flat_.stored + incoming > kSplitAt)) split();
    if (buckets_.empty()) {
      flat_.reserve(flat_.stored + incoming);
      for (const UniqSet* other : others) flat_.insert_all(other->flat_);
      return;
    }
    // Small inputs are one array each, spread over every bucket: placed value by value.
    for (const UniqSet* other : others)
      for (uint64_t key : other->flat_.slots)
        if (key != 0) buckets_[key >> kBucketShift].insert(key);
    for (size_t b = 0; b < kBuckets; ++b) {
      size_t bucket_incoming = 0;
      for (const UniqSet* other : others)
        if (!other->buckets_.empty()) bucket_incoming += other->buckets_[b].stored;
      if (bucket_incoming == 0) continue;
      buckets_[b].reserve(buckets_[b].stored + bucket_incoming);
      for (const UniqSet* other : others)
        if (!other->buckets_.empty()) buckets_[b].insert_all(other->buckets_[b]);
    }
  }

  // Whether the set has split into buckets (more than kSplitAt values).
  bool is_large() const { return !buckets_.empty(); }

  // The number of distinct values in the union of `sets`, counted one bucket at a time in a
  // table that is reused and stays in cache, without building the union.
  static size_t union_size(std::span<const UniqSet* const> sets) {
    bool zero = false;
    // The small sets' values, regrouped by bucket (a counting sort on the top byte).
    std::vector<size_t> flat_begin(kBuckets + 1, 0);
    for (const UniqSet* set : sets) {
      zero = zero || set->has_zero_;
      for (uint64_t key : set->flat_.slots)
        if (key != 0) ++flat_begin[(key >> kBucketShift) + 1];
    }
    for (size_t b = 0; b < kBuckets; ++b) flat_begin[b + 1] += flat_begin[b];
    std::vector<uint64_t> flat_keys(flat_begin[kBuckets]);
    std::vector<size_t> fill(flat_begin.begin(), flat_begin.end() - 1);
    for (const UniqSet* set : sets)
      for (uint64_t key : set->flat_.slots)
        if (key != 0) flat_keys[fill[key >> kBucketShift]++] = key;

    Table scratch;
    size_t total = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      size_t most = flat_begin[b + 1] - flat_begin[b];
      for (const UniqSet* set : sets)
        if (set->is_large()) most += set->buckets_[b].stored;
      if (most == 0) continue;
      scratch.clear_for(most);
      for (size_t at = flat_begin[b]; at < flat_begin[b + 1]; ++at) scratch.place(flat_keys[at]);
      for (const UniqSet* set : sets)
        if (set->is_large()) scratch.insert_all(set->buckets_[b]);
      total += scratch.stored;
    }
    return total + (zero ? 1 : 0);
  }

  size_t size() const { return size_without_zero() + (has_zero_ ? 1 : 0); }
  size_t memory_bytes() const {
    size_t bytes = flat_.slots.capacity() * sizeof(uint64_t);
    for (const Table& bucket : buckets_) bytes += bucket.slots.capacity() * sizeof(uint64_t);
    return bytes;
  }

 private:
  static constexpr size_t kMinCapacity = 16;
  static constexpr size_t kSplitAt = size_t{1} << 16;
  static constexpr int kBucketBits = 8;
  static constexpr size_t kBuckets = size_t{1} << kBucketBits;
  static constexpr int kBucketShift = 64 - kBucketBits;

  // Invertible (xor-shift, odd multiply, xor-shift), so distinct values stay distinct, and
  // 0 -> 0. One multiply is enough to fill the top byte; dense ids (user_id) then also spread
  // over the low bits with few collisions.
  static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDULL;
    x ^= x >> 33;
    return x;
  }

  // One open-addressing array of mixed keys, a power of two in size and at most half full;
  // a key's home slot is its low bits (the bucket takes the top ones).
  struct Table {
    std::vector<uint64_t> slots;
    size_t stored = 0;

    // REQUIRES: key != 0.
    void insert(uint64_t key) {
      if ((stored + 1) * 2 > slots.size()) rehash(slots.empty() ? kMinCapacity : slots.size() * 2);
      place(key);
    }
    void insert_all(const Table& other) {
      for (uint64_t key : other.slots)
        if (key != 0) place(key);
    }
    void reserve(size_t keys) {
      size_t capacity = slots.empty() ? kMinCapacity : slots.size();
      while (keys * 2 > capacity) capacity *= 2;
      if (capacity != slots.size()) rehash(capacity);
    }
    // Empties the table and sizes it for `keys` keys, keeping the allocation when it is large
    // enough.
    void clear_for(size_t keys) {
      size_t capacity = kMinCapacity;
      while (keys * 2 > capacity) capacity *= 2;
      if (slots.capacity() >= capacity) {
        slots.resize(capacity);
        std::fill(slots.begin(), slots.end(), 0);
      } else {
        slots.assign(capacity, 0);
      }
      stored = 0;
    }
    // REQUIRES: key != 0 and a free slot.
    void place(uint64_t key) {
      const size_t mask = slots.size() - 1;
      for (size_t at = key & mask;; at = (at + 1) & mask) {
        if (slots[at] == key) return;
        if (slots[at] == 0) {
          slots[at] = key;
          ++stored;
          return;
        }
      }
    }
    void rehash(size_t capacity) {
      std::vector<uint64_t> old(capacity, 0);
      old.swap(slots);
      stored = 0;
      for (uint64_t key : old)
        if (key != 0) place(key);
    }
  };

  size_t size_without_zero() const {
    size_t stored = flat_.stored;
    for (const Table& bucket : buckets_) stored += bucket.stored;
    return stored;
  }

  // The one array becomes kBuckets arrays, each sized for its share.
  void split() {
    buckets_.resize(kBuckets);
    const size_t share = flat_.stored / kBuckets + 1;
    for (Table& bucket : buckets_) bucket.reserve(share + share / 4);
    for (uint64_t key : flat_.slots)
      if (key != 0) buckets_[key >> kBucketShift].insert(key);
    flat_ = Table();
  }

  Table flat_;                  // every value while buckets_ is empty
  std::vector<Table> buckets_;  // empty, or kBuckets arrays chosen by the key's top bits
  bool has_zero_ = false;
};

}  // namespace shardlab::engine
