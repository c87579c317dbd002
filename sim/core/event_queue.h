// The pending-event set of the kernel: events ordered by (time, sequence number), where the
// sequence number counts schedule() calls. Two events at the same instant therefore run in the
// order they were scheduled, whatever the heap layout, and a run is reproducible for a seed.
//
// Layout, chosen by bench_sim (see bench/README.md):
//  * a 4-ary implicit heap of 16-byte entries {time, seq << 24 | slot}. Four children share a
//    64-byte cache line, so a sift-down touches one line per level and the heap is half as deep
//    as a binary one. Because the sequence number sits in the high bits, comparing the packed
//    word compares sequence numbers: the order is total with no tie left to chance.
//  * the callbacks live in a slot array beside the heap, so the heap moves 16 bytes per swap, not
//    the 40-byte callback. Slots are recycled through a free list: no allocation per event once
//    the arrays have grown to the peak number of pending events.
//  * cancel() is O(1): it frees the slot and leaves the heap entry behind. An entry whose slot no
//    longer carries its sequence number is dead and skipped when it reaches the top. When dead
//    entries outnumber live ones the heap is rebuilt without them, so memory and depth stay
//    bounded by the live events.
#pragma once

#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <vector>

#include "engine/common/errors.h"
#include "sim/core/time.h"

namespace shardlab::sim {

// A callable stored in place: up to kCapacity bytes of trivially copyable captures (pointers,
// indices, small values). Events never allocate for their callback.
class EventFn {
 public:
  static constexpr size_t kCapacity = 24;

  EventFn() = default;
  template <typename F>
    requires(!std::is_same_v<std::decay_t<F>, EventFn>)
  EventFn(F fn) {  // NOLINT: implicit on purpose, schedule() takes lambdas
    static_assert(sizeof(F) <= kCapacity, "event callback captures more than 24 bytes");
    static_assert(std::is_trivially_copyable_v<F> && std::is_trivially_destructible_v<F>,
                  "event callbacks capture only trivially copyable values");
    static_assert(alignof(F) <= alignof(std::max_align_t));
    std::memcpy(storage_, &fn, sizeof(F));
    // memcpy into the buffer implicitly creates the (trivially copyable) callable there.
    invoke_ = [](const unsigned char* storage) {
      (*std::launder(reinterpret_cast<const F*>(storage)))();
    };
  }
  void operator()() const { invoke_(storage_); }
  explicit operator bool() const { return invoke_ != nullptr; }

 private:
  void (*invoke_)(const unsigned char*) = nullptr;
  alignas(8) unsigned char storage_[kCapacity];
};

// Names one scheduled event, for cancel(). Stale ids (the event ran or was cancelled) are
// harmless: cancel() recognises them.
struct EventId {
  uint64_t seq = 0;  // 0: no event
  uint32_t slot = 0;
  explicit operator bool() const { return seq != 0; }
};

class EventQueue {
 public:
  static constexpr int kSlotBits = 24;
  static constexpr uint32_t kMaxPending = (uint32_t{1} << kSlotBits) - 1;
  static constexpr uint64_t kMaxSequence = (uint64_t{1} << (64 - kSlotBits)) - 1;

  EventId push(Time at, EventFn fn);
  // True if the event was pending (and is now cancelled).
  bool cancel(EventId id);

  // Removes the earliest live event if its time is <= limit and moves it into *at / *fn.
  bool pop_until(Time limit, Time* at, EventFn* fn);
  // The time of the earliest live event, or Time::max() when none is pending.
  Time next_time();

  size_t pending() const { return live_; }
  void reserve(size_t events);

 private:
  // The whole order in one unsigned 128-bit key, time (never negative) in the high half and
  // seq << kSlotBits | slot in the low half: one branch-free comparison instead of two branches.
  __extension__ using Key = unsigned __int128;
  struct Entry {
    Key key;
    int64_t time_ns() const { return static_cast<int64_t>(key >> 64); }
    uint64_t seq_slot() const { return static_cast<uint64_t>(key); }
    bool operator<(const Entry& o) const { return key < o.key; }
  };
  struct Slot {
    uint64_t seq = 0;  // the sequence number of the event that owns the slot; 0 when free
    EventFn fn;
  };

  void sift_up(size_t hole, Entry entry);
  void sift_down(size_t hole, Entry entry);
  // Removes the root: walks the hole down to a leaf along the smallest children, then sifts the
  // last entry up from there (it usually belongs near the bottom, so this saves a comparison
  // per level against a plain sift-down).
  void pop_root();
  bool top_is_live() const {
    const uint64_t packed = heap_[kRoot].seq_slot();
    return slots_[packed & kMaxPending].seq == packed >> kSlotBits;
  }
  void drop_dead_top();
  void compact();

  // 64-byte aligned, with the root at index kRoot = 3, so that the four children of a node
  // (4i - 8 .. 4i - 5) fill exactly one cache line. Indices 0..2 are padding.
  template <typename T>
  struct CacheLineAllocator {
    using value_type = T;
    CacheLineAllocator() = default;
    template <typename U>
    CacheLineAllocator(const CacheLineAllocator<U>&) {}  // NOLINT: rebinding
    T* allocate(size_t n) {
      return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64}));
    }
    void deallocate(T* p, size_t) noexcept { ::operator delete(p, std::align_val_t{64}); }
    bool operator==(const CacheLineAllocator&) const { return true; }
  };
  static constexpr size_t kRoot = 3;
  static size_t first_child(size_t i) { return 4 * i - 8; }
  static size_t parent_of(size_t i) { return i / 4 + 2; }
  bool heap_empty() const { return heap_.size() == kRoot; }

  std::vector<Entry, CacheLineAllocator<Entry>> heap_ = std::vector<Entry, CacheLineAllocator<Entry>>(kRoot);
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  uint64_t next_seq_ = 1;
  size_t live_ = 0;
};

}  // namespace shardlab::sim
