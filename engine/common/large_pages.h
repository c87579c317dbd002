// Memory for big working arrays (hash tables, aggregate states of a million groups), mapped in
// 2 MiB-aligned runs and offered to the kernel for transparent huge pages.
//
// Why: a query touches tens of megabytes of fresh memory. In 4 KiB pages each first touch is
// a page fault (about 1.5 us on a virtual machine), and a hash table probed at random across
// thousands of pages misses the TLB on most probes. A 2 MiB page costs one fault and one TLB
// entry. Where the kernel declines huge pages (THP set to "never") this is plain anonymous
// memory: same behaviour as before, no error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace shardlab::engine {

// Allocations of at least this many bytes are mapped here; smaller ones use the heap. Under
// AddressSanitizer everything stays on its heap, where overruns are caught.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr size_t kLargeAllocationBytes = SIZE_MAX;
#else
inline constexpr size_t kLargeAllocationBytes = size_t{2} << 20;
#endif

// `bytes` >= kLargeAllocationBytes. Throws std::bad_alloc when the mapping fails. The memory
// is uninitialised: a block released earlier may be handed out again.
void* allocate_large(size_t bytes);
// Returns a block from allocate_large(bytes), with the same `bytes`. Up to 256 MiB of released
// blocks are kept for reuse; older ones are unmapped.
void release_large(void* block, size_t bytes) noexcept;

// The allocator of big, randomly accessed working arrays: hash tables and aggregate states.
// Blocks of kLargeAllocationBytes and more come from allocate_large; new elements are left
// uninitialised, as in a PodVector. Sequentially read arrays (columns) stay on the heap: they
// gain little from fewer TLB misses, and mapping every column block of a few megabytes cost
// the simulator about a tenth of its time when they were mapped too.
template <typename T>
struct LargePageAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = LargePageAllocator<U>;
  };
  using std::allocator<T>::allocator;
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
  template <typename U>
  void construct(U* ptr) noexcept {
    ::new (static_cast<void*>(ptr)) U;
  }
  template <typename U, typename... Args>
  void construct(U* ptr, Args&&... args) {
    ::new (static_cast<void*>(ptr)) U(std::forward<Args>(args)...);
  }
};

template <typename T>
using LargePageVector = std::vector<T, LargePageAllocator<T>>;

}  // namespace shardlab::engine
