#include "sim/core/event_queue.h"

#include <algorithm>

namespace shardlab::sim {

void EventQueue::reserve(size_t events) {
  heap_.reserve(events + kRoot);
  slots_.reserve(events);
  free_slots_.reserve(events);
}

EventId EventQueue::push(Time at, EventFn fn) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    SHARDLAB_ASSERT(slots_.size() < kMaxPending, "more than {} pending events", kMaxPending);
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  SHARDLAB_ASSERT(next_seq_ <= kMaxSequence, "event sequence numbers exhausted");
  SHARDLAB_ASSERT(at.ns() >= 0, "event at negative time {} ns", at.ns());
  const uint64_t seq = next_seq_++;
  slots_[slot].seq = seq;
  slots_[slot].fn = fn;
  ++live_;
  heap_.emplace_back();
  sift_up(heap_.size() - 1,
          Entry{Key{static_cast<uint64_t>(at.ns())} << 64 | seq << kSlotBits | slot});
  return EventId{seq, slot};
}

bool EventQueue::cancel(EventId id) {
  if (!id || id.slot >= slots_.size() || slots_[id.slot].seq != id.seq) return false;
  slots_[id.slot].seq = 0;
  free_slots_.push_back(id.slot);
  --live_;
  // Dead entries stay in the heap until they surface; rebuild once they are the majority.
  const size_t entries = heap_.size() - kRoot;
  if (entries > 64 && entries > 2 * live_ + 32) compact();
  return true;
}

void EventQueue::sift_up(size_t hole, Entry entry) {
  while (hole > kRoot) {
    const size_t parent = parent_of(hole);
    if (!(entry < heap_[parent])) break;
    heap_[hole] = heap_[parent];
    hole = parent;
  }
  heap_[hole] = entry;
}

void EventQueue::sift_down(size_t hole, Entry entry) {
  const size_t size = heap_.size();
  for (;;) {
    const size_t first = first_child(hole);
    if (first >= size) break;
    size_t best = first;
    const size_t last = std::min(first + 4, size);
    for (size_t child = first + 1; child < last; ++child) {
      if (heap_[child] < heap_[best]) best = child;
    }
    if (!(heap_[best] < entry)) break;
    heap_[hole] = heap_[best];
    hole = best;
  }
  heap_[hole] = entry;
}

void EventQueue::pop_root() {
  const Entry last = heap_.back();
  heap_.pop_back();
  const size_t size = heap_.size();
  if (size == kRoot) return;
  size_t hole = kRoot;
  for (;;) {
    const size_t first = first_child(hole);
    if (first + 4 <= size) {
      // A full cache line of children: a branch-free tournament.
      const size_t a = heap_[first + 1] < heap_[first] ? first + 1 : first;
      const size_t b = heap_[first + 3] < heap_[first + 2] ? first + 3 : first + 2;
      const size_t best = heap_[b] < heap_[a] ? b : a;
      heap_[hole] = heap_[best];
      hole = best;
      continue;
    }
    if (first < size) {
      size_t best = first;
      for (size_t child = first + 1; child < size; ++child) {
        if (heap_[child] < heap_[best]) best = child;
      }
      heap_[hole] = heap_[best];
      hole = best;
    }
    break;
  }
  sift_up(hole, last);
}

void EventQueue::drop_dead_top() {
  while (!heap_empty() && !top_is_live()) pop_root();
}

Time EventQueue::next_time() {
  drop_dead_top();
  return heap_empty() ? Time::max() : Time::from_ns(heap_[kRoot].time_ns());
}

bool EventQueue::pop_until(Time limit, Time* at, EventFn* fn) {
  drop_dead_top();
  if (heap_empty() || heap_[kRoot].time_ns() > limit.ns()) return false;
  const Entry top = heap_[kRoot];
  const auto slot = static_cast<uint32_t>(top.seq_slot() & kMaxPending);
  *at = Time::from_ns(top.time_ns());
  *fn = slots_[slot].fn;
  slots_[slot].seq = 0;
  free_slots_.push_back(slot);
  --live_;
  pop_root();
  return true;
}

void EventQueue::compact() {
  std::erase_if(heap_, [this](const Entry& e) {
    return e.key != 0 && slots_[e.seq_slot() & kMaxPending].seq != e.seq_slot() >> kSlotBits;
  });
  // Floyd's heap construction, bottom-up. The padding entries are zero keys, never dead.
  for (size_t i = heap_.size(); i-- > kRoot;) sift_down(i, heap_[i]);
}

}  // namespace shardlab::sim
