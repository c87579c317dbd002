#include "shardlab/engine/large_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

namespace shardlab::engine {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
// Freed blocks kept for reuse, at most this many bytes in all: a query or a part merge that
// builds and drops tables of a few megabytes again and again gets its memory back without a
// system call, a fault or the kernel clearing pages (and without unmapping, which interrupts
// every other core running the process to flush its TLB).
constexpr size_t kCachedBytes = size_t{256} << 20;

size_t mapped_length(size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }

void* map(size_t length) {
  void* block = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return block == MAP_FAILED ? nullptr : block;
}

void* map_aligned(size_t length) {
  // Recent kernels align anonymous mappings of whole huge pages by themselves; otherwise map
  // one huge page more and give back the unaligned head and tail.
  auto* block = static_cast<char*>(map(length));
  if (block == nullptr) throw std::bad_alloc();
  if (reinterpret_cast<uintptr_t>(block) % kHugePage != 0) {
    munmap(block, length);
    auto* wider = static_cast<char*>(map(length + kHugePage));
    if (wider == nullptr) throw std::bad_alloc();
    const uintptr_t at = reinterpret_cast<uintptr_t>(wider);
    block = wider + (kHugePage - at % kHugePage) % kHugePage;
    if (block > wider) munmap(wider, static_cast<size_t>(block - wider));
    const char* wider_end = wider + length + kHugePage;
    if (block + length < wider_end)
      munmap(block + length, static_cast<size_t>(wider_end - (block + length)));
  }
#ifdef MADV_HUGEPAGE
  madvise(block, length, MADV_HUGEPAGE);  // advice only: a refusal leaves small pages
#endif
  return block;
}

struct FreeBlock {
  void* block;
  size_t length;
};

class BlockCache {
 public:
  // A cached block of exactly `length` bytes, or null.
  void* take(size_t length) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t at = blocks_.size(); at-- > 0;) {
      if (blocks_[at].length != length) continue;
      void* block = blocks_[at].block;
      blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(at));
      cached_ -= length;
      return block;
    }
    return nullptr;
  }
  // Keeps the block, dropping the oldest ones past kCachedBytes; returns what must be unmapped.
  std::vector<FreeBlock> keep(void* block, size_t length) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<FreeBlock> evicted;
    if (length > kCachedBytes) {
      evicted.push_back({block, length});
      return evicted;
    }
    blocks_.push_back({block, length});
    cached_ += length;
    size_t drop = 0;
    while (cached_ > kCachedBytes) {
      cached_ -= blocks_[drop].length;
      evicted.push_back(blocks_[drop++]);
    }
    blocks_.erase(blocks_.begin(), blocks_.begin() + static_cast<std::ptrdiff_t>(drop));
    return evicted;
  }

 private:
  std::mutex mutex_;
  std::vector<FreeBlock> blocks_;  // oldest first
  size_t cached_ = 0;
};

// Never destroyed: vectors in static storage may release their blocks after main() returns.
BlockCache& cache() {
  static auto* instance = new BlockCache;
  return *instance;
}

}  // namespace

void* allocate_large(size_t bytes) {
  const size_t length = mapped_length(bytes);
  if (void* block = cache().take(length)) return block;
  return map_aligned(length);
}

void release_large(void* block, size_t bytes) noexcept {
  try {
    for (const FreeBlock& old : cache().keep(block, mapped_length(bytes)))
      munmap(old.block, old.length);
  } catch (...) {  // no memory to remember the block: give it back
    munmap(block, mapped_length(bytes));
  }
}

}  // namespace shardlab::engine
