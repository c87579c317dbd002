// One bucket's groups while the counting layout counts its set-aside keys bucket by bucket
// (CountTable::count_in_buckets): slots placed by the hash bits below the bucket's, grown as
// groups arrive. Reused from bucket to bucket, so it stays in cache and costs no fresh memory.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "shardlab/engine/allocators.h"
#include "engine/exec/key_buckets.h"
#include "engine/exec/key_hash.h"

namespace shardlab::engine {

// A group of the counting layout: its key and its count (0: an empty slot).
struct CountSlot {
  uint32_t key;
  uint32_t count;
};

class BucketCounter {
 public:
  // Empties the table, sized for about `expected` groups.
  void reset(size_t expected) {
    used_ = std::bit_ceil(std::max<size_t>(kMinSlots, expected * 2));
    if (slots_.size() < used_) slots_.resize(used_);
    std::fill_n(slots_.data(), used_, CountSlot{0, 0});
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(used_));
    groups_ = 0;
  }
  void add(uint32_t key, uint32_t count) {
    if ((groups_ + 1) * 2 > used_) grow();
    place(key, count);
  }
  size_t groups() const { return groups_; }
  // Appends the groups to `out`, in slot order.
  void append_to(PodVector<CountSlot>* out) const {
    const size_t at = out->size();
    out->resize(at + groups_ + 1);  // one slot of slack for the branch-free compaction
    CountSlot* into = out->data() + at;
    size_t g = 0;
    for (size_t idx = 0; idx < used_; ++idx) {
      into[g] = slots_[idx];
      g += slots_[idx].count != 0;
    }
    out->resize(at + groups_);
  }

 private:
  static constexpr size_t kMinSlots = 256;  // keeps shift_ below 64 - kBucketBits

  void place(uint32_t key, uint32_t count) {
    const size_t mask = used_ - 1;
    for (size_t at = (mix64(key) << KeyBuckets::kBucketBits) >> shift_;; at = (at + 1) & mask) {
      CountSlot& slot = slots_[at];
      if (slot.count == 0) {
        slot = CountSlot{key, count};
        ++groups_;
        return;
      }
      if (slot.key == key) {
        slot.count += count;
        return;
      }
    }
  }
  void grow() {
    const size_t old_used = used_;
    if (spare_.size() < old_used) spare_.resize(old_used);
    std::copy_n(slots_.data(), old_used, spare_.data());
    reset(old_used);
    for (size_t idx = 0; idx < old_used; ++idx)
      if (spare_[idx].count != 0) place(spare_[idx].key, spare_[idx].count);
  }

  PodVector<CountSlot> slots_, spare_;
  size_t used_ = 0;  // slots in use: a power of two
  unsigned shift_ = 0;
  size_t groups_ = 0;
};

}  // namespace shardlab::engine
