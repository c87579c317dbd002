#include "engine/common/large_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace shardlab::engine {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t mapped_length(size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }

void* map(size_t length) {
  void* block = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return block == MAP_FAILED ? nullptr : block;
}

}  // namespace

void* allocate_large(size_t bytes) {
  const size_t length = mapped_length(bytes);
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

void release_large(void* block, size_t bytes) noexcept { munmap(block, mapped_length(bytes)); }

}  // namespace shardlab::engine
