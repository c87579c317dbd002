// memcached 1.6's memory settings (-m, -f, -n, -I, the page size, automove, the segmented LRU):
// what a scenario's cache section configures and the server model (sim/cache/memcached_model.h)
// runs, in one place so that both check them the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shardlab::cluster_config {

// sizeof(item) on 64-bit Linux: three pointers, time, exptime, nbytes, refcount, flags, class,
// key length, padded to 8 (memcached.h, struct _stritem).
inline constexpr uint32_t kItemHeaderBytes = 48;

struct MemcachedConfig {
  uint64_t memory_bytes = uint64_t{64} << 20;  // -m
  double growth_factor = 1.25;                 // -f
  uint32_t min_chunk_data = 48;                // -n: the smallest chunk is sizeof(item) + this
  uint32_t item_size_max = 1 << 20;            // -I
  uint32_t page_bytes = 1 << 20;               // slab_page_size
  bool slab_automove = true;                   // slab_reassign=1, slab_automove=1 (1.6's default)
  bool lru_segmented = true;                   // HOT/WARM/COLD (the default); false: one LRU
  uint32_t crawler_interval_s = 60;            // how often the LRU crawler sweeps expired items
  // How long one pass of the LRU maintainer thread over every class takes when it does not
  // sleep (while some class keeps moving items); its sleeps otherwise follow memcached's rules.
  uint32_t maintainer_pass_us = 20;

  // Throws InputError naming the setting: a growth factor <= 1, an item limit larger than a
  // page or below the smallest chunk, a memory limit below one page.
  void validate() const;
  // The chunk size of each slab class, memcached's slabs_init: from sizeof(item) + -n, growing
  // by the factor, 8-byte aligned, up to half a page; the last class is exactly half a page.
  // Index 0 is unused, as in memcached.
  std::vector<uint32_t> chunk_sizes() const;
  // The slab classes these settings make (memcached's slabs_init). memcached accepts a memory
  // limit below one page per class, but then gives each class its first page regardless, so
  // the server can use up to this many pages (`cache replay` warns about it).
  size_t slab_classes() const;
};

}  // namespace shardlab::cluster_config
