// One memcached 1.6 server as it manages memory, so that its hit ratio is the real server's and
// not an ideal cache's (sim/cache/README.md has the rules and where each comes from):
//
//  * Slab classes. Memory comes in pages (1 MiB), each cut into chunks of one class; chunk sizes
//    grow by the growth factor (-f 1.25) from sizeof(item) + -n (48 + 48 = 96 bytes), 8-byte
//    aligned. An item takes the smallest chunk that holds header + key + 1 + value + 2 + CAS.
//  * Pages go to a class when it has no free chunk, while the memory limit (-m) allows; a class
//    with no page always gets its first. Once memory is full, a class only recycles its own
//    chunks, so a class can starve while another hoards pages (calcification), until the
//    automover (slab_automove=1) moves a page from the class with the oldest items to one that
//    evicts young ones.
//  * A segmented LRU per class: new items enter HOT; items fetched twice are ACTIVE. The LRU
//    maintainer keeps HOT to 20% and WARM to 40% of the class's bytes and moves items older than
//    0.2x (HOT) or 2x (WARM) the COLD tail's age to COLD; ACTIVE items in HOT or WARM go to (or
//    stay in) WARM, ACTIVE items at COLD's tail go back to WARM. Evictions take COLD's tail.
//  * Expiry: lazy on access, at the tail during LRU pulls, and by the LRU crawler.
//
// The server's background threads run here at the moments of the model's clock when they would
// (memcached_background.cpp): the LRU maintainer pass by pass, with its per-class backoff and
// the COLD hits it moves to WARM; the automover once per second of the server's clock; the
// crawler every `crawler_interval_s`. Keys are 64-bit hashes; the key's length still counts
// towards the item's size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cluster_config/memcached_config.h"

namespace shardlab::sim::cache {

// The server's settings are configuration words shared with scenarios/.
using cluster_config::MemcachedConfig;

enum class Lru : uint8_t { kHot, kWarm, kCold };

// One slab class, with memcached's own counters (`stats slabs`, `stats items`).
struct SlabClassStats {
  uint32_t chunk_bytes = 0;
  uint32_t chunks_per_page = 0;
  uint64_t pages = 0;
  uint64_t items = 0;
  uint64_t item_bytes = 0;  // the items' own sizes (not their chunks)
  uint64_t get_hits = 0;
  uint64_t hits_to[3] = {0, 0, 0};  // hits by the segment the item was in (hits_to_hot, ...)
  uint64_t moves_to_cold = 0;     // HOT or WARM tail demoted
  uint64_t moves_to_warm = 0;     // ACTIVE items out of HOT or COLD
  uint64_t moves_within_lru = 0;  // ACTIVE WARM tail items given another pass
  uint64_t evictions = 0;
  uint64_t reassign_evictions = 0;  // live items dropped with a page the automover moved
  uint64_t expired_reclaimed = 0;   // expired items found in an LRU pull or by the crawler
  uint64_t pages_moved_in = 0;
  uint64_t pages_moved_out = 0;
  uint64_t outofmemory = 0;  // stores that found no chunk at all
};

struct MemcachedStats {
  uint64_t get_hits = 0;
  uint64_t get_misses = 0;
  uint64_t get_expired = 0;  // misses on an item past its expiry time
  uint64_t sets = 0;
  uint64_t store_too_large = 0;
  uint64_t store_no_memory = 0;
  uint64_t deletes = 0;
  uint64_t touches = 0;
  uint64_t evictions = 0;
  uint64_t reassign_evictions = 0;
  uint64_t expired_reclaimed = 0;
  uint64_t pages_moved = 0;
  uint64_t memory_bytes = 0;  // pages given out
};

enum class StoreResult : uint8_t { kStored, kNotStored, kTooLarge, kNoMemory };

class MemcachedModel {
 public:
  explicit MemcachedModel(const MemcachedConfig& config);

  // Every operation takes the clock in microseconds since the server started (memcached's own
  // clock is its whole seconds); a clock that goes backwards is taken as unchanged. The
  // background work due by then runs first.
  bool get(uint64_t key, uint64_t now_us);  // true on a hit
  StoreResult set(uint64_t key, uint32_t key_bytes, uint32_t value_bytes, uint32_t ttl_s,
                  uint64_t now_us);
  StoreResult add(uint64_t key, uint32_t key_bytes, uint32_t value_bytes, uint32_t ttl_s,
                  uint64_t now_us);  // kNotStored when the key is there
  bool remove(uint64_t key, uint64_t now_us);  // memcached's delete; true if it was there
  bool touch(uint64_t key, uint32_t ttl_s, uint64_t now_us);
  // Runs the background work due by `now_us` (the maintainer, the automover, the crawler).
  void advance(uint64_t now_us);

  // The item size memcached charges: header + key + 1 + value + "\r\n" + CAS.
  static uint64_t item_bytes(uint32_t key_bytes, uint32_t value_bytes);
  // The class an item of `bytes` goes to (1-based as memcached numbers them), or 0 if too large.
  uint32_t class_of(uint64_t bytes) const;

  const MemcachedConfig& config() const { return config_; }
  const MemcachedStats& stats() const { return stats_; }
  // Index 0 is unused (memcached's global page pool); classes are 1..size()-1.
  const std::vector<SlabClassStats>& classes() const { return class_stats_; }
  uint64_t pages_free() const { return global_pool_.size(); }  // in the global pool (automove)
  // Items in one segment of a class's LRU (memcached's number_hot, number_warm, number_cold).
  uint64_t lru_items(uint32_t cls, Lru lru) const {
    return classes_[cls].lru[static_cast<int>(lru)].items;
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr size_t kAutomoveWindow = 30;  // slab_automove_window: samples, one a second

  struct Item {
    uint64_t key;
    uint32_t prev;  // towards the head (newer)
    uint32_t next;  // towards the tail (older)
    uint32_t time;  // last access, seconds
    uint32_t exptime;  // 0: never
    uint32_t bytes;
    uint32_t chunk;  // global chunk number
    uint8_t cls;
    Lru lru;
    bool fetched;
    bool active;
    bool linked;
  };
  struct PendingBump {
    uint32_t item;
    uint64_t key;
  };
  struct List {
    uint32_t head = kNone;
    uint32_t tail = kNone;
    uint64_t bytes = 0;
    uint64_t items = 0;
  };
  struct SlabClass {
    std::vector<uint32_t> free_chunks;  // LIFO, as memcached's slot list
    std::vector<uint32_t> pages;        // global page numbers, in the order they came
    List lru[3];
  };
  struct Page {
    uint32_t first_chunk = 0;  // chunks [first_chunk, first_chunk + per page) of chunk_owner_
    uint8_t cls = 0;
  };

  // Items.
  uint32_t find(uint64_t key) const;
  void index_insert(uint64_t key, uint32_t item);
  void index_erase(uint64_t key);
  void grow_index();
  bool expired(const Item& item) const { return item.exptime != 0 && item.exptime <= now_; }
  void unlink(uint32_t item);  // from its list, the index and its chunk
  void bump_on_hit(uint32_t item);
  StoreResult store(uint64_t key, uint32_t key_bytes, uint32_t value_bytes, uint32_t ttl_s,
                    bool add_only);

  // LRU lists.
  void link_head(uint32_t item, Lru lru);
  void unlink_list(uint32_t item);
  enum class Pull : uint8_t { kJuggle, kEvict, kForceHotToCold };
  int pull_tail(uint32_t cls, Lru lru, uint64_t total_bytes, uint32_t max_age, Pull mode);
  int juggle(uint32_t cls);
  void apply_bumps();

  // Slabs.
  uint32_t allocate_chunk(uint32_t cls);
  bool new_page(uint32_t cls);
  void cut_page(uint32_t page, uint32_t cls);
  void free_chunk(uint32_t cls, uint32_t chunk);

  // Background work.
  void tick(uint64_t now_us);
  void set_seconds(uint32_t now_s);
  uint32_t maintainer_pass();
  void automove();
  void move_page(uint32_t from, uint32_t to);
  void crawl_expired();

  MemcachedConfig config_;
  std::vector<uint32_t> chunk_bytes_;  // per class, [0] unused
  std::vector<uint32_t> per_page_;
  std::vector<SlabClass> classes_;
  std::vector<SlabClassStats> class_stats_;
  MemcachedStats stats_;

  std::vector<Item> items_;
  std::vector<uint32_t> free_items_;
  struct IndexSlot {
    uint64_t key;  // 0: empty
    uint32_t item;
  };
  std::vector<IndexSlot> index_;  // open addressing, linear probing
  uint64_t index_used_ = 0;

  std::vector<Page> page_table_;  // every page taken from memory (never returned)
  std::vector<uint32_t> chunk_owner_;  // item in each chunk, or kNone
  std::vector<uint32_t> global_pool_;

  uint32_t now_ = 0;  // memcached's current_time: whole seconds
  uint64_t clock_us_ = 0;
  // The LRU maintainer thread: when its next pass runs, its last sleep, each class's wait and
  // backoff, and the COLD hits it has yet to move to WARM.
  uint64_t next_pass_us_ = 0;
  uint32_t pass_sleep_us_ = 0;
  std::vector<uint32_t> juggle_wait_us_;
  std::vector<uint32_t> juggle_backoff_us_;
  std::vector<PendingBump> pending_bumps_;
  uint32_t last_automove_s_ = 0;
  uint32_t next_crawl_s_ = 0;
  // The automover's 30-second window per class, and the counters of its previous run.
  struct WindowSample {
    bool evicted = false;
    bool dirty = false;  // evicted, ran out of memory or gained a page in that second
    double evicted_ratio = 0;
    uint32_t age = 0;
  };
  struct AutomoveSnapshot {
    uint64_t evictions = 0;
    uint64_t outofmemory = 0;
    uint64_t pages = 0;
  };
  std::vector<std::vector<WindowSample>> window_;
  std::vector<AutomoveSnapshot> automove_before_;
  uint64_t window_fills_ = 0;
};

}  // namespace shardlab::sim::cache
