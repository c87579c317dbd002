// The memcached model's background threads: the LRU maintainer, the automover and the crawler
// (memcached_model.h), run at the moments of the model's clock when they would run.
#include <algorithm>

#include "sim/cache/memcached_model.h"

namespace shardlab::sim::cache {

namespace {

// The maintainer's sleep bounds (MIN_ and MAX_LRU_MAINTAINER_SLEEP).
constexpr uint32_t kMinMaintainerSleepUs = 1000;
constexpr uint32_t kMaxMaintainerSleepUs = 1'000'000 - 1;
// slab_automove=1 (slab_automove.c): a window of 30 one-second samples; a page moves to a class
// that evicts when its COLD age is below 0.8x the oldest class's; a source keeps 2 pages; a
// class with more than 2.5 pages of free chunks and a clean window gives one back.
constexpr double kAutomoveAgeRatio = 0.8;
constexpr uint64_t kMinPagesForSource = 2;
constexpr double kMinPagesFree = 2.5;

}  // namespace

void MemcachedModel::advance(uint64_t now_us) { tick(now_us); }

void MemcachedModel::tick(uint64_t now_us) {
  if (now_us < clock_us_) return;
  clock_us_ = now_us;
  while (next_pass_us_ <= now_us) {
    set_seconds(static_cast<uint32_t>(next_pass_us_ / 1'000'000));
    const uint32_t sleep_us = maintainer_pass();
    next_pass_us_ += std::max(sleep_us, config_.maintainer_pass_us);
  }
  set_seconds(static_cast<uint32_t>(now_us / 1'000'000));
}

// memcached's clock ticks once a second; the maintainer runs the automover and the crawler check
// once for each new second.
void MemcachedModel::set_seconds(uint32_t now_s) {
  while (now_ < now_s) {
    ++now_;
    if (config_.slab_automove) automove();
    if (config_.crawler_interval_s > 0 && now_ >= next_crawl_s_) {
      crawl_expired();
      next_crawl_s_ = now_ + config_.crawler_interval_s;
    }
  }
}

// One pass of lru_maintainer_thread. Each class has its own wait: a class whose juggle moved
// nothing waits 1 ms, then 1/8 longer after each idle juggle, up to a second; a class that moved
// halves its wait, down to none. The thread sleeps the shortest wait, and counts a pass without
// sleep as 1 ms of everyone's wait. So a class that sat idle is not looked at for up to a
// second when stores come back to it: a burst in a cold class fills its HOT segment, which is
// why a real server holds new items in HOT longer than the 20% limit suggests. Returns the sleep.
uint32_t MemcachedModel::maintainer_pass() {
  const uint32_t last_sleep = std::max<uint32_t>(pass_sleep_us_, kMinMaintainerSleepUs);
  pass_sleep_us_ = kMaxMaintainerSleepUs;
  for (uint32_t cls = 1; cls < classes_.size(); ++cls) {
    uint32_t& wait = juggle_wait_us_[cls];
    wait = wait > last_sleep ? wait - last_sleep : 0;
    if (wait > 0) {
      pass_sleep_us_ = std::min(pass_sleep_us_, wait);
      continue;
    }
    uint32_t& backoff = juggle_backoff_us_[cls];
    if (juggle(cls) == 0) {
      backoff = backoff != 0 ? backoff + backoff / 8 : kMinMaintainerSleepUs;
      backoff = std::min(backoff, kMaxMaintainerSleepUs);
    } else if (backoff > 0) {
      backoff /= 2;
      if (backoff < kMinMaintainerSleepUs) backoff = 0;
    }
    wait = backoff;
    pass_sleep_us_ = std::min(pass_sleep_us_, wait);
  }
  if (!pending_bumps_.empty()) {
    apply_bumps();
    pass_sleep_us_ = std::min(pass_sleep_us_, kMinMaintainerSleepUs);
  }
  return pass_sleep_us_;
}

// slab_automove_run, once per second of the server's clock, over a window of 30 samples per
// class (age of COLD's tail, whether it evicted, its share of all evictions, whether its pages,
// evictions or out-of-memory count grew). A class with more than 2.5 pages of free chunks and a
// clean window gives a page back to the global pool. Otherwise, after the 30th run, a page moves
// from the class with the oldest average age (and more than two pages) to the youngest class
// that evicted in more than half the window and in this second, if its age is below 0.8x.
void MemcachedModel::automove() {
  const size_t slot = window_fills_ % kAutomoveWindow;
  ++window_fills_;
  uint64_t evicted_total = 0;
  for (uint32_t cls = 1; cls < classes_.size(); ++cls) {
    evicted_total += class_stats_[cls].evictions - automove_before_[cls].evictions;
  }
  int oldest = -1;
  int youngest = -1;
  uint64_t oldest_age = 0;
  uint64_t youngest_age = UINT64_MAX;
  bool youngest_evicting = false;
  for (uint32_t cls = 1; cls < classes_.size(); ++cls) {
    const SlabClassStats& now = class_stats_[cls];
    AutomoveSnapshot& before = automove_before_[cls];
    WindowSample& sample = window_[cls][slot];
    sample = {};
    const uint64_t evicted = now.evictions - before.evictions;
    if (evicted > 0) {
      sample.evicted = true;
      sample.evicted_ratio = static_cast<double>(evicted) / static_cast<double>(evicted_total);
      sample.dirty = true;
    }
    if (now.outofmemory > before.outofmemory || now.pages > before.pages) sample.dirty = true;
    before = {now.evictions, now.outofmemory, now.pages};
    const List& cold = classes_[cls].lru[static_cast<int>(Lru::kCold)];
    sample.age = cold.tail == kNone ? 0 : now_ - items_[cold.tail].time;
    uint64_t age_sum = 0;
    size_t evicted_seen = 0;
    double ratio_sum = 0;
    bool dirty = false;
    for (const WindowSample& s : window_[cls]) {
      age_sum += s.age;
      evicted_seen += s.evicted;
      ratio_sum += s.evicted_ratio;
      dirty |= s.dirty;
    }
    const uint64_t age = age_sum / kAutomoveWindow;  // samples not yet taken count as 0
    if (classes_[cls].free_chunks.size() > now.chunks_per_page * kMinPagesFree && !dirty) {
      move_page(cls, 0);
      return;
    }
    if (age > oldest_age && now.pages > kMinPagesForSource) {
      oldest = static_cast<int>(cls);
      oldest_age = age;
    }
    if (age < youngest_age &&
        (evicted_seen > kAutomoveWindow / 2 || ratio_sum / kAutomoveWindow > 0.25)) {
      youngest = static_cast<int>(cls);
      youngest_age = age;
      youngest_evicting = sample.evicted;
    }
  }
  if (window_fills_ <= kAutomoveWindow) return;
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
      // Rescued: copied to a free chunk elsewhere and relinked at the head of its list.
      item.chunk = free.back();
      free.pop_back();
      chunk_owner_[item.chunk] = id;
      item.time = now_;
      const Lru lru = item.lru;
      unlink_list(id);
      link_head(id, lru);
      continue;
    }
    // Dropped (memcached's slab_reassign_evictions_nomem, not its `evictions`); the chunk goes
    // with the page.
    if (expired(item)) {
      ++class_stats_[from].expired_reclaimed;
      ++stats_.expired_reclaimed;
    } else {
      ++class_stats_[from].reassign_evictions;
      ++stats_.reassign_evictions;
    }
    item.linked = false;
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
    return;
  }
  ++class_stats_[to].pages_moved_in;
  cut_page(page, to);
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
