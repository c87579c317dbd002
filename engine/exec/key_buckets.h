// Keys set aside by bucket, for aggregations that count them later, bucket by bucket.
//
// Why: counting a million distinct keys in one hash table misses the cache on almost every
// row. Appending each key to its bucket instead is a sequential write into one of
// kBuckets open chunks (their ends fit in L1), and counting a bucket later probes a table a
// kBuckets-th of the size, which stays in cache. The bucket is the caller's to choose: the
// top bits of the key's hash, so each bucket is a disjoint slice of the key space.
//
// Memory: chunks of kChunkKeys keys are carved from blocks of kBlockKeys, which are large
// enough to be mapped in 2 MiB pages (shardlab/engine/large_pages.h). A fresh 4 KiB page costs a fault
// per page, and chunks taken from the heap bucket by bucket would touch thousands of them.
// At most one partly filled chunk per bucket is unused: 1 MiB for all buckets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "shardlab/engine/allocators.h"

namespace shardlab::engine {

class KeyBuckets {
 public:
  static constexpr unsigned kBucketBits = 8;
  static constexpr size_t kBuckets = size_t{1} << kBucketBits;
  static constexpr size_t kChunkKeys = 1024;
  static constexpr size_t kBlockKeys = size_t{1} << 20;  // 4 MiB

  KeyBuckets() = default;
  KeyBuckets(KeyBuckets&& other) noexcept { swap(other); }
  KeyBuckets& operator=(KeyBuckets&& other) noexcept {
    KeyBuckets taken(std::move(other));
    swap(taken);
    return *this;
  }
  KeyBuckets(const KeyBuckets& other) {
    buckets_.resize(other.buckets_.size());
    for (size_t bucket = 0; bucket < other.buckets_.size(); ++bucket)
      other.for_each_run(bucket, [&](std::span<const uint32_t> run) {
        for (uint32_t key : run) add_to(key, bucket);
      });
  }
  KeyBuckets& operator=(const KeyBuckets& other) {
    KeyBuckets copy(other);
    swap(copy);
    return *this;
  }

  // Adds keys[0..n) to buckets bucket_of(key) < kBuckets.
  template <typename K, typename BucketOf>
  void add(const K* keys, size_t n, BucketOf&& bucket_of) {
    if (buckets_.empty()) buckets_.resize(kBuckets);
    for (size_t idx = 0; idx < n; ++idx)
      add_to(static_cast<uint32_t>(keys[idx]), bucket_of(keys[idx]));
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Keys in `bucket`.
  size_t count(size_t bucket) const {
    if (buckets_.empty()) return 0;
    const Bucket& b = buckets_[bucket];
    if (b.chunks.empty()) return 0;
    return (b.chunks.size() - 1) * kChunkKeys + static_cast<size_t>(b.tail - b.chunks.back());
  }
  // Calls fn(std::span<const uint32_t>) for each run of `bucket`'s keys, in the order added.
  template <typename F>
  void for_each_run(size_t bucket, F&& fn) const {
    if (buckets_.empty()) return;
    const Bucket& b = buckets_[bucket];
    for (size_t idx = 0; idx < b.chunks.size(); ++idx) {
      const uint32_t* end = idx + 1 == b.chunks.size() ? b.tail : b.chunks[idx] + kChunkKeys;
      fn(std::span<const uint32_t>(b.chunks[idx], end));
    }
  }

  // Forgets every key and keeps the memory, for the keys that come next.
  void clear() {
    for (Bucket& b : buckets_) b = Bucket{};
    size_ = 0;
    used_chunks_ = 0;
  }
  // Forgets every key and frees the memory.
  void release() { KeyBuckets().swap(*this); }
  size_t memory_bytes() const {
    return blocks_.size() * kBlockKeys * sizeof(uint32_t) + buckets_.capacity() * sizeof(Bucket);
  }

 private:
  struct Bucket {
    uint32_t* tail = nullptr;   // where the bucket's next key goes
    uint32_t* limit = nullptr;  // the end of its open chunk
    std::vector<uint32_t*> chunks;
  };

  void add_to(uint32_t key, size_t bucket) {
    Bucket& b = buckets_[bucket];
    if (b.tail == b.limit) open_chunk(&b);
    *b.tail++ = key;
    ++size_;
  }

  void open_chunk(Bucket* b) {
    constexpr size_t kChunksPerBlock = kBlockKeys / kChunkKeys;
    if (used_chunks_ == blocks_.size() * kChunksPerBlock) blocks_.emplace_back(kBlockKeys);
    uint32_t* chunk = blocks_[used_chunks_ / kChunksPerBlock].data() +
                      (used_chunks_ % kChunksPerBlock) * kChunkKeys;
    ++used_chunks_;
    b->chunks.push_back(chunk);
    b->tail = chunk;
    b->limit = chunk + kChunkKeys;
  }

  void swap(KeyBuckets& other) noexcept {
    blocks_.swap(other.blocks_);
    buckets_.swap(other.buckets_);
    std::swap(used_chunks_, other.used_chunks_);
    std::swap(size_, other.size_);
  }

  std::vector<LargePageVector<uint32_t>> blocks_;  // moving a block keeps its address
  size_t used_chunks_ = 0;                         // chunks handed out from blocks_, in order
  std::vector<Bucket> buckets_;                    // empty, or kBuckets
  size_t size_ = 0;
};

}  // namespace shardlab::engine
