#include "sim/core/event_queue.h"

#include <algorithm>

namespace shardlab::sim {

void EventQueue::reserve(size_t events) {
  heap_.reserve(events);
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
  const uint64_t seq = next_seq_++;
  slots_[slot].seq = seq;
  slots_[slot].fn = fn;
  ++live_;
  heap_.emplace_back();
  sift_up(heap_.size() - 1, Entry{at.ns(), seq << kSlotBits | slot});
  return EventId{seq, slot};
}

bool EventQueue::cancel(EventId id) {
  if (!id || id.slot >= slots_.size() || slots_[id.slot].seq != id.seq) return false;
  slots_[id.slot].seq = 0;
  free_slots_.push_back(id.slot);
  --live_;
  // Dead entries stay in the heap until they surface; rebuild once they are the majority.
  if (heap_.size() > 64 && heap_.size() > 2 * live_ + 32) compact();
  return true;
}

void EventQueue::sift_up(size_t hole, Entry entry) {
  while (hole > 0) {
    const size_t parent = (hole - 1) / 4;
    if (!(entry < heap_[parent])) break;
    heap_[hole] = heap_[parent];
    hole = parent;
  }
  heap_[hole] = entry;
}

void EventQueue::sift_down(size_t hole, Entry entry) {
  const size_t size = heap_.size();
  for (;;) {
    const size_t first = 4 * hole + 1;
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

void EventQueue::pop_top() {
  const Entry last = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) sift_down(0, last);
}

void EventQueue::drop_dead_top() {
  while (!heap_.empty() && !top_is_live()) pop_top();
}

Time EventQueue::next_time() {
  drop_dead_top();
  return heap_.empty() ? Time::max() : Time::from_ns(heap_.front().time_ns);
}

bool EventQueue::pop_until(Time limit, Time* at, EventFn* fn) {
  drop_dead_top();
  if (heap_.empty() || heap_.front().time_ns > limit.ns()) return false;
  const Entry top = heap_.front();
  const auto slot = static_cast<uint32_t>(top.seq_slot & kMaxPending);
  *at = Time::from_ns(top.time_ns);
  *fn = slots_[slot].fn;
  slots_[slot].seq = 0;
  free_slots_.push_back(slot);
  --live_;
  pop_top();
  return true;
}

void EventQueue::compact() {
  std::erase_if(heap_, [this](const Entry& e) {
    return slots_[e.seq_slot & kMaxPending].seq != e.seq_slot >> kSlotBits;
  });
  // Floyd's heap construction, bottom-up.
  if (heap_.size() > 1) {
    for (size_t i = (heap_.size() - 2) / 4 + 1; i-- > 0;) sift_down(i, heap_[i]);
  }
}

}  // namespace shardlab::sim
