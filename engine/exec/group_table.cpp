#define XXH_INLINE_ALL
#include "engine/exec/group_table.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "engine/exec/key_hash.h"

namespace shardlab::engine {

GroupTable::GroupTable(std::vector<DataType> key_types) : key_types_(std::move(key_types)) {
  for (DataType t : key_types_) {
    key_offsets_.push_back(key_width_);
    key_width_ += t.is_string_like() ? 4 : t.width();
  }
  pools_.resize(key_types_.size());
  cached_dict_.resize(key_types_.size());
  cached_ids_.resize(key_types_.size());
  if (key_types_.empty()) find_or_insert(nullptr);
}

uint64_t GroupTable::hash(const uint8_t* key) const {
  if (key_width_ == 0) return 0;
  if (key_width_ <= 8) {
    uint64_t v = 0;
    std::memcpy(&v, key, key_width_);
    return mix64(v);
  }
  return XXH3_64bits(key, key_width_);
}

void GroupTable::grow() {
  const size_t capacity = slots_.empty() ? 1024 : slots_.size() * 2;
  LargePageVector<uint32_t> fresh(capacity, 0);
  const size_t mask = capacity - 1;
  for (size_t g = 0; g < groups_; ++g) {
    size_t at = hash(keys_.data() + g * key_width_) & mask;
    while (fresh[at] != 0) at = (at + 1) & mask;
    fresh[at] = static_cast<uint32_t>(g + 1);
  }
  slots_.swap(fresh);
}

uint32_t GroupTable::find_or_insert(const uint8_t* key) {
  if ((groups_ + 1) * 2 > slots_.size()) grow();
  const size_t mask = slots_.size() - 1;
  size_t at = hash(key) & mask;
  for (;;) {
    const uint32_t slot = slots_[at];
    if (slot == 0) break;
    if (key_width_ == 0 ||
        std::memcmp(keys_.data() + (slot - 1) * key_width_, key, key_width_) == 0)
      return slot - 1;
    at = (at + 1) & mask;
  }
  const auto g = static_cast<uint32_t>(groups_++);
  slots_[at] = g + 1;
  keys_.insert(keys_.end(), key, key + key_width_);
  return g;
}

// Puts `from`'s occupied slots into `to`, a table of zeroed slots.
template <typename From, typename To>
void GroupTable::rehash(const LargePageVector<From>& from, LargePageVector<To>* to) {
  const size_t mask = to->size() - 1;
  for (const From& slot : from) {
    if (slot.group_plus_one == 0) continue;
    size_t at = mix64(slot.key) & mask;
    while ((*to)[at].group_plus_one != 0) at = (at + 1) & mask;
    (*to)[at] = To{slot.key, slot.group_plus_one};
  }
}

template <typename Slot>
void GroupTable::grow_table(LargePageVector<Slot>* table) {
  LargePageVector<Slot> fresh(table->empty() ? 1024 : table->size() * 2, Slot{0, 0});
  rehash(*table, &fresh);
  table->swap(fresh);
}

// The first key wider than 32 bits moves the table to 64-bit slots for good.
void GroupTable::widen_keys() {
  LargePageVector<Slot64> fresh(std::max<size_t>(slots32_.size(), 1024), Slot64{0, 0});
  rehash(slots32_, &fresh);
  slots64_.swap(fresh);
  LargePageVector<Slot32>().swap(slots32_);
  wide_keys_ = true;
}

template <typename Slot>
uint32_t GroupTable::find_or_insert_in(LargePageVector<Slot>& table, uint64_t key, uint64_t hash) {
  const size_t mask = table.size() - 1;
  size_t at = hash & mask;
  for (;;) {
    Slot& slot = table[at];
    if (slot.group_plus_one == 0) break;
    if (slot.key == key) return slot.group_plus_one - 1;
    at = (at + 1) & mask;
  }
  const auto g = static_cast<uint32_t>(groups_++);
  table[at] = Slot{static_cast<decltype(Slot::key)>(key), g + 1};
  const size_t end = keys_.size();
  keys_.resize(end + 8);
  std::memcpy(keys_.data() + end, &key, 8);
  return g;
}

// Looks up `count` keys of `table`, prefetching each slot a few rows ahead of its probe.
template <typename Slot>
void GroupTable::find_or_insert_chunk(LargePageVector<Slot>& table, const uint64_t* batch,
                                      size_t count, uint32_t* out) {
  constexpr size_t kAhead = 8;
  // The table grows first, for the case that every key is new, so that it cannot be resized
  // while prefetched addresses are in flight.
  while ((groups_ + count) * 2 > table.size()) grow_table(&table);
  const size_t mask = table.size() - 1;
  for (size_t row = 0; row < count; ++row) {
    if (row + kAhead < count) __builtin_prefetch(&table[mix64(batch[row + kAhead]) & mask]);
    out[row] = find_or_insert_in(table, batch[row], mix64(batch[row]));
  }
}

void GroupTable::find_or_insert_u64_batch(const uint64_t* batch, size_t count, uint32_t* out) {
  // Chunks keep the worst case of find_or_insert_chunk's growth small: merging a million
  // groups, most of them already present, must not double a table that has room for them.
  constexpr size_t kChunk = 4096;
  for (size_t begin = 0; begin < count; begin += kChunk) {
    const size_t n = std::min(count - begin, kChunk);
    if (!wide_keys_) {
      uint64_t high = 0;
      for (size_t row = 0; row < n; ++row) high |= batch[begin + row];
      if (high >> 32) widen_keys();
    }
    if (wide_keys_) {
      find_or_insert_chunk(slots64_, batch + begin, n, out + begin);
    } else {
      find_or_insert_chunk(slots32_, batch + begin, n, out + begin);
    }
  }
}

void GroupTable::encode_keys(const std::vector<const Column*>& keys, size_t rows) {
  const size_t width = key_width_;
  scratch_.resize(rows * width);
  uint8_t* scratch = scratch_.data();
  for (size_t k = 0; k < keys.size(); ++k) {
    const Column& c = *keys[k];
    const size_t off = key_offsets_[k];
    if (c.type.id == TypeId::kLowCardinality) {
      if (cached_dict_[k] != c.dict) {
        cached_dict_[k] = c.dict;
        cached_ids_[k].resize(c.dict->size());
        for (uint32_t code = 0; code < c.dict->size(); ++code)
          cached_ids_[k][code] = pools_[k].id(c.dict->value(code));
      }
      const uint32_t* codes = c.values<uint32_t>();
      const uint32_t* ids = cached_ids_[k].data();
      for (size_t row = 0; row < rows; ++row)
        std::memcpy(scratch + row * width + off, &ids[codes[row]], 4);
    } else if (c.type.id == TypeId::kString) {
      for (size_t row = 0; row < rows; ++row) {
        const uint32_t id = pools_[k].id(c.string_at(row));
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
}

void GroupTable::find_groups(const std::vector<const Column*>& keys, size_t rows, uint32_t* gid) {
  encode_keys(keys, rows);
  const size_t width = key_width_;
  const uint8_t* scratch = scratch_.data();
  if (keys.size() == 1 && (key_types_[0].is_string_like() || width <= 2)) {
    // One key with a small value space (pooled string ids, 8/16-bit integers): a dense array
    // in front of the hash table resolves almost every row with one load.
    for (size_t row = 0; row < rows; ++row) {
      uint32_t id = 0;
      std::memcpy(&id, scratch + row * width, width);
      if (id >= direct_.size()) direct_.resize(std::max<size_t>(id + 1, direct_.size() * 2), 0);
      uint32_t g = direct_[id];
      if (g == 0) g = direct_[id] = find_or_insert(scratch + row * width) + 1;
      gid[row] = g - 1;
    }
  } else if (width == 8) {
    find_or_insert_u64_batch(reinterpret_cast<const uint64_t*>(scratch), rows, gid);
  } else {
    for (size_t row = 0; row < rows; ++row) gid[row] = find_or_insert(scratch + row * width);
  }
}

uint32_t GroupTable::find_or_insert_counted(uint32_t key) {
  uint32_t g;
  if (key_width_ == 8) {
    const uint64_t wide = key;
    find_or_insert_u64_batch(&wide, 1, &g);
  } else {
    g = find_or_insert(reinterpret_cast<const uint8_t*>(&key));
  }
  return g;
}

LargePageVector<uint32_t> GroupTable::map_groups(const GroupTable& other) {
  const bool has_strings = std::any_of(key_types_.begin(), key_types_.end(),
                                       [](DataType t) { return t.is_string_like(); });
  LargePageVector<uint32_t> target(other.groups_);
  if (key_types_.empty()) {
    std::fill(target.begin(), target.end(), 0);
  } else if (key_width_ == 8 && !has_strings) {
    find_or_insert_u64_batch(reinterpret_cast<const uint64_t*>(other.keys_.data()), other.groups_,
                             target.data());
  } else {
    PodVector<uint8_t> key(key_width_);
    for (size_t og = 0; og < other.groups_; ++og) {
      std::memcpy(key.data(), other.keys_.data() + og * other.key_width_, key_width_);
      // Pooled string ids differ between aggregators: translate through the strings.
      for (size_t k = 0; k < key_types_.size(); ++k) {
        if (!key_types_[k].is_string_like()) continue;
        uint32_t id;
        std::memcpy(&id, key.data() + key_offsets_[k], 4);
        id = pools_[k].id(*other.pools_[k].values[id]);
        std::memcpy(key.data() + key_offsets_[k], &id, 4);
      }
      if (key_width_ == 8) {
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

void GroupTable::reserve(size_t groups) {
  if (key_width_ != 8 || key_types_.size() != 1 || key_types_[0].is_string_like()) return;
  if (wide_keys_) {
    while (groups * 2 > slots64_.size()) grow_table(&slots64_);
  } else {
    while (groups * 2 > slots32_.size()) grow_table(&slots32_);
  }
}

std::vector<Column> GroupTable::key_columns() const {
  std::vector<Column> out;
  for (size_t k = 0; k < key_types_.size(); ++k) {
    const DataType t = key_types_[k];
    if (t.is_string_like()) {
      Column c(TypeId::kString);
      for (size_t g = 0; g < groups_; ++g) {
        uint32_t id;
        std::memcpy(&id, keys_.data() + g * key_width_ + key_offsets_[k], 4);
        c.push_string(*pools_[k].values[id]);
      }
      out.push_back(std::move(c));
    } else {
      Column c(t);
      c.resize_fixed(groups_);
      const size_t w = t.width();
      if (w == key_width_) {  // the only key: the encoded keys are the column
        if (groups_ > 0) std::memcpy(c.data.data(), keys_.data(), groups_ * w);
      } else {
        for (size_t g = 0; g < groups_; ++g)
          std::memcpy(c.data.data() + g * w, keys_.data() + g * key_width_ + key_offsets_[k], w);
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

size_t GroupTable::memory_bytes() const {
  size_t bytes = keys_.capacity() + slots_.capacity() * sizeof(uint32_t) +
                 slots32_.capacity() * sizeof(Slot32) + slots64_.capacity() * sizeof(Slot64) +
                 direct_.capacity() * sizeof(uint32_t);
  for (const StringPool& pool : pools_) {
    // A map node and the pointer to it per pooled string.
    bytes += pool.values.size() * (sizeof(std::string) + 48);
  }
  return bytes;
}

}  // namespace shardlab::engine
