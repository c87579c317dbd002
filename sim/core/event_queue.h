// The pending-event set of the kernel: events ordered by (time, sequence number), where the
// sequence number counts schedule() calls. Two events at the same instant therefore run in the
// order they were scheduled, whatever the data structure, and a run is reproducible for a seed.
//
// Structure, chosen with bench_sim against binary and 4-ary heaps (see bench/README.md): a
// radix heap over 128-bit keys {time << 64 | seq << 24 | slot}. A discrete-event queue is
// monotone: no event is ever scheduled before the last one taken out, and the sequence number
// makes every key unique and larger than the last key taken. Bucket b holds the events whose key
// first differs from that last key at bit b - 1, so buckets are ordered ranges of keys. Taking
// the minimum scans the lowest non-empty bucket and redistributes it into lower buckets; an event
// only ever moves down, at most once per bit, and every move is a sequential append. There is
// no pointer chasing and no random access into a large array, which is what makes heaps slow at
// a million pending events.
//
// Entries are 32 bytes: the key and the callback itself when its captures fit in 8 bytes (a
// pointer: the common case for timers and models); larger callbacks (up to 24 bytes) wait in a
// side array by slot. Liveness is one bit per slot; slots are recycled through a free list, so
// the bitmap stays as small as the peak number of pending events. cancel() is O(1): it clears the
// bit, and the dead entry is dropped when it surfaces, or when dead entries outnumber live ones
// and every bucket is filtered. No allocation per event once the buckets have reached their
// peak sizes.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#include "base/errors.h"
#include "sim/core/time.h"

namespace shardlab::sim {

// A callable stored in place: up to kCapacity bytes of trivially copyable captures (pointers,
// indices, small values). Events never allocate for their callback.
class EventFn {
 public:
  static constexpr size_t kCapacity = 24;
  static constexpr size_t kInlineCapacity = 8;  // what travels inside a heap entry
  using Invoke = void (*)(const unsigned char*);

  EventFn() = default;
  template <typename F>
    requires(!std::is_same_v<std::decay_t<F>, EventFn>)
  EventFn(F fn) {  // NOLINT: implicit on purpose, schedule() takes lambdas
    static_assert(sizeof(F) <= kCapacity, "event callback captures more than 24 bytes");
    static_assert(std::is_trivially_copyable_v<F> && std::is_trivially_destructible_v<F>,
                  "event callbacks capture only trivially copyable values");
    static_assert(alignof(F) <= 8);
    std::memcpy(storage_, &fn, sizeof(F));
    // memcpy into the buffer implicitly creates the (trivially copyable) callable there.
    invoke_ = [](const unsigned char* storage) {
      (*std::launder(reinterpret_cast<const F*>(storage)))();
    };
    size_ = sizeof(F);
  }
  void operator()() const { invoke_(storage_); }
  explicit operator bool() const { return invoke_ != nullptr; }

 private:
  friend class EventQueue;
  Invoke invoke_ = nullptr;
  alignas(8) unsigned char storage_[kCapacity];
  uint8_t size_ = 0;
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

  EventId push(Time at, const EventFn& fn);
  // True if the event was pending (and is now cancelled).
  bool cancel(EventId id);

  // Removes the earliest live event if its time is <= limit and runs it, with now() already set
  // through `*at` by the caller's hook: the callback may schedule and cancel freely.
  bool pop_until(Time limit, Time* at, EventFn* fn);
  // The time of the earliest live event, or Time::max() when none is pending.
  Time next_time();

  size_t pending() const { return live_; }
  void reserve(size_t events);

 private:
  __extension__ using Key = unsigned __int128;
  struct Entry {
    Key key;                   // time << 64 | seq << kSlotBits | slot
    EventFn::Invoke invoke;    // null: the callback waits in large_fns_[slot]
    unsigned char capture[8];  // an inline callback's captures
    int64_t time_ns() const { return static_cast<int64_t>(key >> 64); }
    uint64_t seq() const { return static_cast<uint64_t>(key) >> kSlotBits; }
    uint32_t slot() const { return static_cast<uint32_t>(key) & kMaxPending; }
  };
  static constexpr int kBuckets = 129;  // 0: equal to the last key; b: first differs at bit b-1

  // Buckets are lists of fixed-size chunks from one shared pool, not vectors: which bucket an
  // event lands in depends on the last key, so over a long run every bucket at some point holds
  // most pending events. Vectors would each keep that peak capacity; chunks go back to the pool
  // when a bucket is redistributed, so memory follows the number of pending events.
  static constexpr uint32_t kChunkEntries = 64;  // 2 KiB of entries
  struct Chunk {
    Entry entries[kChunkEntries];
    uint32_t count = 0;
    Chunk* next = nullptr;
  };

  int bucket_of(Key key) const;
  // The lowest non-empty bucket, or -1.
  int lowest_bucket() const;
  void append(int bucket, const Entry& entry) {
    Chunk* head = buckets_[bucket];
    if (head != nullptr && head->count < kChunkEntries) {
      head->entries[head->count++] = entry;
      return;
    }
    append_to_new_chunk(bucket, entry);
  }
  void append_to_new_chunk(int bucket, const Entry& entry);
  // Detaches a bucket's chunks (the caller walks them, then gives them back with recycle()).
  Chunk* take(int bucket);
  void recycle(Chunk* chunks);
  bool is_live(const Entry& e) const {
    const uint32_t slot = e.slot();
    return ((live_bits_[slot >> 6] >> (slot & 63)) & 1) != 0 && slot_seq_[slot] == e.seq();
  }
  void set_live(uint32_t slot) { live_bits_[slot >> 6] |= uint64_t{1} << (slot & 63); }
  void free_slot(uint32_t slot);
  // Moves the minimum live event of the lowest non-empty bucket into bucket 0 (making it the
  // last key) if its time is <= limit. False if nothing is pending or the minimum lies beyond
  // the limit.
  bool surface(Time limit);
  void compact();

  Chunk* buckets_[kBuckets] = {};
  uint64_t nonempty_[3] = {0, 0, 0};
  Key last_ = 0;        // the key last moved to bucket 0
  size_t entries_ = 0;  // live and dead entries in the buckets
  std::vector<std::unique_ptr<Chunk>> chunk_storage_;
  Chunk* free_chunks_ = nullptr;
  std::vector<uint64_t> live_bits_;  // one bit per slot
  std::vector<uint64_t> slot_seq_;   // the sequence number that owns each slot
  std::vector<EventFn> large_fns_;   // callbacks too large for an entry, by slot
  std::vector<uint32_t> free_slots_;
  uint32_t slot_count_ = 0;
  uint64_t next_seq_ = 1;
  size_t live_ = 0;
};

}  // namespace shardlab::sim
