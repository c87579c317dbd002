// Allocators of the engine's working arrays.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "engine/common/large_pages.h"

namespace shardlab::engine {

// An allocator that leaves new elements uninitialised, so resize() before an overwrite
// does not pay for zeroing.
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  using std::allocator<T>::allocator;
  template <typename U>
  void construct(U* ptr) noexcept {
    ::new (static_cast<void*>(ptr)) U;
  }
  template <typename U, typename... Args>
  void construct(U* ptr, Args&&... args) {
    ::new (static_cast<void*>(ptr)) U(std::forward<Args>(args)...);
  }
};

// The allocator of big, randomly accessed working arrays: hash tables and aggregate states.
// Blocks of kLargeAllocationBytes and more come from allocate_large; new elements are left
// uninitialised, as in a PodVector. Sequentially read arrays (columns) stay on the heap: they
// gain little from fewer TLB misses, and mapping every column block of a few megabytes cost
// the simulator about a tenth of its time when they were mapped too.
template <typename T>
struct LargePageAllocator : DefaultInitAllocator<T> {
  template <typename U>
  struct rebind {
    using other = LargePageAllocator<U>;
  };
  using DefaultInitAllocator<T>::DefaultInitAllocator;
  T* allocate(size_t count) {
    if (count > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    if (count * sizeof(T) < kLargeAllocationBytes) return std::allocator<T>::allocate(count);
    return static_cast<T*>(allocate_large(count * sizeof(T)));
  }
  void deallocate(T* block, size_t count) noexcept {
    if (count * sizeof(T) < kLargeAllocationBytes) {
      std::allocator<T>::deallocate(block, count);
    } else {
      release_large(block, count * sizeof(T));
    }
  }
};

template <typename T>
using LargePageVector = std::vector<T, LargePageAllocator<T>>;

}  // namespace shardlab::engine
