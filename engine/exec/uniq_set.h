// The state of uniqExact: a set of 64-bit values (numbers by their bits, strings by a 64-bit
// hash) in one flat open-addressing array. A node-based std::unordered_set spends about 40 bytes
// and a pointer chase per value; here a value costs 8 to 16 bytes and merging two sets walks an
// array. Merging is what a distributed query over many parts does most (every part's partial
// state goes into the initiator's), so the difference decides how many rows a run can hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shardlab::engine {

class UniqSet {
 public:
  void insert(uint64_t value) {
    if (value == 0) {
      has_zero_ = true;  // 0 marks an empty slot, so it is kept aside
      return;
    }
    if ((stored_ + 1) * 2 > slots_.size()) grow();
    place(value);
  }

  void merge(const UniqSet& other) {
    has_zero_ = has_zero_ || other.has_zero_;
    if (other.stored_ == 0) return;
    // Room for both at once, so a merge into an empty or small set grows once.
    size_t capacity = slots_.empty() ? kMinCapacity : slots_.size();
    while ((stored_ + other.stored_) * 2 > capacity) capacity *= 2;
    if (capacity != slots_.size()) rehash(capacity);
    for (uint64_t value : other.slots_) {
      if (value != 0) place(value);
    }
  }

  size_t size() const { return stored_ + (has_zero_ ? 1 : 0); }
  size_t memory_bytes() const { return slots_.capacity() * sizeof(uint64_t); }

 private:
  static constexpr size_t kMinCapacity = 16;

  static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDULL;
    x ^= x >> 33;
    return x;
  }

  // REQUIRES: value != 0 and a free slot.
  void place(uint64_t value) {
    const size_t mask = slots_.size() - 1;
    for (size_t at = mix(value) & mask;; at = (at + 1) & mask) {
      if (slots_[at] == value) return;
      if (slots_[at] == 0) {
        slots_[at] = value;
        ++stored_;
        return;
      }
    }
  }

  void grow() { rehash(slots_.empty() ? kMinCapacity : slots_.size() * 2); }

  void rehash(size_t capacity) {
    std::vector<uint64_t> old(capacity, 0);
    old.swap(slots_);
    stored_ = 0;
    for (uint64_t value : old) {
      if (value != 0) place(value);
    }
  }

  std::vector<uint64_t> slots_;  // a power of two in size, at most half full
  size_t stored_ = 0;            // non-zero values in slots_
  bool has_zero_ = false;
};

}  // namespace shardlab::engine
