#include "sim/cache/memcached_model.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/errors.h"

namespace shardlab::sim::cache {

namespace {

// sizeof(item) on 64-bit Linux: three pointers, time, exptime, nbytes, refcount, flags, class,
// key length, padded to 8 (memcached.h, struct _stritem).
constexpr uint32_t kItemHeaderBytes = 48;
constexpr uint32_t kCasBytes = 8;
constexpr uint32_t kChunkAlign = 8;  // CHUNK_ALIGN_BYTES
constexpr uint32_t kMaxClasses = 63;  // MAX_NUMBER_OF_SLAB_CLASSES - 1
// The LRU maintainer's limits (settings.hot_lru_pct, warm_lru_pct, hot_max_factor,
// warm_max_factor) and lru_pull_tail's search depth.
constexpr uint64_t kHotPercent = 20;
constexpr uint64_t kWarmPercent = 40;
constexpr double kHotMaxFactor = 0.2;
constexpr double kWarmMaxFactor = 2.0;
constexpr int kPullTries = 5;
constexpr int kJuggleRounds = 500;
// slab_automove=1 (slab_automove.c): a window of 30 one-second samples, a page moves to a
// class that evicts when its COLD age is below 0.8x the oldest class's; a source keeps 2 pages;
// a class with more than 2.5 pages of free chunks for a whole window gives one back.
constexpr size_t kAutomoveWindow = 30;
constexpr double kAutomoveAgeRatio = 0.8;
constexpr uint64_t kMinPagesForSource = 2;
constexpr double kMinPagesFree = 2.5;
// Relative TTLs up to 30 days; larger ones are absolute Unix times (not used by traces).
constexpr uint32_t kMaxRelativeTtl = 60 * 60 * 24 * 30;

uint64_t mix(uint64_t key) {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdULL;
  key ^= key >> 33;
  return key;
}

}  // namespace

void MemcachedConfig::validate() const {
  if (!(growth_factor > 1.0)) {
    throw InputError(fmt::format("the growth factor must be above 1, got {}", growth_factor));
  }
  if (page_bytes < 1024) throw InputError("the slab page size must be at least 1 KiB");
  if (item_size_max > page_bytes) {
    throw InputError(fmt::format("the item size limit ({} bytes) cannot exceed the page ({} bytes)",
                                 item_size_max, page_bytes));
  }
  if (item_size_max < kItemHeaderBytes + min_chunk_data) {
    throw InputError("the item size limit is below the smallest chunk");
  }
  // Checked against the class table in the constructor too; here the plain minimum.
  if (memory_bytes < page_bytes) {
    throw InputError(fmt::format("the memory limit ({} bytes) is below one page ({} bytes)",
                                 memory_bytes, page_bytes));
  }
}

MemcachedModel::MemcachedModel(const MemcachedConfig& config) : config_(config) {
  config_.validate();
  // slabs_init: classes from sizeof(item) + -n, growing by the factor, up to half a page; the
  // last class is exactly half a page (slab_chunk_size_max).
  const uint32_t chunk_max = config_.page_bytes / 2;
  chunk_bytes_.push_back(0);
  per_page_.push_back(0);
  double size = kItemHeaderBytes + config_.min_chunk_data;
  while (chunk_bytes_.size() < kMaxClasses && size <= chunk_max / config_.growth_factor) {
    auto aligned = static_cast<uint32_t>(size);
    if (aligned % kChunkAlign) aligned += kChunkAlign - aligned % kChunkAlign;
    chunk_bytes_.push_back(aligned);
    per_page_.push_back(config_.page_bytes / aligned);
    size = aligned * config_.growth_factor;
  }
  chunk_bytes_.push_back(chunk_max);
  per_page_.push_back(config_.page_bytes / chunk_max);
  const size_t classes = chunk_bytes_.size();
  if (config_.memory_bytes < (classes - 1) * uint64_t{config_.page_bytes}) {
    throw InputError(fmt::format(
        "the memory limit ({} MiB) is below one page per slab class ({} classes of {} KiB pages)",
        config_.memory_bytes >> 20, classes - 1, config_.page_bytes >> 10));
  }
  classes_.resize(classes);
  class_stats_.resize(classes);
  for (size_t c = 1; c < classes; ++c) {
    class_stats_[c].chunk_bytes = chunk_bytes_[c];
    class_stats_[c].chunks_per_page = per_page_[c];
  }
  window_.assign(classes, std::vector<WindowSample>(kAutomoveWindow));
  evicted_before_.assign(classes, 0);
  index_keys_.assign(1024, 0);
  index_items_.assign(1024, kNone);
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

uint32_t MemcachedModel::find(uint64_t key) const {
  key = key ? key : 1;
  const uint64_t mask = index_keys_.size() - 1;
  for (uint64_t slot = mix(key) & mask;; slot = (slot + 1) & mask) {
    if (index_keys_[slot] == key) return index_items_[slot];
    if (index_keys_[slot] == 0) return kNone;
  }
}

void MemcachedModel::index_insert(uint64_t key, uint32_t item) {
  key = key ? key : 1;
  if ((index_used_ + 1) * 2 > index_keys_.size()) grow_index();
  const uint64_t mask = index_keys_.size() - 1;
  uint64_t slot = mix(key) & mask;
  while (index_keys_[slot] != 0 && index_keys_[slot] != key) slot = (slot + 1) & mask;
  if (index_keys_[slot] == 0) ++index_used_;
  index_keys_[slot] = key;
  index_items_[slot] = item;
}

void MemcachedModel::index_erase(uint64_t key) {
  key = key ? key : 1;
  const uint64_t mask = index_keys_.size() - 1;
  uint64_t slot = mix(key) & mask;
  while (index_keys_[slot] != key) {
    if (index_keys_[slot] == 0) return;
    slot = (slot + 1) & mask;
  }
  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  uint64_t hole = slot;
  for (uint64_t next = (hole + 1) & mask; index_keys_[next] != 0; next = (next + 1) & mask) {
    const uint64_t home = mix(index_keys_[next]) & mask;
    const bool movable = hole <= next ? (home <= hole || home > next) : (home <= hole && home > next);
    if (movable) {
      index_keys_[hole] = index_keys_[next];
      index_items_[hole] = index_items_[next];
      hole = next;
    }
  }
  index_keys_[hole] = 0;
  index_items_[hole] = kNone;
  --index_used_;
}

void MemcachedModel::grow_index() {
  std::vector<uint64_t> keys(index_keys_.size() * 2, 0);
  std::vector<uint32_t> items(keys.size(), kNone);
  const uint64_t mask = keys.size() - 1;
  for (size_t i = 0; i < index_keys_.size(); ++i) {
    if (index_keys_[i] == 0) continue;
    uint64_t slot = mix(index_keys_[i]) & mask;
    while (keys[slot] != 0) slot = (slot + 1) & mask;
    keys[slot] = index_keys_[i];
    items[slot] = index_items_[i];
  }
  index_keys_.swap(keys);
  index_items_.swap(items);
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
    if (expired(item)) {
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
          item.active = false;
          unlink_list(id);
          link_head(id, Lru::kWarm);
          ++removed;
        } else if (list.bytes > limit || now_ - item.time > max_age) {
          unlink_list(id);
          link_head(id, Lru::kCold);
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
          ++removed;
        }
        return removed;
    }
  }
  return removed;
}

// lru_maintainer_juggle for one class: HOT and WARM down to their limits and ages, ACTIVE items
// out of COLD's tail, until nothing moves.
void MemcachedModel::juggle(uint32_t cls) {
  if (!config_.lru_segmented) return;
  SlabClass& c = classes_[cls];
  const List& cold = c.lru[static_cast<int>(Lru::kCold)];
  const uint32_t cold_age = cold.tail == kNone ? 0 : now_ - items_[cold.tail].time;
  const auto hot_age = static_cast<uint32_t>(cold_age * kHotMaxFactor);
  const auto warm_age = static_cast<uint32_t>(cold_age * kWarmMaxFactor);
  const uint64_t total = c.lru[0].bytes + c.lru[1].bytes + c.lru[2].bytes;
  for (int round = 0; round < kJuggleRounds; ++round) {
    int moved = pull_tail(cls, Lru::kHot, total, hot_age, Pull::kJuggle);
    if (moved == 0) moved = pull_tail(cls, Lru::kWarm, total, warm_age, Pull::kJuggle);
    moved += pull_tail(cls, Lru::kCold, total, 0, Pull::kJuggle);
    if (moved == 0) break;
  }
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
    item.active = false;
    item.time = now_;
    unlink_list(id);
    link_head(id, Lru::kWarm);
  }
}

// ---- Slabs ----

bool MemcachedModel::new_page(uint32_t cls) {
  SlabClass& c = classes_[cls];
  uint32_t page = kNone;
  if (!global_pool_.empty()) {
    page = global_pool_.back();
    global_pool_.pop_back();
    --global_pages_;
  } else {
    // do_slabs_newslab: past the limit only a class without any page still gets one.
    if (pages_given_ * config_.page_bytes + config_.page_bytes > config_.memory_bytes &&
        !c.pages.empty()) {
      return false;
    }
    page = static_cast<uint32_t>(page_table_.size());
    page_table_.push_back({});
    ++pages_given_;
    stats_.memory_bytes = pages_given_ * config_.page_bytes;
  }
  Page& p = page_table_[page];
  p.cls = static_cast<uint8_t>(cls);
  p.first_chunk = static_cast<uint32_t>(chunk_owner_.size());
  chunk_owner_.resize(chunk_owner_.size() + per_page_[cls], kNone);
  // split_slab_page_into_freelist frees the chunks in address order onto a LIFO list.
  for (uint32_t i = 0; i < per_page_[cls]; ++i) c.free_chunks.push_back(p.first_chunk + i);
  c.pages.push_back(page);
  ++class_stats_[cls].pages;
  return true;
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
                                  uint32_t ttl_s) {
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
  chunk_owner_[chunk] = id;
  index_insert(key, id);
  link_head(id, config_.lru_segmented ? Lru::kHot : Lru::kCold);
  SlabClassStats& cs = class_stats_[cls];
  ++cs.items;
  cs.item_bytes += bytes;
  ++stats_.sets;
  juggle(cls);
  return StoreResult::kStored;
}

bool MemcachedModel::get(uint64_t key, uint32_t now_s) {
  tick(now_s);
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
  bump_on_hit(id);
  ++stats_.get_hits;
  return true;
}

StoreResult MemcachedModel::set(uint64_t key, uint32_t key_bytes, uint32_t value_bytes,
                                uint32_t ttl_s, uint32_t now_s) {
  tick(now_s);
  return store(key, key_bytes, value_bytes, ttl_s);
}

StoreResult MemcachedModel::add(uint64_t key, uint32_t key_bytes, uint32_t value_bytes,
                                uint32_t ttl_s, uint32_t now_s) {
  tick(now_s);
  const uint32_t id = find(key);
  if (id != kNone && !expired(items_[id])) {
    items_[id].time = now_;  // add on a live item refreshes it (do_item_update)
    return StoreResult::kNotStored;
  }
  return store(key, key_bytes, value_bytes, ttl_s);
}

bool MemcachedModel::remove(uint64_t key, uint32_t now_s) {
  tick(now_s);
  const uint32_t id = find(key);
  if (id == kNone) return false;
  const bool live = !expired(items_[id]);
  unlink(id);
  if (live) ++stats_.deletes;
  return live;
}

bool MemcachedModel::touch(uint64_t key, uint32_t ttl_s, uint32_t now_s) {
  tick(now_s);
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

// ---- Background work ----

void MemcachedModel::advance(uint32_t now_s) { tick(now_s); }

void MemcachedModel::tick(uint32_t now_s) {
  if (now_s <= now_) return;
  // One automover decision per elapsed second, each on that second's state.
  while (now_ < now_s) {
    ++now_;
    if (config_.slab_automove) automove();
    if (config_.crawler_interval_s > 0 && now_ >= next_crawl_s_) {
      crawl_expired();
      next_crawl_s_ = now_ + config_.crawler_interval_s;
    }
  }
}

// slab_automove_run: samples every class once per second into a 30-second window. A class that
// kept more than 2.5 pages of free chunks for the whole window returns a page to the global
// pool; otherwise, once the window has filled, a page moves from the class whose COLD tail is
// oldest (with more than two pages) to the class with the youngest tail that evicted in every
// sample, if that age is below 0.8x the oldest's.
void MemcachedModel::automove() {
  const size_t slot = window_fills_ % kAutomoveWindow;
  ++window_fills_;
  int source = -1;
  int destination = -1;
  uint64_t oldest_age = 0;
  uint64_t youngest_age = UINT64_MAX;
  int oldest = -1;
  int youngest = -1;
  bool youngest_evicting = false;
  for (uint32_t cls = 1; cls < classes_.size(); ++cls) {
    const SlabClassStats& cs = class_stats_[cls];
    const SlabClass& c = classes_[cls];
    WindowSample& sample = window_[cls][slot];
    sample = {};
    sample.evicted = cs.evictions > evicted_before_[cls];
    evicted_before_[cls] = cs.evictions;
    const List& cold = c.lru[static_cast<int>(Lru::kCold)];
    sample.age = cold.tail == kNone ? 0 : now_ - items_[cold.tail].time;
    const bool excess_free = c.free_chunks.size() > cs.chunks_per_page * kMinPagesFree;
    sample.excess_free = excess_free;
    uint64_t age_sum = 0;
    size_t evicted_seen = 0;
    size_t excess_seen = 0;
    for (const WindowSample& s : window_[cls]) {
      age_sum += s.age;
      evicted_seen += s.evicted;
      excess_seen += s.excess_free;
    }
    const uint64_t age = age_sum / kAutomoveWindow;
    if (excess_free && excess_seen >= kAutomoveWindow) {
      source = static_cast<int>(cls);
      destination = 0;
      break;
    }
    if (age > oldest_age && cs.pages > kMinPagesForSource) {
      oldest = static_cast<int>(cls);
      oldest_age = age;
    }
    if (age < youngest_age && cs.pages != 0 && evicted_seen >= kAutomoveWindow) {
      youngest = static_cast<int>(cls);
      youngest_age = age;
      youngest_evicting = sample.evicted;
    }
  }
  if (destination == 0) {
    move_page(static_cast<uint32_t>(source), 0);
    return;
  }
  if (window_fills_ < kAutomoveWindow) return;
  if (youngest != -1 && oldest != -1 && youngest_evicting &&
      static_cast<double>(youngest_age) < static_cast<double>(oldest_age) * kAutomoveAgeRatio) {
    move_page(static_cast<uint32_t>(oldest), static_cast<uint32_t>(youngest));
  }
}

// slab_rebalance: the source's first page is emptied. Its live items are rescued into the
// class's other free chunks while there are some, and evicted otherwise; the page then goes to
// the destination class, or to the global pool (destination 0).
void MemcachedModel::move_page(uint32_t from, uint32_t to) {
  SlabClass& source = classes_[from];
  if (source.pages.empty() || from == to) return;
  const uint32_t page = source.pages.front();
  source.pages.erase(source.pages.begin());
  Page& p = page_table_[page];
  const uint32_t first = p.first_chunk;
  const uint32_t count = per_page_[from];
  // The page's free chunks leave the free list first, so no rescue lands in the page itself.
  auto& free = source.free_chunks;
  free.erase(std::remove_if(free.begin(), free.end(),
                            [&](uint32_t chunk) { return chunk >= first && chunk < first + count; }),
             free.end());
  for (uint32_t chunk = first; chunk < first + count; ++chunk) {
    const uint32_t id = chunk_owner_[chunk];
    if (id == kNone) continue;
    chunk_owner_[chunk] = kNone;
    Item& item = items_[id];
    if (!free.empty() && !expired(item)) {
      item.chunk = free.back();
      free.pop_back();
      chunk_owner_[item.chunk] = id;
      continue;
    }
    // Evicted (or reclaimed if expired): the chunk is not returned to the free list.
    if (expired(item)) {
      ++class_stats_[from].expired_reclaimed;
      ++stats_.expired_reclaimed;
    } else {
      ++class_stats_[from].evictions;
      ++stats_.evictions;
    }
    unlink_list(id);
    index_erase(item.key);
    --class_stats_[from].items;
    class_stats_[from].item_bytes -= item.bytes;
    free_items_.push_back(id);
  }
  --class_stats_[from].pages;
  ++class_stats_[from].pages_moved_out;
  ++stats_.pages_moved;
  if (to == 0) {
    global_pool_.push_back(page);
    ++global_pages_;
    return;
  }
  ++class_stats_[to].pages_moved_in;
  // The page is re-cut for its new class.
  SlabClass& destination = classes_[to];
  p.cls = static_cast<uint8_t>(to);
  p.first_chunk = static_cast<uint32_t>(chunk_owner_.size());
  chunk_owner_.resize(chunk_owner_.size() + per_page_[to], kNone);
  for (uint32_t i = 0; i < per_page_[to]; ++i) destination.free_chunks.push_back(p.first_chunk + i);
  destination.pages.push_back(page);
  ++class_stats_[to].pages;
}

// The LRU crawler: every expired item is reclaimed, whichever list it is in.
void MemcachedModel::crawl_expired() {
  for (uint32_t cls = 1; cls < classes_.size(); ++cls) {
    for (int lru = 0; lru < 3; ++lru) {
      uint32_t id = classes_[cls].lru[lru].tail;
      while (id != kNone) {
        const uint32_t prev = items_[id].prev;
        if (expired(items_[id])) {
          ++class_stats_[cls].expired_reclaimed;
          ++stats_.expired_reclaimed;
          unlink(id);
        }
        id = prev;
      }
    }
  }
}

}  // namespace shardlab::sim::cache
