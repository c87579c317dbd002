// Allocators of the engine's working arrays.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "shardlab/engine/large_pages.h"

namespace shardlab::engine {

// An allocator that leaves new elements uninitialised, so resize() before an overwrite does
// not pay for zeroing, and takes blocks of `kLargeBytes` and more from allocate_large.
template <typename T, size_t kLargeBytes>
struct UninitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitAllocator<U, kLargeBytes>;
  };
  UninitAllocator() noexcept = default;
  template <typename U>
  UninitAllocator(const UninitAllocator<U, kLargeBytes>&) noexcept {}

  T* allocate(size_t count) {
    if (count > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    if (count * sizeof(T) < kLargeBytes) return std::allocator<T>::allocate(count);
    return static_cast<T*>(allocate_large(count * sizeof(T)));
  }
  void deallocate(T* block, size_t count) noexcept {
    if (count * sizeof(T) < kLargeBytes) {
      std::allocator<T>::deallocate(block, count);
    } else {
      release_large(block, count * sizeof(T));
    }
  }
  template <typename U>
  void construct(U* ptr) noexcept {
    ::new (static_cast<void*>(ptr)) U;
  }
  template <typename U, typename... Args>
  void construct(U* ptr, Args&&... args) {
    ::new (static_cast<void*>(ptr)) U(std::forward<Args>(args)...);
  }
};

// Columns and per-block scratch (PodVector) of this many bytes or more are mapped by
// allocate_large. A query's output of a million groups is written once into fresh memory:
// in 4 KiB pages that is a fault per page (two thousand for an 8 MB column), in 2 MiB pages
// four, and a block released by a finished hash table is reused with no fault at all. The
// simulator's column blocks, at most a few megabytes, stay below the bar: mapping those cost
// it about a tenth of its time when the bar was kLargeAllocationBytes.
inline constexpr size_t kLargeColumnBytes =
    kLargeAllocationBytes == SIZE_MAX ? SIZE_MAX : size_t{4} << 20;

template <typename T>
using DefaultInitAllocator = UninitAllocator<T, kLargeColumnBytes>;

// Big, randomly probed working arrays (hash tables, aggregate states) are mapped from
// kLargeAllocationBytes on: random probes are what gains most from fewer TLB misses.
template <typename T>
using LargePageAllocator = UninitAllocator<T, kLargeAllocationBytes>;

template <typename T>
using LargePageVector = std::vector<T, LargePageAllocator<T>>;

}  // namespace shardlab::engine
