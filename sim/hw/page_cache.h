// The OS page cache of one node: LRU over fixed-size blocks of files. A read asks which of its
// bytes are cached (hits, charged at memory bandwidth) and which must come from disk (misses);
// the missing blocks are then cached. Writes go through the cache: the written blocks become
// cached (and dirty data still costs disk bandwidth, charged by the caller).
//
// Blocks are the unit of caching and eviction (64 KiB by default, the order of a ClickHouse
// compressed block), so a 1 GiB scan touches 16K entries, not 256K pages. A miss reads the whole
// block from disk, as the kernel's readahead does, even where the request covers part of it (the
// file's size is not known here, so a file's last block counts whole too); a hit costs only the
// bytes requested.
//
// Capacity follows the node's free memory (Memory::available()): when working sets claim memory
// the cache shrinks and evicts, when they release it the cache may grow again. A crash empties it.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace shardlab::sim {

using FileId = uint32_t;

class PageCache {
 public:
  static constexpr uint64_t kDefaultBlockBytes = 64 * 1024;

  // REQUIRES: block_bytes is a power of two.
  explicit PageCache(uint64_t capacity_bytes, uint64_t block_bytes = kDefaultBlockBytes);

  struct Access {
    uint64_t hit_bytes = 0;
    uint64_t miss_bytes = 0;
  };
  // Reads [offset, offset + length) of `file`: returns the bytes served from the cache (within
  // the range) and the bytes the disk must read (whole missing blocks), then makes every touched
  // block most recently used.
  Access read(FileId file, uint64_t offset, uint64_t length);
  // Writes through: the touched blocks become cached and most recently used.
  void write(FileId file, uint64_t offset, uint64_t length);
  // Forgets a file (deleted part) or everything (crash).
  void drop_file(FileId file);
  void clear();
  void set_capacity(uint64_t capacity_bytes);

  uint64_t capacity_bytes() const { return capacity_blocks_ * block_bytes_; }
  uint64_t used_bytes() const { return used_blocks_ * block_bytes_; }
  uint64_t hit_bytes() const { return hit_bytes_; }
  uint64_t miss_bytes() const { return miss_bytes_; }
  uint64_t evicted_blocks() const { return evicted_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Block {
    uint64_t key;  // file << 40 | block index
    uint32_t prev;
    uint32_t next;
  };
  static uint64_t key_of(FileId file, uint64_t block) { return uint64_t{file} << 40 | block; }
  // Marks `key` most recently used, inserting it (and evicting) if absent. True if it was cached.
  bool touch(uint64_t key);
  void unlink(uint32_t index);
  void push_front(uint32_t index);
  void evict_to(uint64_t blocks);
  void erase(uint32_t index);

  uint64_t block_bytes_;
  int block_shift_;
  uint64_t capacity_blocks_;
  uint64_t used_blocks_ = 0;
  std::vector<Block> blocks_;
  std::vector<uint32_t> free_;
  // Only looked up, never iterated: its order cannot leak into results.
  std::unordered_map<uint64_t, uint32_t> index_;
  uint32_t head_ = kNone;  // most recently used
  uint32_t tail_ = kNone;  // least recently used
  uint64_t hit_bytes_ = 0;
  uint64_t miss_bytes_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace shardlab::sim
