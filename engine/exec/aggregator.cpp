#define XXH_INLINE_ALL
#include "shardlab/engine/aggregator.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <tuple>

#include "engine/common/allocators.h"
#include "base/errors.h"
#include "engine/common/parallel.h"
#include "engine/exec/key_buckets.h"
#include "engine/exec/uniq_set.h"
#include "engine/types/order_bits.h"

namespace shardlab::engine {
namespace {

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDULL;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ULL;
  x ^= x >> 33;
  return x;
}

struct StringPool {
  StringPool() = default;
  // values point into ids' keys, so a copy re-points them at its own.
  StringPool(const StringPool& other) : ids(other.ids), values(other.values.size()) {
    for (const auto& [text, id] : ids) values[id] = &text;
  }
  StringPool& operator=(const StringPool&) = delete;
  StringPool(StringPool&&) noexcept = default;
  StringPool& operator=(StringPool&&) noexcept = default;

  std::unordered_map<std::string, uint32_t> ids;
  std::vector<const std::string*> values;
  uint32_t id(std::string_view s) {
    auto it = ids.find(std::string(s));
    if (it != ids.end()) return it->second;
    const auto id = static_cast<uint32_t>(values.size());
    auto [pos, inserted] = ids.emplace(std::string(s), id);
    values.push_back(&pos->first);
    return id;
  }
};

struct AggState {
  LargePageVector<uint64_t> count;
  LargePageVector<uint64_t> bits;  // integer sums (wrapping) or min/max order bits
  LargePageVector<double> sum_f;
  LargePageVector<uint8_t> has;
  std::vector<std::string> strings;
  std::vector<UniqSet> sets;
};

uint64_t value_bits(const Column& c, size_t row) {
  uint64_t out = 0;
  visit_fixed(c.type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T v = c.values<T>()[row];
    if constexpr (std::is_floating_point_v<T>) {
      std::memcpy(&out, &v, 8);
    } else {
      out = static_cast<uint64_t>(
          static_cast<std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>(v));
    }
  });
  return out;
}

}  // namespace

DataType aggregate_result_type(AggregateKind kind, DataType arg) {
  switch (kind) {
    case AggregateKind::kCount:
    case AggregateKind::kUniqExact:
      return TypeId::kUInt64;
    case AggregateKind::kAvg:
      return TypeId::kFloat64;
    case AggregateKind::kSum:
      return arg.is_float() ? TypeId::kFloat64 : arg.is_signed() ? TypeId::kInt64 : TypeId::kUInt64;
    case AggregateKind::kMin:
    case AggregateKind::kMax:
      return arg.id == TypeId::kLowCardinality ? DataType(TypeId::kString) : arg;
  }
  return TypeId::kUInt64;
}

struct Aggregator::State {
  std::vector<DataType> key_types;
  std::vector<size_t> key_offsets;
  size_t key_width = 0;
  std::vector<StringPool> pools;
  LargePageVector<uint8_t> keys;    // groups x key_width
  LargePageVector<uint32_t> slots;  // open addressing: group + 1, 0 when empty
  size_t groups = 0;
  std::vector<AggregateSpec> specs;
  std::vector<AggState> aggs;
  // LowCardinality key columns: dictionary -> pooled ids, cached across blocks of one part.
  std::vector<std::shared_ptr<const Dictionary>> cached_dict;
  std::vector<std::vector<uint32_t>> cached_ids;
  PodVector<uint8_t> scratch;
  PodVector<uint32_t> group_ids;
  LargePageVector<uint32_t> direct;  // narrow single key -> group + 1 (0: not seen yet)

  uint64_t hash(const uint8_t* key) const {
    if (key_width == 0) return 0;
    if (key_width <= 8) {
      uint64_t v = 0;
      std::memcpy(&v, key, key_width);
      return mix64(v);
    }
    return XXH3_64bits(key, key_width);
  }

  void grow() {
    const size_t capacity = slots.empty() ? 1024 : slots.size() * 2;
    LargePageVector<uint32_t> fresh(capacity, 0);
    const size_t mask = capacity - 1;
    for (size_t g = 0; g < groups; ++g) {
      size_t at = hash(keys.data() + g * key_width) & mask;
      while (fresh[at] != 0) at = (at + 1) & mask;
      fresh[at] = static_cast<uint32_t>(g + 1);
    }
    slots.swap(fresh);
  }

  uint32_t find_or_insert(const uint8_t* key) {
    if ((groups + 1) * 2 > slots.size()) grow();
    const size_t mask = slots.size() - 1;
    size_t at = hash(key) & mask;
    for (;;) {
      const uint32_t slot = slots[at];
      if (slot == 0) break;
      if (key_width == 0 || std::memcmp(keys.data() + (slot - 1) * key_width, key, key_width) == 0)
        return slot - 1;
      at = (at + 1) & mask;
    }
    const auto g = static_cast<uint32_t>(groups++);
    slots[at] = g + 1;
    keys.insert(keys.end(), key, key + key_width);
    add_group();
    return g;
  }

  // 8-byte keys, the common case of one UInt64 key, use their own table with the key stored in
  // the slot: a probe costs one cache line instead of three (slot, key, state), and a batch of
  // rows can prefetch its slots before probing. While every key seen fits in 32 bits (ids,
  // ranks, counters) the slots hold the key in 32 bits: 8 bytes instead of 16, so half the
  // memory to fault in and twice the slots per cache line. The first wider key moves the
  // table to 64-bit slots for good.
  template <typename K>
  struct KeySlot {
    K key;
    uint32_t group_plus_one;  // 0: empty
  };
  using Slot32 = KeySlot<uint32_t>;
  using Slot64 = KeySlot<uint64_t>;
  LargePageVector<Slot32> slots32;
  LargePageVector<Slot64> slots64;
  bool wide_keys = false;  // slots64 is the table, not slots32

  // Puts `from`'s occupied slots into `to`, a table of zeroed slots.
  template <typename From, typename To>
  static void rehash(const LargePageVector<From>& from, LargePageVector<To>* to) {
    const size_t mask = to->size() - 1;
    for (const From& slot : from) {
      if (slot.group_plus_one == 0) continue;
      size_t at = mix64(slot.key) & mask;
      while ((*to)[at].group_plus_one != 0) at = (at + 1) & mask;
      (*to)[at] = To{slot.key, slot.group_plus_one};
    }
  }

  template <typename Slot>
  static void grow_table(LargePageVector<Slot>* table) {
    LargePageVector<Slot> fresh(table->empty() ? 1024 : table->size() * 2, Slot{0, 0});
    rehash(*table, &fresh);
    table->swap(fresh);
  }

  void widen_keys() {
    LargePageVector<Slot64> fresh(std::max<size_t>(slots32.size(), 1024), Slot64{0, 0});
    rehash(slots32, &fresh);
    slots64.swap(fresh);
    LargePageVector<Slot32>().swap(slots32);
    wide_keys = true;
  }

  template <typename Slot>
  uint32_t find_or_insert_in(LargePageVector<Slot>& table, uint64_t key, uint64_t hash) {
    const size_t mask = table.size() - 1;
    size_t at = hash & mask;
    for (;;) {
      Slot& slot = table[at];
      if (slot.group_plus_one == 0) break;
      if (slot.key == key) return slot.group_plus_one - 1;
      at = (at + 1) & mask;
    }
    const auto g = static_cast<uint32_t>(groups++);
    table[at] = Slot{static_cast<decltype(Slot::key)>(key), g + 1};
    const size_t end = keys.size();
    keys.resize(end + 8);
    std::memcpy(keys.data() + end, &key, 8);
    add_group();
    return g;
  }

  // Looks up `count` keys of `table`, prefetching each slot a few rows ahead of its probe.
  template <typename Slot>
  void find_or_insert_chunk(LargePageVector<Slot>& table, const uint64_t* batch, size_t count,
                            uint32_t* out) {
    constexpr size_t kAhead = 8;
    // The table grows first, for the case that every key is new, so that it cannot be resized
    // while prefetched addresses are in flight.
    while ((groups + count) * 2 > table.size()) grow_table(&table);
    const size_t mask = table.size() - 1;
    for (size_t row = 0; row < count; ++row) {
      if (row + kAhead < count) __builtin_prefetch(&table[mix64(batch[row + kAhead]) & mask]);
      out[row] = find_or_insert_in(table, batch[row], mix64(batch[row]));
    }
  }

  void find_or_insert_u64_batch(const uint64_t* batch, size_t count, uint32_t* out) {
    // Chunks keep the worst case of find_or_insert_chunk's growth small: merging a million
    // groups, most of them already present, must not double a table that has room for them.
    constexpr size_t kChunk = 4096;
    for (size_t begin = 0; begin < count; begin += kChunk) {
      const size_t n = std::min(count - begin, kChunk);
      if (!wide_keys) {
        uint64_t high = 0;
        for (size_t row = 0; row < n; ++row) high |= batch[begin + row];
        if (high >> 32) widen_keys();
      }
      if (wide_keys) {
        find_or_insert_chunk(slots64, batch + begin, n, out + begin);
      } else {
        find_or_insert_chunk(slots32, batch + begin, n, out + begin);
      }
    }
  }

  // count()-only aggregation on one 4- or 8-byte integer key (GROUP BY user_id ... count()),
  // while every key fits in 32 bits and fewer than 2^32 rows have been counted: each slot
  // holds its key and its count, so a row costs one probe of one cache line, and a group
  // costs 8 bytes at the table's load instead of a slot, a key and a count apart (a third of
  // the memory, which a fresh process pays for page by page). Groups come out in slot order.
  // The first key or count that does not fit moves the groups to the general layout for good.
  struct CountSlot {
    uint32_t key;
    uint32_t count;  // 0: empty
  };
  LargePageVector<CountSlot> counted;
  bool counting = false;
  uint64_t rows_counted = 0;  // bounds every count in `counted`

  static bool counts_only(const std::vector<DataType>& key_types,
                          const std::vector<AggregateSpec>& specs) {
    if (key_types.size() != 1 || key_types[0].is_string_like() || key_types[0].is_float() ||
        specs.empty())
      return false;
    const size_t width = key_types[0].width();
    if (width != 4 && width != 8) return false;
    return std::all_of(specs.begin(), specs.end(),
                       [](const AggregateSpec& a) { return a.kind == AggregateKind::kCount; });
  }

  // A key's first slot comes from the top bits of its hash, so slots run in hash order (but
  // for a cluster wrapping past the end). Growing the table or merging another one into it
  // then visits the target's slots in ascending order: a stream, not a cache miss per group.
  static unsigned home_shift(size_t table_size) {
    return 64 - static_cast<unsigned>(std::countr_zero(table_size));
  }

  // Adds `count` to `key`'s slot of `table`, which has an empty slot; true if it was empty.
  static bool add_count(LargePageVector<CountSlot>& table, uint32_t key, uint32_t count) {
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

  void reserve_counted(size_t more) {
    if ((groups + more) * 2 <= counted.size()) return;
    size_t capacity = std::max<size_t>(counted.size(), 1024);
    while ((groups + more) * 2 > capacity) capacity *= 2;
    LargePageVector<CountSlot> fresh(capacity, CountSlot{0, 0});
    for (const CountSlot& slot : counted)
      if (slot.count != 0) add_count(fresh, slot.key, slot.count);
    counted.swap(fresh);
  }

  // Deferred counting. Once the table holds kDeferGroups groups, its growth costs fresh pages
  // and soon it no longer fits in L2, where a probe per row is a cache miss. add() then sets
  // keys aside in KeyBuckets, by the top bits of their hash, and they are counted later bucket
  // by bucket, each bucket in a small table that stays in cache (count_in_buckets):
  // merge_and_finish() writes those counts out directly, without building the big table;
  // anything else that needs the groups rebuilds the table from them (settle_pending).
  static constexpr size_t kDeferGroups = size_t{1} << 12;
  // A state settles its set-aside keys past this many: what bounds their memory (32 MiB).
  static constexpr size_t kMaxPendingKeys = size_t{1} << 23;
  KeyBuckets pending;

  static size_t bucket_of(uint64_t hash) { return hash >> (64 - KeyBuckets::kBucketBits); }
  bool deferring() const { return groups >= kDeferGroups || !pending.empty(); }

  // Counts `rows` keys of type K (uint32_t or uint64_t, each below 2^32).
  template <typename K>
  void count_keys(const K* keys, size_t rows) {
    constexpr size_t kChunk = 4096;
    constexpr size_t kAhead = 8;
    rows_counted += rows;
    size_t begin = 0;
    for (; begin < rows && !deferring(); begin += kChunk) {
      const size_t n = std::min(rows - begin, kChunk);
      // Room for every key of the chunk being new, so prefetched slots cannot move.
      reserve_counted(n);
      const unsigned shift = home_shift(counted.size());
      const K* batch = keys + begin;
      for (size_t row = 0; row < n; ++row) {
        if (row + kAhead < n) __builtin_prefetch(&counted[mix64(batch[row + kAhead]) >> shift]);
        groups += add_count(counted, static_cast<uint32_t>(batch[row]), 1);
      }
    }
    if (begin >= rows) return;
    pending.add(keys + begin, rows - begin, [](K key) { return bucket_of(mix64(key)); });
    if (pending.size() >= kMaxPendingKeys) settle_pending(/*release=*/false);
  }

  // Adds the set-aside keys to the groups; `release` frees their memory instead of keeping it
  // for more keys. The groups are counted bucket by bucket first (count_in_buckets), so the
  // table is rebuilt once at its final size, in slot order. Inserting the keys into the table
  // as it stands would not do: a table sized for the groups so far would crowd each bucket's
  // keys into a slice sized for the keys so far.
  void settle_pending(bool release) {
    if (!pending.empty()) {
      const State* self = this;
      const std::vector<PodVector<CountSlot>> found = count_in_buckets({&self, 1}, 1);
      const PodVector<CountSlot>& all = found.front();
      // Never smaller than the table was: a reserve() made it that size for a reason.
      const size_t size =
          std::max(counted.size(), std::bit_ceil(std::max<size_t>(1024, all.size() * 2)));
      LargePageVector<CountSlot> fresh(size, CountSlot{0, 0});
      for (const CountSlot& slot : all) add_count(fresh, slot.key, slot.count);
      counted.swap(fresh);
      groups = all.size();
    }
    if (release) {
      pending.release();
    } else {
      pending.clear();
    }
  }

  // Moves the counted groups to the general layout (keys, count states, hash table), in slot
  // order, and leaves counting mode.
  void leave_counting() {
    if (!counting) return;
    settle_pending(/*release=*/true);
    counting = false;
    LargePageVector<CountSlot> table;
    table.swap(counted);
    groups = 0;
    rows_counted = 0;
    for (const CountSlot& slot : table) {
      if (slot.count == 0) continue;
      uint32_t g;
      if (key_width == 8) {
        const uint64_t key = slot.key;
        find_or_insert_u64_batch(&key, 1, &g);
      } else {
        g = find_or_insert(reinterpret_cast<const uint8_t*>(&slot.key));
      }
      for (AggState& s : aggs) s.count[g] = slot.count;
    }
  }

  // Adds `os`'s counted groups to this state's; both count and the total stays below 2^32.
  void merge_counted(const State& os) {
    rows_counted += os.rows_counted;
    // A chunk of slots at a time: its occupied ones are gathered without a branch (half the
    // slots are empty, at random), then added with their target slots prefetched. Room is
    // reserved per chunk: most of a partial's groups are often already here, and room for all
    // of them at once could double the table for nothing.
    constexpr size_t kChunk = 4096;
    constexpr size_t kAhead = 8;
    CountSlot occupied[kChunk];
    const CountSlot* from = os.counted.data();
    const size_t slots = os.counted.size();
    for (size_t begin = 0; begin < slots; begin += kChunk) {
      const size_t end = std::min(slots, begin + kChunk);
      size_t n = 0;
      for (size_t at = begin; at < end; ++at) {
        occupied[n] = from[at];
        n += from[at].count != 0;
      }
      reserve_counted(n);
      const unsigned shift = home_shift(counted.size());
      for (size_t idx = 0; idx < n; ++idx) {
        if (idx + kAhead < n)
          __builtin_prefetch(&counted[mix64(occupied[idx + kAhead].key) >> shift]);
        groups += add_count(counted, occupied[idx].key, occupied[idx].count);
      }
    }
  }

  // finish() of the counting layout: groups in slot order.
  std::vector<Column> finish_counted() const {
    Column keys(key_types[0]);
    Column counts(TypeId::kUInt64);
    keys.resize_fixed(groups);
    counts.resize_fixed(groups);
    // Up to the last occupied slot, every slot is written at the next group's row and kept
    // only if occupied: no branch on the randomly empty slots, and no write past the rows.
    std::span<const CountSlot> slots(counted.data(), counted.size());
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
    if (key_width == 8) {
      compact(reinterpret_cast<uint64_t*>(keys.data.data()));
    } else {
      compact(reinterpret_cast<uint32_t*>(keys.data.data()));
    }
    return count_columns(std::move(keys), std::move(counts));
  }

  // The key column, then the counts once per count() of the query.
  std::vector<Column> count_columns(Column keys, Column counts) const {
    std::vector<Column> out;
    out.push_back(std::move(keys));
    for (size_t a = 1; a < specs.size(); ++a) out.push_back(counts);
    out.push_back(std::move(counts));
    return out;
  }

  // One bucket's groups while finish_in_buckets() counts them: slots placed by the hash bits
  // below the bucket's, grown as groups arrive. Reused from bucket to bucket, so it stays in
  // cache and costs no fresh memory.
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

  // The groups of counting states, counted bucket by bucket: the groups of every state's
  // table that fall in the bucket and every state's set-aside keys of it go through one
  // BucketCounter, which stays in cache. Nothing else is built: no table of all the groups, no
  // merge of partial tables. Threads take contiguous runs of buckets of about equal work;
  // each returns its groups in bucket order. REQUIRES: every state counting, and all their
  // rows together fewer than 2^32.
  static std::vector<PodVector<CountSlot>> count_in_buckets(std::span<const State* const> states,
                                                            unsigned threads) {
    constexpr size_t kBuckets = KeyBuckets::kBuckets;
    std::vector<size_t> work_before(kBuckets + 1, 0);  // keys and table slots, prefix sums
    for (size_t bucket = 0; bucket < kBuckets; ++bucket) {
      size_t work = 0;
      for (const State* s : states) work += s->pending.count(bucket) + s->counted.size() / kBuckets;
      work_before[bucket + 1] = work_before[bucket] + work;
    }
    threads = std::max(1u, std::min<unsigned>(threads, kBuckets));
    std::vector<size_t> first_bucket(threads + 1, kBuckets);
    for (unsigned t = 0; t < threads; ++t) {
      const size_t share = work_before[kBuckets] * t / threads;
      first_bucket[t] =
          static_cast<size_t>(std::lower_bound(work_before.begin(), work_before.end() - 1, share) -
                              work_before.begin());
    }
    std::vector<PodVector<CountSlot>> found(threads);
    run_in_parallel(threads, [&](unsigned t) {
      const size_t from = first_bucket[t], to = first_bucket[t + 1];
      found[t].reserve(work_before[to] - work_before[from]);
      BucketCounter counter;
      size_t expected = 0;
      for (size_t bucket = from; bucket < to; ++bucket) {
        size_t keys = 0;
        for (const State* s : states) keys += s->pending.count(bucket);
        // The bucket before is the best guess of this one's groups: buckets are equal slices
        // of the hash space. The first one guesses from its keys; a low guess only grows.
        counter.reset(bucket == from ? keys / 2 : expected + expected / 8);
        for (const State* s : states) s->add_region_to(bucket, &counter);
        for (const State* s : states)
          s->pending.for_each_run(bucket, [&](std::span<const uint32_t> run) {
            for (uint32_t key : run) counter.add(key, 1);
          });
        expected = counter.groups();
        counter.append_to(&found[t]);
      }
    });
    return found;
  }

  // merge_and_finish() of counting states with many groups or set-aside keys: their groups
  // from count_in_buckets(), in bucket order, written out by the same threads.
  static std::vector<Column> finish_in_buckets(std::span<const State* const> states,
                                               unsigned threads) {
    const std::vector<PodVector<CountSlot>> found = count_in_buckets(states, threads);
    threads = static_cast<unsigned>(found.size());
    std::vector<size_t> first_row(threads + 1, 0);
    for (unsigned t = 0; t < threads; ++t) first_row[t + 1] = first_row[t] + found[t].size();
    const State& first = *states.front();
    Column keys(first.key_types[0]);
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
      if (first.key_width == 8) {
        write(reinterpret_cast<uint64_t*>(keys.data.data()) + first_row[t]);
      } else {
        write(reinterpret_cast<uint32_t*>(keys.data.data()) + first_row[t]);
      }
    });
    return first.count_columns(std::move(keys), std::move(counts));
  }

  // Adds the groups of `counted` whose bucket is `bucket` to `counter`. They sit in the
  // bucket's slice of the table, or in the cluster running on past its end (wrapping at the
  // table's end): linear probing only moves a key forward from its home slot.
  void add_region_to(size_t bucket, BucketCounter* counter) const {
    const size_t size = counted.size();
    if (size == 0) return;
    const size_t span = size / KeyBuckets::kBuckets;  // tables have at least 1024 slots
    const size_t end = (bucket + 1) * span;
    auto take = [&](const CountSlot& slot) {
      if (bucket_of(mix64(slot.key)) == bucket) counter->add(slot.key, slot.count);
    };
    for (size_t at = bucket * span; at < end; ++at)
      if (counted[at].count != 0) take(counted[at]);
    for (size_t step = 0; step < size; ++step) {
      const CountSlot& slot = counted[(end + step) & (size - 1)];
      if (slot.count == 0) break;
      take(slot);
    }
  }

  // `os` in the general layout: itself, or a copy moved out of counting mode into `holder`.
  static const State& general_layout(const State& os, std::unique_ptr<State>* holder) {
    if (!os.counting) return os;
    *holder = std::make_unique<State>(os);
    (*holder)->leave_counting();
    return **holder;
  }

  bool can_merge_counted(const State& os) const {
    return counting && os.counting && rows_counted + os.rows_counted <= UINT32_MAX;
  }

  void add_group() {
    for (size_t a = 0; a < specs.size(); ++a) {
      AggState& s = aggs[a];
      switch (specs[a].kind) {
        case AggregateKind::kCount:
          s.count.push_back(0);
          break;
        case AggregateKind::kSum:
        case AggregateKind::kAvg:
          s.count.push_back(0);
          s.bits.push_back(0);
          s.sum_f.push_back(0);
          break;
        case AggregateKind::kMin:
        case AggregateKind::kMax:
          s.has.push_back(0);
          if (specs[a].arg->type.is_string_like()) {
            s.strings.emplace_back();
          } else {
            s.bits.push_back(0);
          }
          break;
        case AggregateKind::kUniqExact:
          s.sets.emplace_back();
          break;
      }
    }
  }

  void update(size_t a, const Column* arg, size_t rows) {
    AggState& s = aggs[a];
    const AggregateSpec& spec = specs[a];
    const uint32_t* gid = group_ids.data();
    switch (spec.kind) {
      case AggregateKind::kCount:
        if (key_types.empty()) {
          s.count[0] += rows;
          return;
        }
        for (size_t row = 0; row < rows; ++row) ++s.count[gid[row]];
        return;
      case AggregateKind::kSum:
      case AggregateKind::kAvg:
        if (key_types.empty()) {
          s.count[0] += rows;
        } else {
          for (size_t row = 0; row < rows; ++row) ++s.count[gid[row]];
        }
        visit_fixed(arg->type, [&](auto tag) {
          using T = typename decltype(tag)::type;
          const T* v = arg->values<T>();
          using W = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
          if (key_types.empty()) {
            if constexpr (std::is_floating_point_v<T>) {
              double total = 0;
              for (size_t row = 0; row < rows; ++row) total += v[row];
              s.sum_f[0] += total;
            } else {
              uint64_t total = 0;
              for (size_t row = 0; row < rows; ++row)
                total += static_cast<uint64_t>(static_cast<W>(v[row]));
              s.bits[0] += total;
            }
          } else if constexpr (std::is_floating_point_v<T>) {
            for (size_t row = 0; row < rows; ++row) s.sum_f[gid[row]] += v[row];
          } else {
            for (size_t row = 0; row < rows; ++row)
              s.bits[gid[row]] += static_cast<uint64_t>(static_cast<W>(v[row]));
          }
        });
        return;
      case AggregateKind::kMin:
      case AggregateKind::kMax: {
        const bool is_min = spec.kind == AggregateKind::kMin;
        if (arg->type.is_string_like()) {
          for (size_t row = 0; row < rows; ++row) {
            const uint32_t g = gid[row];
            const std::string_view v = arg->string_at(row);
            if (!s.has[g] || (is_min ? v < s.strings[g] : v > s.strings[g])) {
              s.strings[g].assign(v);
              s.has[g] = 1;
            }
          }
          return;
        }
        visit_fixed(arg->type, [&](auto tag) {
          using T = typename decltype(tag)::type;
          const T* v = arg->values<T>();
          for (size_t row = 0; row < rows; ++row) {
            const uint32_t g = gid[row];
            const uint64_t b = order_bits(v[row]);
            if (!s.has[g] || (is_min ? b < s.bits[g] : b > s.bits[g])) {
              s.bits[g] = b;
              s.has[g] = 1;
            }
          }
        });
        return;
      }
      case AggregateKind::kUniqExact:
        if (arg->type.id == TypeId::kLowCardinality) {
          std::vector<uint64_t> table(arg->dict->size());
          for (uint32_t code = 0; code < table.size(); ++code) {
            const auto v = arg->dict->value(code);
            table[code] = XXH3_64bits(v.data(), v.size());
          }
          const uint32_t* codes = arg->values<uint32_t>();
          for (size_t row = 0; row < rows; ++row) s.sets[gid[row]].insert(table[codes[row]]);
        } else if (arg->type.id == TypeId::kString) {
          for (size_t row = 0; row < rows; ++row) {
            const auto v = arg->string_at(row);
            s.sets[gid[row]].insert(XXH3_64bits(v.data(), v.size()));
          }
        } else {
          for (size_t row = 0; row < rows; ++row) s.sets[gid[row]].insert(value_bits(*arg, row));
        }
        return;
    }
  }

  // The group of this state that each of `os`'s groups merges into, inserting new ones.
  LargePageVector<uint32_t> map_groups(const State& os) {
    const bool has_strings = std::any_of(key_types.begin(), key_types.end(),
                                         [](DataType t) { return t.is_string_like(); });
    LargePageVector<uint32_t> target(os.groups);
    if (key_types.empty()) {
      std::fill(target.begin(), target.end(), 0);
    } else if (key_width == 8 && !has_strings) {
      find_or_insert_u64_batch(reinterpret_cast<const uint64_t*>(os.keys.data()), os.groups,
                               target.data());
    } else {
      PodVector<uint8_t> key(key_width);
      for (size_t og = 0; og < os.groups; ++og) {
        std::memcpy(key.data(), os.keys.data() + og * os.key_width, key_width);
        // Pooled string ids differ between aggregators: translate through the strings.
        for (size_t k = 0; k < key_types.size(); ++k) {
          if (!key_types[k].is_string_like()) continue;
          uint32_t id;
          std::memcpy(&id, key.data() + key_offsets[k], 4);
          id = pools[k].id(*os.pools[k].values[id]);
          std::memcpy(key.data() + key_offsets[k], &id, 4);
        }
        if (key_width == 8) {
          uint64_t k;
          std::memcpy(&k, key.data(), 8);
          find_or_insert_u64_batch(&k, 1, &target[og]);
        } else {
          target[og] = find_or_insert(key.data());
        }
      }
    }
    return target;
  }

  // Merges every group of `os` into its target group, one aggregate at a time: count() and
  // sum() states are plain arrays, so their loops carry no dispatch per group.
  void merge_states(const State& os, const LargePageVector<uint32_t>& target, size_t a) {
    AggState& s = aggs[a];
    const AggState& o = os.aggs[a];
    const uint32_t* to = target.data();
    switch (specs[a].kind) {
      case AggregateKind::kCount:
        for (size_t og = 0; og < os.groups; ++og) s.count[to[og]] += o.count[og];
        return;
      case AggregateKind::kSum:
      case AggregateKind::kAvg:
        for (size_t og = 0; og < os.groups; ++og) {
          s.count[to[og]] += o.count[og];
          s.bits[to[og]] += o.bits[og];
          s.sum_f[to[og]] += o.sum_f[og];
        }
        return;
      default:
        for (size_t og = 0; og < os.groups; ++og) merge_group(a, to[og], o, og);
    }
  }

  void merge_group(size_t a, uint32_t g, const AggState& o, size_t og) {
    AggState& s = aggs[a];
    switch (specs[a].kind) {
      case AggregateKind::kCount:
        s.count[g] += o.count[og];
        return;
      case AggregateKind::kSum:
      case AggregateKind::kAvg:
        s.count[g] += o.count[og];
        s.bits[g] += o.bits[og];
        s.sum_f[g] += o.sum_f[og];
        return;
      case AggregateKind::kMin:
      case AggregateKind::kMax: {
        if (!o.has[og]) return;
        const bool is_min = specs[a].kind == AggregateKind::kMin;
        if (specs[a].arg->type.is_string_like()) {
          if (!s.has[g] || (is_min ? o.strings[og] < s.strings[g] : o.strings[og] > s.strings[g]))
            s.strings[g] = o.strings[og];
        } else if (!s.has[g] || (is_min ? o.bits[og] < s.bits[g] : o.bits[og] > s.bits[g])) {
          s.bits[g] = o.bits[og];
        }
        s.has[g] = 1;
        return;
      }
      case AggregateKind::kUniqExact:
        s.sets[g].merge(o.sets[og]);
        return;
    }
  }
};

Aggregator::Aggregator(std::vector<DataType> key_types, std::vector<AggregateSpec> aggregates)
    : state_(std::make_unique<State>()) {
  State& st = *state_;
  st.key_types = std::move(key_types);
  for (DataType t : st.key_types) {
    st.key_offsets.push_back(st.key_width);
    st.key_width += t.is_string_like() ? 4 : t.width();
  }
  st.pools.resize(st.key_types.size());
  st.cached_dict.resize(st.key_types.size());
  st.cached_ids.resize(st.key_types.size());
  st.specs = std::move(aggregates);
  st.aggs.resize(st.specs.size());
  if (st.key_types.empty()) st.find_or_insert(nullptr);
  st.counting = State::counts_only(st.key_types, st.specs);
}

Aggregator::~Aggregator() = default;
Aggregator::Aggregator(Aggregator&&) noexcept = default;
Aggregator::Aggregator(const Aggregator& other)
    : state_(std::make_unique<State>(other.settled())) {}
Aggregator& Aggregator::operator=(Aggregator&&) noexcept = default;

Aggregator::State& Aggregator::settled() const {
  // Blocks kept by a settle at the bound are freed even when no key was set aside since.
  if (state_->pending.memory_bytes() != 0) state_->settle_pending(/*release=*/true);
  return *state_;
}

size_t Aggregator::groups() const { return settled().groups; }

size_t Aggregator::memory_bytes() const {
  const State& st = settled();
  size_t bytes = sizeof(State) + st.keys.capacity() + st.slots.capacity() * sizeof(uint32_t) +
                 st.slots32.capacity() * sizeof(State::Slot32) +
                 st.slots64.capacity() * sizeof(State::Slot64) +
                 st.direct.capacity() * sizeof(uint32_t) +
                 st.counted.capacity() * sizeof(State::CountSlot) + st.pending.memory_bytes();
  for (const AggState& a : st.aggs) {
    bytes +=
        a.count.capacity() * 8 + a.bits.capacity() * 8 + a.sum_f.capacity() * 8 + a.has.capacity();
    for (const std::string& text : a.strings) bytes += sizeof(std::string) + text.capacity();
    for (const UniqSet& set : a.sets) bytes += sizeof(UniqSet) + set.memory_bytes();
  }
  for (const StringPool& pool : st.pools) {
    // A map node and the pointer to it per pooled string.
    bytes += pool.values.size() * (sizeof(std::string) + 48);
  }
  return bytes;
}

void Aggregator::add(const std::vector<const Column*>& keys, const std::vector<const Column*>& args,
                     size_t rows) {
  State& st = *state_;
  st.group_ids.resize(rows);
  if (st.key_types.empty()) {
    const bool needs_ids =
        std::any_of(st.specs.begin(), st.specs.end(), [](const AggregateSpec& a) {
          return a.kind != AggregateKind::kCount && a.kind != AggregateKind::kSum &&
                 a.kind != AggregateKind::kAvg;
        });
    if (needs_ids) std::fill(st.group_ids.begin(), st.group_ids.end(), 0);
  } else {
    const size_t width = st.key_width;
    if (st.counting) {
      // The only key, a 4- or 8-byte integer column: its values are the encoded keys.
      SHARDLAB_ASSERT(keys[0]->type.width() == width, "key column of {} for a {}-byte key",
                      keys[0]->type.name(), width);
      const uint8_t* key_bytes = keys[0]->data.data();
      bool fits = st.rows_counted + rows <= UINT32_MAX;
      if (fits && width == 8) {
        uint64_t high = 0;
        const auto* wide = reinterpret_cast<const uint64_t*>(key_bytes);
        for (size_t row = 0; row < rows; ++row) high |= wide[row];
        fits = (high >> 32) == 0;
      }
      if (fits) {
        if (width == 8) {
          st.count_keys(reinterpret_cast<const uint64_t*>(key_bytes), rows);
        } else {
          st.count_keys(reinterpret_cast<const uint32_t*>(key_bytes), rows);
        }
        return;
      }
      st.leave_counting();
    }
    st.scratch.resize(rows * width);
    uint8_t* scratch = st.scratch.data();
    for (size_t k = 0; k < keys.size(); ++k) {
      const Column& c = *keys[k];
      const size_t off = st.key_offsets[k];
      if (c.type.id == TypeId::kLowCardinality) {
        if (st.cached_dict[k] != c.dict) {
          st.cached_dict[k] = c.dict;
          st.cached_ids[k].resize(c.dict->size());
          for (uint32_t code = 0; code < c.dict->size(); ++code)
            st.cached_ids[k][code] = st.pools[k].id(c.dict->value(code));
        }
        const uint32_t* codes = c.values<uint32_t>();
        const uint32_t* ids = st.cached_ids[k].data();
        for (size_t row = 0; row < rows; ++row)
          std::memcpy(scratch + row * width + off, &ids[codes[row]], 4);
      } else if (c.type.id == TypeId::kString) {
        for (size_t row = 0; row < rows; ++row) {
          const uint32_t id = st.pools[k].id(c.string_at(row));
          std::memcpy(scratch + row * width + off, &id, 4);
        }
      } else {
        const size_t w = c.type.width();
        const uint8_t* src = c.data.data();
        if (w == width) {
          std::memcpy(scratch, src, rows * w);
        } else {
          for (size_t row = 0; row < rows; ++row)
            std::memcpy(scratch + row * width + off, src + row * w, w);
        }
      }
    }
    uint32_t* gid = st.group_ids.data();
    if (keys.size() == 1 && (st.key_types[0].is_string_like() || width <= 2)) {
      // One key with a small value space (pooled string ids, 8/16-bit integers): a dense array
      // in front of the hash table resolves almost every row with one load.
      for (size_t row = 0; row < rows; ++row) {
        uint32_t id = 0;
        std::memcpy(&id, scratch + row * width, width);
        if (id >= st.direct.size())
          st.direct.resize(std::max<size_t>(id + 1, st.direct.size() * 2), 0);
        uint32_t g = st.direct[id];
        if (g == 0) g = st.direct[id] = st.find_or_insert(scratch + row * width) + 1;
        gid[row] = g - 1;
      }
    } else if (width == 8) {
      st.find_or_insert_u64_batch(reinterpret_cast<const uint64_t*>(scratch), rows, gid);
    } else {
      for (size_t row = 0; row < rows; ++row) gid[row] = st.find_or_insert(scratch + row * width);
    }
  }
  for (size_t a = 0; a < st.specs.size(); ++a) st.update(a, args[a], rows);
}

void Aggregator::reserve(size_t groups) {
  State& st = settled();
  if (groups <= st.groups) return;
  if (st.counting) {
    st.reserve_counted(groups - st.groups);
  } else if (st.key_width == 8 && st.key_types.size() == 1 && !st.key_types[0].is_string_like()) {
    if (st.wide_keys) {
      while (groups * 2 > st.slots64.size()) State::grow_table(&st.slots64);
    } else {
      while (groups * 2 > st.slots32.size()) State::grow_table(&st.slots32);
    }
  }
}

void Aggregator::expect_rows(double scale) {
  State& st = *state_;
  const auto want = static_cast<size_t>(static_cast<double>(st.groups) * scale);
  // The counting layout defers past kDeferGroups instead of growing its table.
  if (st.counting && (st.deferring() || want >= State::kDeferGroups)) return;
  reserve(want);
}

void Aggregator::merge(const Aggregator& other) {
  State& st = settled();
  const State& os = other.settled();
  if (st.can_merge_counted(os)) {
    st.merge_counted(os);
    return;
  }
  st.leave_counting();
  std::unique_ptr<State> holder;
  const State& general = State::general_layout(os, &holder);
  const LargePageVector<uint32_t> target = st.map_groups(general);
  for (size_t a = 0; a < st.specs.size(); ++a) st.merge_states(general, target, a);
}

std::vector<Column> Aggregator::merge_and_finish(std::span<const Aggregator* const> others,
                                                 unsigned threads) && {
  State& st = *state_;
  uint64_t counted_rows = st.rows_counted;
  bool all_counting = st.counting;
  for (const Aggregator* other : others) {
    all_counting = all_counting && other->state_->counting;
    counted_rows += other->state_->rows_counted;
  }
  if (all_counting && counted_rows <= UINT32_MAX) {
    std::vector<const State*> states = {&st};
    bool large = st.deferring();
    for (const Aggregator* other : others) {
      states.push_back(other->state_.get());
      large = large || other->state_->deferring();
    }
    if (large) return State::finish_in_buckets(states, threads);
    for (const Aggregator* other : others) st.merge_counted(*other->state_);
    return st.finish_counted();
  }
  st.leave_counting();
  for (const Aggregator* other : others) other->settled();
  // Large uniqExact inputs are only counted at the end, bucket by bucket through one reused
  // table (UniqSet::union_size); building their union would allocate and fill the whole merged
  // set just to read its size. Small ones merge as usual.
  struct Deferred {
    size_t agg;
    uint32_t group;
    const UniqSet* set;
  };
  std::vector<Deferred> deferred;
  for (const Aggregator* other : others) {
    std::unique_ptr<State> holder;
    const State& os = State::general_layout(*other->state_, &holder);
    const LargePageVector<uint32_t> target = st.map_groups(os);
    for (size_t a = 0; a < st.specs.size(); ++a) {
      if (st.specs[a].kind != AggregateKind::kUniqExact) {
        st.merge_states(os, target, a);
        continue;
      }
      for (size_t og = 0; og < os.groups; ++og) {
        const UniqSet& set = os.aggs[a].sets[og];
        if (set.is_large()) {
          deferred.push_back({a, target[og], &set});
        } else {
          st.merge_group(a, target[og], os.aggs[a], og);
        }
      }
    }
  }
  std::vector<Column> out = finish();
  // Each group's large inputs side by side (their order does not change a union's size).
  std::sort(deferred.begin(), deferred.end(), [](const Deferred& x, const Deferred& y) {
    return std::tie(x.agg, x.group) < std::tie(y.agg, y.group);
  });
  std::vector<const UniqSet*> inputs;
  for (size_t at = 0; at < deferred.size();) {
    const size_t a = deferred[at].agg;
    const uint32_t g = deferred[at].group;
    inputs.assign({&st.aggs[a].sets[g]});
    for (; at < deferred.size() && deferred[at].agg == a && deferred[at].group == g; ++at)
      inputs.push_back(deferred[at].set);
    out[st.key_types.size() + a].values<uint64_t>()[g] = UniqSet::union_size(inputs);
  }
  return out;
}

std::vector<Column> Aggregator::finish() const {
  const State& st = settled();
  std::vector<Column> out;
  if (st.counting) return st.finish_counted();
  for (size_t k = 0; k < st.key_types.size(); ++k) {
    const DataType t = st.key_types[k];
    if (t.is_string_like()) {
      Column c(TypeId::kString);
      for (size_t g = 0; g < st.groups; ++g) {
        uint32_t id;
        std::memcpy(&id, st.keys.data() + g * st.key_width + st.key_offsets[k], 4);
        c.push_string(*st.pools[k].values[id]);
      }
      out.push_back(std::move(c));
    } else {
      Column c(t);
      c.resize_fixed(st.groups);
      const size_t w = t.width();
      if (w == st.key_width) {  // the only key: the encoded keys are the column
        if (st.groups > 0) std::memcpy(c.data.data(), st.keys.data(), st.groups * w);
      } else {
        for (size_t g = 0; g < st.groups; ++g)
          std::memcpy(c.data.data() + g * w, st.keys.data() + g * st.key_width + st.key_offsets[k],
                      w);
      }
      out.push_back(std::move(c));
    }
  }
  for (size_t a = 0; a < st.specs.size(); ++a) {
    const AggregateSpec& spec = st.specs[a];
    const AggState& s = st.aggs[a];
    Column c(spec.result_type);
    const size_t n = st.groups;
    switch (spec.kind) {
      case AggregateKind::kCount:
        c.resize_fixed(n);
        if (n > 0) std::memcpy(c.data.data(), s.count.data(), n * 8);
        break;
      case AggregateKind::kUniqExact:
        c.resize_fixed(n);
        for (size_t g = 0; g < n; ++g) c.values<uint64_t>()[g] = s.sets[g].size();
        break;
      case AggregateKind::kSum:
        c.resize_fixed(n);
        if (n > 0)
          std::memcpy(c.data.data(),
                      spec.result_type.is_float() ? static_cast<const void*>(s.sum_f.data())
                                                  : static_cast<const void*>(s.bits.data()),
                      n * 8);
        break;
      case AggregateKind::kAvg: {
        c.resize_fixed(n);
        const DataType at = spec.arg->type;
        for (size_t g = 0; g < n; ++g) {
          double sum = at.is_float()    ? s.sum_f[g]
                       : at.is_signed() ? static_cast<double>(static_cast<int64_t>(s.bits[g]))
                                        : static_cast<double>(s.bits[g]);
          c.values<double>()[g] = sum / static_cast<double>(s.count[g]);
        }
        break;
      }
      case AggregateKind::kMin:
      case AggregateKind::kMax:
        if (spec.result_type.id == TypeId::kString) {
          for (size_t g = 0; g < n; ++g) c.push_string(s.strings[g]);
        } else {
          c.resize_fixed(n);
          visit_fixed(spec.result_type, [&](auto tag) {
            using T = typename decltype(tag)::type;
            for (size_t g = 0; g < n; ++g)
              c.values<T>()[g] = s.has[g] ? from_order_bits<T>(s.bits[g]) : T{};
          });
        }
        break;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace shardlab::engine
