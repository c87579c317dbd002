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

}  // namespace shardlab::engine
