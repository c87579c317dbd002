#include "sim/core/event_queue.h"

#include <bit>
#include <utility>

namespace shardlab::sim {

void EventQueue::reserve(size_t events) {
  live_bits_.reserve(events / 64 + 1);
  slot_seq_.reserve(events);
  free_slots_.reserve(events);
}

int EventQueue::bucket_of(Key key) const {
  const Key diff = key ^ last_;
  const auto high = static_cast<uint64_t>(diff >> 64);
  const auto low = static_cast<uint64_t>(diff);
  if (high != 0) return 128 - std::countl_zero(high);
  return low != 0 ? 64 - std::countl_zero(low) : 0;
}

void EventQueue::append_to_new_chunk(int bucket, const Entry& entry) {
  Chunk* head = buckets_[bucket];
  {
    Chunk* fresh = free_chunks_;
    if (fresh != nullptr) {
      free_chunks_ = fresh->next;
    } else {
      chunk_storage_.push_back(std::make_unique<Chunk>());
      fresh = chunk_storage_.back().get();
    }
    fresh->count = 0;
    fresh->next = head;
    buckets_[bucket] = head = fresh;
    nonempty_[bucket >> 6] |= uint64_t{1} << (bucket & 63);
  }
  head->entries[head->count++] = entry;
}

EventQueue::Chunk* EventQueue::take(int bucket) {
  nonempty_[bucket >> 6] &= ~(uint64_t{1} << (bucket & 63));
  return std::exchange(buckets_[bucket], nullptr);
}

void EventQueue::recycle(Chunk* chunks) {
  while (chunks != nullptr) {
    Chunk* next = chunks->next;
    chunks->next = free_chunks_;
    free_chunks_ = chunks;
    chunks = next;
  }
}

int EventQueue::lowest_bucket() const {
  for (int word = 0; word < 3; ++word) {
    if (nonempty_[word] != 0) return word * 64 + std::countr_zero(nonempty_[word]);
  }
  return -1;
}

EventId EventQueue::push(Time at, const EventFn& fn) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    SHARDLAB_ASSERT(slot_count_ < kMaxPending, "more than {} pending events", kMaxPending);
    slot = slot_count_++;
    slot_seq_.push_back(0);
    if (live_bits_.size() * 64 < slot_count_) live_bits_.push_back(0);
  }
  SHARDLAB_ASSERT(next_seq_ <= kMaxSequence, "event sequence numbers exhausted");
  const uint64_t seq = next_seq_++;
  Entry entry;
  entry.key = Key{static_cast<uint64_t>(at.ns())} << 64 | Key{seq << kSlotBits | slot};
  // The queue is monotone: nothing may be scheduled before the event last taken out.
  SHARDLAB_ASSERT(entry.key > last_, "event at {} ns is before the current event", at.ns());
  slot_seq_[slot] = seq;
  set_live(slot);
  ++live_;
  if (fn.size_ <= EventFn::kInlineCapacity) {
    entry.invoke = fn.invoke_;
    std::memcpy(entry.capture, fn.storage_, EventFn::kInlineCapacity);
  } else {
    entry.invoke = nullptr;
    if (large_fns_.size() <= slot) large_fns_.resize(slot_count_);
    large_fns_[slot] = fn;
  }
  append(bucket_of(entry.key), entry);
  ++entries_;
  return EventId{seq, slot};
}

void EventQueue::free_slot(uint32_t slot) {
  live_bits_[slot >> 6] &= ~(uint64_t{1} << (slot & 63));
  free_slots_.push_back(slot);
  --live_;
}

bool EventQueue::cancel(EventId id) {
  if (!id || id.slot >= slot_count_ || slot_seq_[id.slot] != id.seq ||
      ((live_bits_[id.slot >> 6] >> (id.slot & 63)) & 1) == 0) {
    return false;
  }
  free_slot(id.slot);
  // Dead entries wait in their buckets; filter them out once they are the majority.
  if (entries_ > 64 && entries_ > 2 * live_ + 32) compact();
  return true;
}

bool EventQueue::surface(Time limit) {
  for (;;) {
    const int bucket = lowest_bucket();
    if (bucket < 0) return false;
    Chunk* chunks = buckets_[bucket];
    if (bucket == 0) {
      // Holds only the last key: keys are unique.
      const Entry& top = chunks->entries[0];
      if (is_live(top)) return top.time_ns() <= limit.ns();
      recycle(take(0));
      --entries_;
      continue;
    }
    // The minimum live entry. A dead minimum must not become the last key, or an event could no
    // longer be scheduled between now and it (run_until() stops short of it).
    // Liveness is only looked up when some event was cancelled and is still in a bucket.
    const bool any_dead = entries_ != live_;
    const Entry* min = nullptr;
    for (const Chunk* c = chunks; c != nullptr; c = c->next) {
      for (uint32_t i = 0; i < c->count; ++i) {
        const Entry& e = c->entries[i];
        if ((min == nullptr || e.key < min->key) && (!any_dead || is_live(e))) min = &e;
      }
    }
    if (min != nullptr && min->time_ns() > limit.ns()) return false;
    // The minimum becomes the last key; every other live entry first differs from it at a
    // lower bit and moves to a lower bucket (the minimum itself to bucket 0). Dead entries go.
    if (min != nullptr) last_ = min->key;
    take(bucket);
    for (const Chunk* c = chunks; c != nullptr; c = c->next) {
      for (uint32_t i = 0; i < c->count; ++i) {
        const Entry& e = c->entries[i];
        if (!any_dead || is_live(e)) {
          append(bucket_of(e.key), e);
        } else {
          --entries_;
        }
      }
    }
    recycle(chunks);
  }
}

bool EventQueue::pop_until(Time limit, Time* at, EventFn* fn) {
  if (!surface(limit)) return false;
  Chunk* zero = take(0);
  const Entry top = zero->entries[0];
  recycle(zero);
  --entries_;
  *at = Time::from_ns(top.time_ns());
  if (top.invoke) {
    fn->invoke_ = top.invoke;
    std::memcpy(fn->storage_, top.capture, EventFn::kInlineCapacity);
    fn->size_ = EventFn::kInlineCapacity;
  } else {
    *fn = large_fns_[top.slot()];
  }
  free_slot(top.slot());
  return true;
}

Time EventQueue::next_time() {
  // Without moving anything: the first bucket holding a live entry holds the minimum.
  for (int bucket = 0; bucket < kBuckets; ++bucket) {
    int64_t best = -1;
    for (const Chunk* c = buckets_[bucket]; c != nullptr; c = c->next) {
      for (uint32_t i = 0; i < c->count; ++i) {
        const Entry& e = c->entries[i];
        if (is_live(e) && (best < 0 || e.time_ns() < best)) best = e.time_ns();
      }
    }
    if (best >= 0) return Time::from_ns(best);
  }
  return Time::max();
}

void EventQueue::compact() {
  // Relative to an unchanged last key every live entry stays in its bucket.
  for (int bucket = 0; bucket < kBuckets; ++bucket) {
    Chunk* chunks = take(bucket);
    for (const Chunk* c = chunks; c != nullptr; c = c->next) {
      for (uint32_t i = 0; i < c->count; ++i) {
        if (is_live(c->entries[i])) append(bucket, c->entries[i]);
      }
    }
    recycle(chunks);
  }
  entries_ = live_;
}

}  // namespace shardlab::sim
