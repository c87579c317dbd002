#include "engine/exec/count_table.h"

#include <algorithm>
#include <bit>

#include "engine/common/parallel.h"
#include "engine/exec/key_hash.h"

namespace shardlab::engine {

bool CountTable::applies(const std::vector<DataType>& key_types,
                         const std::vector<AggregateSpec>& specs) {
  if (key_types.size() != 1 || key_types[0].is_string_like() || key_types[0].is_float() ||
      specs.empty())
    return false;
  const size_t width = key_types[0].width();
  if (width != 4 && width != 8) return false;
  return std::all_of(specs.begin(), specs.end(),
                     [](const AggregateSpec& a) { return a.kind == AggregateKind::kCount; });
}

unsigned CountTable::home_shift(size_t table_size) {
  return 64 - static_cast<unsigned>(std::countr_zero(table_size));
}

bool CountTable::add_count(LargePageVector<CountSlot>& table, uint32_t key, uint32_t count) {
  const size_t mask = table.size() - 1;
  size_t at = mix64(key) >> home_shift(table.size());
  for (;;) {
    CountSlot& slot = table[at];
    if (slot.count == 0) {
      slot = CountSlot{key, count};
      return true;  // a new group
    }
    if (slot.key == key) {
      slot.count += count;
      return false;
    }
    at = (at + 1) & mask;
  }
}

void CountTable::reserve(size_t more) {
  if ((groups_ + more) * 2 <= slots_.size()) return;
  size_t capacity = std::max<size_t>(slots_.size(), 1024);
  while ((groups_ + more) * 2 > capacity) capacity *= 2;
  LargePageVector<CountSlot> fresh(capacity, CountSlot{0, 0});
  for (const CountSlot& slot : slots_)
    if (slot.count != 0) add_count(fresh, slot.key, slot.count);
  slots_.swap(fresh);
}

// K is uint32_t or uint64_t, each key below 2^32.
template <typename K>
void CountTable::count_keys(const K* keys, size_t rows) {
  constexpr size_t kChunk = 4096;
  constexpr size_t kAhead = 8;
  rows_counted_ += rows;
  size_t begin = 0;
  for (; begin < rows && !deferring(); begin += kChunk) {
    const size_t n = std::min(rows - begin, kChunk);
    // Room for every key of the chunk being new, so prefetched slots cannot move.
    reserve(n);
    const unsigned shift = home_shift(slots_.size());
    const K* batch = keys + begin;
    for (size_t row = 0; row < n; ++row) {
      if (row + kAhead < n) __builtin_prefetch(&slots_[mix64(batch[row + kAhead]) >> shift]);
      groups_ += add_count(slots_, static_cast<uint32_t>(batch[row]), 1);
    }
  }
  if (begin >= rows) return;
  pending_.add(keys + begin, rows - begin, [](K key) { return bucket_of(mix64(key)); });
  if (pending_.size() >= kMaxPendingKeys) settle_pending(/*release=*/false);
}

void CountTable::count(const uint32_t* keys, size_t rows) { count_keys(keys, rows); }
void CountTable::count(const uint64_t* keys, size_t rows) { count_keys(keys, rows); }

// The groups are counted bucket by bucket first (count_in_buckets), so the table is rebuilt
// once at its final size, in slot order. Inserting the keys into the table as it stands would
// not do: a table sized for the groups so far would crowd each bucket's keys into a slice
// sized for the keys so far.
void CountTable::settle_pending(bool release) {
  if (!pending_.empty()) {
    const CountTable* self = this;
    const std::vector<PodVector<CountSlot>> found = count_in_buckets({&self, 1}, 1);
    const PodVector<CountSlot>& all = found.front();
    // Never smaller than the table was: a reserve() made it that size for a reason.
    const size_t size =
        std::max(slots_.size(), std::bit_ceil(std::max<size_t>(1024, all.size() * 2)));
    LargePageVector<CountSlot> fresh(size, CountSlot{0, 0});
    for (const CountSlot& slot : all) add_count(fresh, slot.key, slot.count);
    slots_.swap(fresh);
    groups_ = all.size();
  }
  if (release) {
    pending_.release();
  } else {
    pending_.clear();
  }
}

LargePageVector<CountSlot> CountTable::take_slots() {
  settle_pending(/*release=*/true);
  LargePageVector<CountSlot> table;
  table.swap(slots_);
  groups_ = 0;
  rows_counted_ = 0;
  return table;
}

void CountTable::merge(const CountTable& other) {
  rows_counted_ += other.rows_counted_;
  // A chunk of slots at a time: its occupied ones are gathered without a branch (half the
  // slots are empty, at random), then added with their target slots prefetched. Room is
  // reserved per chunk: most of a partial's groups are often already here, and room for all
  // of them at once could double the table for nothing.
  constexpr size_t kChunk = 4096;
  constexpr size_t kAhead = 8;
  CountSlot occupied[kChunk];
  const CountSlot* from = other.slots_.data();
  const size_t slots = other.slots_.size();
  for (size_t begin = 0; begin < slots; begin += kChunk) {
    const size_t end = std::min(slots, begin + kChunk);
    size_t n = 0;
    for (size_t at = begin; at < end; ++at) {
      occupied[n] = from[at];
      n += from[at].count != 0;
    }
    reserve(n);
    const unsigned shift = home_shift(slots_.size());
    for (size_t idx = 0; idx < n; ++idx) {
      if (idx + kAhead < n) __builtin_prefetch(&slots_[mix64(occupied[idx + kAhead].key) >> shift]);
      groups_ += add_count(slots_, occupied[idx].key, occupied[idx].count);
    }
  }
}

std::vector<Column> CountTable::finish() const {
  Column keys(key_type_);
  Column counts(TypeId::kUInt64);
  keys.resize_fixed(groups_);
  counts.resize_fixed(groups_);
  // Up to the last occupied slot, every slot is written at the next group's row and kept
  // only if occupied: no branch on the randomly empty slots, and no write past the rows.
  std::span<const CountSlot> slots(slots_.data(), slots_.size());
  while (!slots.empty() && slots.back().count == 0) slots = slots.first(slots.size() - 1);
  uint64_t* count = counts.values<uint64_t>();
  auto compact = [&]<typename K>(K* key) {
    size_t g = 0;
    for (const CountSlot& slot : slots) {
      key[g] = slot.key;
      count[g] = slot.count;
      g += slot.count != 0;
    }
  };
  if (key_type_.width() == 8) {
    compact(reinterpret_cast<uint64_t*>(keys.data.data()));
  } else {
    compact(reinterpret_cast<uint32_t*>(keys.data.data()));
  }
  return count_columns(std::move(keys), std::move(counts));
}

std::vector<Column> CountTable::count_columns(Column keys, Column counts) const {
  std::vector<Column> out;
  out.push_back(std::move(keys));
  for (size_t a = 1; a < count_columns_; ++a) out.push_back(counts);
  out.push_back(std::move(counts));
  return out;
}

// The groups of every table that fall in a bucket and every table's set-aside keys of it go
// through one BucketCounter, which stays in cache. Threads take contiguous runs of buckets of
// about equal work; each returns its groups in bucket order.
std::vector<PodVector<CountSlot>> CountTable::count_in_buckets(
    std::span<const CountTable* const> tables, unsigned threads) {
  constexpr size_t kBuckets = KeyBuckets::kBuckets;
  std::vector<size_t> work_before(kBuckets + 1, 0);  // keys and table slots, prefix sums
  for (size_t bucket = 0; bucket < kBuckets; ++bucket) {
    size_t work = 0;
    for (const CountTable* t : tables)
      work += t->pending_.count(bucket) + t->slots_.size() / kBuckets;
    work_before[bucket + 1] = work_before[bucket] + work;
  }
  threads = std::max(1u, std::min<unsigned>(threads, kBuckets));
  std::vector<size_t> first_bucket(threads + 1, kBuckets);
  for (unsigned t = 0; t < threads; ++t) {
    const size_t share = work_before[kBuckets] * t / threads;
    first_bucket[t] = static_cast<size_t>(
        std::lower_bound(work_before.begin(), work_before.end() - 1, share) - work_before.begin());
  }
  std::vector<PodVector<CountSlot>> found(threads);
  run_in_parallel(threads, [&](unsigned t) {
    const size_t from = first_bucket[t], to = first_bucket[t + 1];
    found[t].reserve(work_before[to] - work_before[from]);
    BucketCounter counter;
    size_t expected = 0;
    for (size_t bucket = from; bucket < to; ++bucket) {
      size_t keys = 0;
      for (const CountTable* table : tables) keys += table->pending_.count(bucket);
      // The bucket before is the best guess of this one's groups: buckets are equal slices
      // of the hash space. The first one guesses from its keys; a low guess only grows.
      counter.reset(bucket == from ? keys / 2 : expected + expected / 8);
      for (const CountTable* table : tables) table->add_region_to(bucket, &counter);
      for (const CountTable* table : tables)
        table->pending_.for_each_run(bucket, [&](std::span<const uint32_t> run) {
          for (uint32_t key : run) counter.add(key, 1);
        });
      expected = counter.groups();
      counter.append_to(&found[t]);
    }
  });
  return found;
}

std::vector<Column> CountTable::finish_in_buckets(std::span<const CountTable* const> tables,
                                                  unsigned threads) {
  const std::vector<PodVector<CountSlot>> found = count_in_buckets(tables, threads);
  threads = static_cast<unsigned>(found.size());
  std::vector<size_t> first_row(threads + 1, 0);
  for (unsigned t = 0; t < threads; ++t) first_row[t + 1] = first_row[t] + found[t].size();
  const CountTable& first = *tables.front();
  Column keys(first.key_type_);
  Column counts(TypeId::kUInt64);
  keys.resize_fixed(first_row[threads]);
  counts.resize_fixed(first_row[threads]);
  run_in_parallel(threads, [&](unsigned t) {
    uint64_t* count = counts.values<uint64_t>() + first_row[t];
    auto write = [&]<typename K>(K* key) {
      for (const CountSlot& slot : found[t]) {
        *key++ = slot.key;
        *count++ = slot.count;
      }
    };
    if (first.key_type_.width() == 8) {
      write(reinterpret_cast<uint64_t*>(keys.data.data()) + first_row[t]);
    } else {
      write(reinterpret_cast<uint32_t*>(keys.data.data()) + first_row[t]);
    }
  });
  return first.count_columns(std::move(keys), std::move(counts));
}

// The groups of `bucket` sit in the bucket's slice of the table, or in the cluster running on
// past its end (wrapping at the table's end): linear probing only moves a key forward from its
// home slot.
void CountTable::add_region_to(size_t bucket, BucketCounter* counter) const {
  const size_t size = slots_.size();
  if (size == 0) return;
  const size_t span = size / KeyBuckets::kBuckets;  // tables have at least 1024 slots
  const size_t end = (bucket + 1) * span;
  auto take = [&](const CountSlot& slot) {
    if (bucket_of(mix64(slot.key)) == bucket) counter->add(slot.key, slot.count);
  };
  for (size_t at = bucket * span; at < end; ++at)
    if (slots_[at].count != 0) take(slots_[at]);
  for (size_t step = 0; step < size; ++step) {
    const CountSlot& slot = slots_[(end + step) & (size - 1)];
    if (slot.count == 0) break;
    take(slot);
  }
}

size_t CountTable::memory_bytes() const {
  return slots_.capacity() * sizeof(CountSlot) + pending_.memory_bytes();
}

}  // namespace shardlab::engine
