#include "sim/cache/memcached_model.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/errors.h"

namespace shardlab::sim::cache {

using cluster_config::kItemHeaderBytes;

namespace {

constexpr uint32_t kCasBytes = 8;
// The LRU maintainer's limits (settings.hot_lru_pct, warm_lru_pct, hot_max_factor,
// warm_max_factor) and lru_pull_tail's search depth.
constexpr uint64_t kHotPercent = 20;
constexpr uint64_t kWarmPercent = 40;
constexpr double kHotMaxFactor = 0.2;
constexpr double kWarmMaxFactor = 2.0;
constexpr int kPullTries = 5;
constexpr int kJuggleRounds = 500;
// Relative TTLs up to 30 days; larger ones are absolute Unix times (not used by traces).
constexpr uint32_t kMaxRelativeTtl = 60 * 60 * 24 * 30;

uint64_t mix(uint64_t key) {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdULL;
  key ^= key >> 33;
  return key;
}

}  // namespace

MemcachedModel::MemcachedModel(const MemcachedConfig& config) : config_(config) {
  config_.validate();
  chunk_bytes_ = config_.chunk_sizes();
  for (const uint32_t bytes : chunk_bytes_) per_page_.push_back(bytes ? config_.page_bytes / bytes : 0);
  const size_t classes = chunk_bytes_.size();
  classes_.resize(classes);
  class_stats_.resize(classes);
  for (size_t c = 1; c < classes; ++c) {
    class_stats_[c].chunk_bytes = chunk_bytes_[c];
    class_stats_[c].chunks_per_page = per_page_[c];
  }
  window_.assign(classes, std::vector<WindowSample>(kAutomoveWindow));
  automove_before_.assign(classes, {});
  juggle_wait_us_.assign(classes, 0);
  juggle_backoff_us_.assign(classes, 0);
  index_.assign(1024, IndexSlot{0, kNone});
  next_crawl_s_ = config_.crawler_interval_s;
}

uint64_t MemcachedModel::item_bytes(uint32_t key_bytes, uint32_t value_bytes) {
  return uint64_t{kItemHeaderBytes} + key_bytes + 1 + value_bytes + 2 + kCasBytes;
}

uint32_t MemcachedModel::class_of(uint64_t bytes) const {
  if (bytes > config_.item_size_max) return 0;
  const auto it = std::lower_bound(chunk_bytes_.begin() + 1, chunk_bytes_.end(), bytes);
  // Items above half a page are chunked by memcached; here they take one chunk of the largest
  // class, an approximation only for values over 512 KiB.
  if (it == chunk_bytes_.end()) return static_cast<uint32_t>(chunk_bytes_.size() - 1);
  return static_cast<uint32_t>(it - chunk_bytes_.begin());
}

// ---- The key index: open addressing over 64-bit keys (0 is stored as 1). ----
// Key and item share a slot, so that a lookup touches one cache line.

uint32_t MemcachedModel::find(uint64_t key) const {
  key = key ? key : 1;
  const uint64_t mask = index_.size() - 1;
  for (uint64_t slot = mix(key) & mask;; slot = (slot + 1) & mask) {
    if (index_[slot].key == key) return index_[slot].item;
    if (index_[slot].key == 0) return kNone;
  }
}

void MemcachedModel::index_insert(uint64_t key, uint32_t item) {
  key = key ? key : 1;
  if ((index_used_ + 1) * 2 > index_.size()) grow_index();
  const uint64_t mask = index_.size() - 1;
  uint64_t slot = mix(key) & mask;
  while (index_[slot].key != 0 && index_[slot].key != key) slot = (slot + 1) & mask;
  if (index_[slot].key == 0) ++index_used_;
  index_[slot] = {key, item};
}

void MemcachedModel::index_erase(uint64_t key) {
  key = key ? key : 1;
  const uint64_t mask = index_.size() - 1;
  uint64_t slot = mix(key) & mask;
  while (index_[slot].key != key) {
    if (index_[slot].key == 0) return;
    slot = (slot + 1) & mask;
  }
  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  uint64_t hole = slot;
  for (uint64_t next = (hole + 1) & mask; index_[next].key != 0; next = (next + 1) & mask) {
    const uint64_t home = mix(index_[next].key) & mask;
    const bool movable = hole <= next ? (home <= hole || home > next) : (home <= hole && home > next);
    if (movable) {
      index_[hole] = index_[next];
      hole = next;
    }
  }
  index_[hole] = {0, kNone};
  --index_used_;
}

void MemcachedModel::grow_index() {
  std::vector<IndexSlot> grown(index_.size() * 2, IndexSlot{0, kNone});
  const uint64_t mask = grown.size() - 1;
  for (const IndexSlot& entry : index_) {
    if (entry.key == 0) continue;
    uint64_t slot = mix(entry.key) & mask;
    while (grown[slot].key != 0) slot = (slot + 1) & mask;
    grown[slot] = entry;
  }
  index_.swap(grown);
}

// ---- LRU lists ----

void MemcachedModel::link_head(uint32_t id, Lru lru) {
  Item& item = items_[id];
  List& list = classes_[item.cls].lru[static_cast<int>(lru)];
  item.lru = lru;
  item.prev = kNone;
  item.next = list.head;
  if (list.head != kNone) items_[list.head].prev = id;
  list.head = id;
  if (list.tail == kNone) list.tail = id;
  list.bytes += item.bytes;
  ++list.items;
}

void MemcachedModel::unlink_list(uint32_t id) {
  Item& item = items_[id];
  List& list = classes_[item.cls].lru[static_cast<int>(item.lru)];
  if (item.prev != kNone) items_[item.prev].next = item.next;
  else list.head = item.next;
  if (item.next != kNone) items_[item.next].prev = item.prev;
  else list.tail = item.prev;
  list.bytes -= item.bytes;
  --list.items;
}

void MemcachedModel::unlink(uint32_t id) {
  Item& item = items_[id];
  item.linked = false;
  unlink_list(id);
  index_erase(item.key);
  free_chunk(item.cls, item.chunk);
  SlabClassStats& cs = class_stats_[item.cls];
  --cs.items;
  cs.item_bytes -= item.bytes;
  free_items_.push_back(id);
}

// lru_pull_tail: looks at up to five items from the tail of one list. Expired items are reclaimed
// and the search goes on; otherwise the first live item decides: in HOT or WARM an ACTIVE item is
// rescued (HOT -> WARM, WARM -> WARM's head), an item over the list's byte limit or older than
// max_age goes to COLD; in COLD it is evicted (kEvict) or, if ACTIVE, goes back to WARM.
// Returns how many items it removed or moved.
int MemcachedModel::pull_tail(uint32_t cls, Lru lru, uint64_t total_bytes, uint32_t max_age,
                              Pull mode) {
  List& list = classes_[cls].lru[static_cast<int>(lru)];
  int removed = 0;
  uint32_t id = list.tail;
  for (int tries = kPullTries; tries > 0 && id != kNone; --tries) {
    Item& item = items_[id];
    const uint32_t prev = item.prev;
    // At the tails expiry is strict (exptime < now); a get treats exptime == now as expired too.
    if (item.exptime != 0 && item.exptime < now_) {
      ++class_stats_[cls].expired_reclaimed;
      ++stats_.expired_reclaimed;
      unlink(id);
      ++removed;
      id = prev;
      continue;
    }
    switch (lru) {
      case Lru::kHot:
      case Lru::kWarm: {
        const uint64_t limit =
            total_bytes * (lru == Lru::kHot ? kHotPercent : kWarmPercent) / 100;
        if (item.active) {
          // HOT: an ACTIVE item goes to WARM. WARM: it gets a second pass from WARM's head and
          // the walk goes on.
          item.active = false;
          unlink_list(id);
          link_head(id, Lru::kWarm);
          ++removed;
          if (lru == Lru::kWarm) {
            ++class_stats_[cls].moves_within_lru;
            id = prev;
            continue;
          }
          ++class_stats_[cls].moves_to_warm;
        } else if (list.bytes > limit || now_ - item.time > max_age) {
          unlink_list(id);
          link_head(id, Lru::kCold);
          ++class_stats_[cls].moves_to_cold;
          ++removed;
        }
        return removed;
      }
      case Lru::kCold:
        if (mode == Pull::kEvict) {
          ++class_stats_[cls].evictions;
          ++stats_.evictions;
          unlink(id);
          ++removed;
        } else if (item.active && config_.lru_segmented) {
          item.active = false;
          unlink_list(id);
          link_head(id, Lru::kWarm);
          ++class_stats_[cls].moves_to_warm;
          ++removed;
        }
        return removed;
    }
  }
  return removed;
}

// lru_maintainer_juggle for one class: HOT and WARM down to their limits and ages, ACTIVE items
// out of COLD's tail, until nothing moves. Returns the rounds that moved something.
int MemcachedModel::juggle(uint32_t cls) {
  if (!config_.lru_segmented) return 0;
  SlabClass& c = classes_[cls];
  const List& cold = c.lru[static_cast<int>(Lru::kCold)];
  const uint32_t cold_age = cold.tail == kNone ? 0 : now_ - items_[cold.tail].time;
  const auto hot_age = static_cast<uint32_t>(cold_age * kHotMaxFactor);
  const auto warm_age = static_cast<uint32_t>(cold_age * kWarmMaxFactor);
  const uint64_t total = c.lru[0].bytes + c.lru[1].bytes + c.lru[2].bytes;
  int rounds = 0;
  for (; rounds < kJuggleRounds; ++rounds) {
    int moved = pull_tail(cls, Lru::kHot, total, hot_age, Pull::kJuggle);
    if (moved == 0) moved = pull_tail(cls, Lru::kWarm, total, warm_age, Pull::kJuggle);
    moved += pull_tail(cls, Lru::kCold, total, 0, Pull::kJuggle);
    if (moved == 0) break;
  }
  return rounds;
}

// do_item_bump: the first hit marks an item FETCHED, the second ACTIVE; an ACTIVE item in HOT or
// WARM has its time refreshed, one in COLD goes to WARM (asynchronously in memcached).
void MemcachedModel::bump_on_hit(uint32_t id) {
  Item& item = items_[id];
  if (!config_.lru_segmented) {
    item.fetched = true;
    item.time = now_;
    unlink_list(id);
    link_head(id, Lru::kCold);
    return;
  }
  if (item.active) return;
  if (!item.fetched) {
    item.fetched = true;
    return;
  }
  item.active = true;
  if (item.lru != Lru::kCold) {
    item.time = now_;
  } else {
    // lru_bump_async: the maintainer moves it to WARM on its next pass.
    pending_bumps_.push_back({id, item.key});
  }
}

// lru_maintainer_bumps, then do_item_update: a queued item still ACTIVE in COLD goes to WARM's
// head with a fresh time; one evicted meanwhile is gone, one already moved just gets the time.
void MemcachedModel::apply_bumps() {
  for (const PendingBump& bump : pending_bumps_) {
    Item& item = items_[bump.item];
    if (!item.linked || item.key != bump.key) continue;
    item.time = now_;
    if (item.lru == Lru::kCold && item.active) {
      item.active = false;
      unlink_list(bump.item);
      link_head(bump.item, Lru::kWarm);
      ++class_stats_[item.cls].moves_to_warm;
    }
  }
  pending_bumps_.clear();
}

// ---- Slabs ----

bool MemcachedModel::new_page(uint32_t cls) {
  SlabClass& c = classes_[cls];
  uint32_t page = kNone;
  if (!global_pool_.empty()) {
    page = global_pool_.back();
    global_pool_.pop_back();
  } else {
    // do_slabs_newslab: past the limit only a class without any page still gets one.
    if ((page_table_.size() + 1) * uint64_t{config_.page_bytes} > config_.memory_bytes &&
        !c.pages.empty()) {
      return false;
    }
    page = static_cast<uint32_t>(page_table_.size());
    page_table_.push_back({});
    stats_.memory_bytes = page_table_.size() * uint64_t{config_.page_bytes};
  }
  cut_page(page, cls);
  return true;
}

// Gives `page` to `cls`, cut into that class's chunks. split_slab_page_into_freelist frees them
// in address order onto the class's LIFO list.
void MemcachedModel::cut_page(uint32_t page, uint32_t cls) {
  Page& p = page_table_[page];
  p.cls = static_cast<uint8_t>(cls);
  p.first_chunk = static_cast<uint32_t>(chunk_owner_.size());
  chunk_owner_.resize(chunk_owner_.size() + per_page_[cls], kNone);
  SlabClass& c = classes_[cls];
  for (uint32_t i = 0; i < per_page_[cls]; ++i) c.free_chunks.push_back(p.first_chunk + i);
  c.pages.push_back(page);
  ++class_stats_[cls].pages;
}

uint32_t MemcachedModel::allocate_chunk(uint32_t cls) {
  SlabClass& c = classes_[cls];
  if (c.free_chunks.empty() && !new_page(cls)) return kNone;
  const uint32_t chunk = c.free_chunks.back();
  c.free_chunks.pop_back();
  return chunk;
}

void MemcachedModel::free_chunk(uint32_t cls, uint32_t chunk) {
  chunk_owner_[chunk] = kNone;
  classes_[cls].free_chunks.push_back(chunk);
}

// ---- Operations ----

StoreResult MemcachedModel::store(uint64_t key, uint32_t key_bytes, uint32_t value_bytes,
                                  uint32_t ttl_s, bool add_only) {
  const uint64_t bytes = item_bytes(key_bytes, value_bytes);
  const uint32_t cls = class_of(bytes);
  if (cls == 0) {
    ++stats_.store_too_large;
    return StoreResult::kTooLarge;
  }
  // do_item_alloc_pull: up to ten rounds of evicting COLD's tail, or, with COLD empty, pushing
  // HOT's tail down, until a chunk is free.
  uint32_t chunk = kNone;
  for (int round = 0; round < 10 && chunk == kNone; ++round) {
    chunk = allocate_chunk(cls);
    if (chunk != kNone) break;
    if (pull_tail(cls, Lru::kCold, 0, 0, Pull::kEvict) <= 0) {
      if (!config_.lru_segmented) break;
      pull_tail(cls, Lru::kHot, 0, 0, Pull::kForceHotToCold);
    }
  }
  if (chunk == kNone) {
    ++class_stats_[cls].outofmemory;
    ++stats_.store_no_memory;
    // A failed set still removes the value it was replacing (do_store_item's error path).
    if (const uint32_t old = find(key); old != kNone && !add_only) unlink(old);
    return StoreResult::kNoMemory;
  }
  // The old item goes only once the new one has its memory (item_replace).
  if (const uint32_t old = find(key); old != kNone) unlink(old);
  uint32_t id;
  if (!free_items_.empty()) {
    id = free_items_.back();
    free_items_.pop_back();
  } else {
    id = static_cast<uint32_t>(items_.size());
    items_.emplace_back();
  }
  Item& item = items_[id];
  item.key = key;
  item.time = now_;
  item.exptime = ttl_s == 0 ? 0 : (ttl_s > kMaxRelativeTtl ? ttl_s : now_ + ttl_s);
  item.bytes = static_cast<uint32_t>(bytes);
  item.chunk = chunk;
  item.cls = static_cast<uint8_t>(cls);
  item.fetched = false;
  item.active = false;
  item.linked = true;
  chunk_owner_[chunk] = id;
  index_insert(key, id);
  link_head(id, config_.lru_segmented ? Lru::kHot : Lru::kCold);
  SlabClassStats& cs = class_stats_[cls];
  ++cs.items;
  cs.item_bytes += bytes;
  ++stats_.sets;
  return StoreResult::kStored;
}

bool MemcachedModel::get(uint64_t key, uint64_t now_us) {
  tick(now_us);
  const uint32_t id = find(key);
  if (id == kNone) {
    ++stats_.get_misses;
    return false;
  }
  if (expired(items_[id])) {
    unlink(id);
    ++stats_.get_misses;
    ++stats_.get_expired;
    return false;
  }
  ++class_stats_[items_[id].cls].hits_to[static_cast<int>(items_[id].lru)];
  bump_on_hit(id);
  ++stats_.get_hits;
  ++class_stats_[items_[id].cls].get_hits;
  return true;
}

StoreResult MemcachedModel::set(uint64_t key, uint32_t key_bytes, uint32_t value_bytes,
                                uint32_t ttl_s, uint64_t now_us) {
  tick(now_us);
  return store(key, key_bytes, value_bytes, ttl_s, false);
}

StoreResult MemcachedModel::add(uint64_t key, uint32_t key_bytes, uint32_t value_bytes,
                                uint32_t ttl_s, uint64_t now_us) {
  tick(now_us);
  const uint32_t id = find(key);
  if (id != kNone && !expired(items_[id])) {
    items_[id].time = now_;  // add on a live item refreshes it (do_item_update)
    return StoreResult::kNotStored;
  }
  return store(key, key_bytes, value_bytes, ttl_s, true);
}

bool MemcachedModel::remove(uint64_t key, uint64_t now_us) {
  tick(now_us);
  const uint32_t id = find(key);
  if (id == kNone) return false;
  const bool live = !expired(items_[id]);
  unlink(id);
  if (live) ++stats_.deletes;
  return live;
}

bool MemcachedModel::touch(uint64_t key, uint32_t ttl_s, uint64_t now_us) {
  tick(now_us);
  const uint32_t id = find(key);
  if (id == kNone) return false;
  if (expired(items_[id])) {
    unlink(id);
    return false;
  }
  bump_on_hit(id);
  items_[id].exptime = ttl_s == 0 ? 0 : (ttl_s > kMaxRelativeTtl ? ttl_s : now_ + ttl_s);
  ++stats_.touches;
  return true;
}

}  // namespace shardlab::sim::cache
