#include "sim/hw/page_cache.h"

#include <algorithm>
#include <bit>

#include "base/errors.h"

namespace shardlab::sim {

PageCache::PageCache(uint64_t capacity_bytes, uint64_t block_bytes)
    : block_bytes_(block_bytes),
      block_shift_(std::countr_zero(block_bytes)),
      capacity_blocks_(capacity_bytes / block_bytes) {
  SHARDLAB_ASSERT(std::has_single_bit(block_bytes), "page cache block {} is not a power of two",
                  block_bytes);
}

void PageCache::unlink(uint32_t index) {
  Block& b = blocks_[index];
  if (b.prev != kNone) blocks_[b.prev].next = b.next; else head_ = b.next;
  if (b.next != kNone) blocks_[b.next].prev = b.prev; else tail_ = b.prev;
}

void PageCache::push_front(uint32_t index) {
  Block& b = blocks_[index];
  b.prev = kNone;
  b.next = head_;
  if (head_ != kNone) blocks_[head_].prev = index;
  head_ = index;
  if (tail_ == kNone) tail_ = index;
}

void PageCache::erase(uint32_t index) {
  unlink(index);
  index_.erase(blocks_[index].key);
  free_.push_back(index);
  --used_blocks_;
}

void PageCache::evict_to(uint64_t blocks) {
  while (used_blocks_ > blocks) {
    erase(tail_);
    ++evicted_;
  }
}

bool PageCache::touch(uint64_t key) {
  const auto it = index_.find(key);
  if (it != index_.end()) {
    unlink(it->second);
    push_front(it->second);
    return true;
  }
  if (capacity_blocks_ == 0) return false;
  evict_to(capacity_blocks_ - 1);
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<uint32_t>(blocks_.size());
    blocks_.push_back({});
  }
  blocks_[index].key = key;
  push_front(index);
  index_.emplace(key, index);
  ++used_blocks_;
  return false;
}

PageCache::Access PageCache::read(FileId file, uint64_t offset, uint64_t length) {
  Access access;
  if (length == 0) return access;
  const uint64_t end = offset + length;
  for (uint64_t block = offset >> block_shift_; (block << block_shift_) < end; ++block) {
    const uint64_t start = std::max(offset, block << block_shift_);
    const uint64_t stop = std::min(end, (block + 1) << block_shift_);
    if (touch(key_of(file, block))) {
      access.hit_bytes += stop - start;
    } else {
      access.miss_bytes += block_bytes_;  // the disk reads the whole block (readahead)
    }
  }
  hit_bytes_ += access.hit_bytes;
  miss_bytes_ += access.miss_bytes;
  return access;
}

void PageCache::write(FileId file, uint64_t offset, uint64_t length) {
  const uint64_t end = offset + length;
  for (uint64_t block = offset >> block_shift_; (block << block_shift_) < end; ++block) {
    touch(key_of(file, block));
  }
}

void PageCache::drop_file(FileId file) {
  // Walk the LRU list (deterministic order) rather than the hash map.
  for (uint32_t index = head_; index != kNone;) {
    const uint32_t next = blocks_[index].next;
    if (blocks_[index].key >> 40 == file) erase(index);
    index = next;
  }
}

void PageCache::clear() {
  blocks_.clear();
  free_.clear();
  index_.clear();
  head_ = tail_ = kNone;
  used_blocks_ = 0;
}

void PageCache::set_capacity(uint64_t capacity_bytes) {
  capacity_blocks_ = capacity_bytes >> block_shift_;
  evict_to(capacity_blocks_);
}

}  // namespace shardlab::sim
