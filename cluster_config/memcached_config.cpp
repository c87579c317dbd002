#include "cluster_config/memcached_config.h"

#include <fmt/format.h>

#include <cstddef>

#include "base/errors.h"

namespace shardlab::cluster_config {

namespace {

constexpr uint32_t kChunkAlign = 8;   // CHUNK_ALIGN_BYTES
constexpr uint32_t kMaxClasses = 63;  // MAX_NUMBER_OF_SLAB_CLASSES - 1

}  // namespace

std::vector<uint32_t> MemcachedConfig::chunk_sizes() const {
  const uint32_t chunk_max = page_bytes / 2;
  std::vector<uint32_t> sizes{0};
  double size = kItemHeaderBytes + min_chunk_data;
  while (sizes.size() < kMaxClasses && size <= chunk_max / growth_factor) {
    auto aligned = static_cast<uint32_t>(size);
    if (aligned % kChunkAlign) aligned += kChunkAlign - aligned % kChunkAlign;
    sizes.push_back(aligned);
    size = aligned * growth_factor;
  }
  sizes.push_back(chunk_max);
  return sizes;
}

size_t MemcachedConfig::slab_classes() const { return chunk_sizes().size() - 1; }

void MemcachedConfig::validate() const {
  if (!(growth_factor > 1.0)) {
    throw InputError(fmt::format("the growth factor must be above 1, got {}", growth_factor));
  }
  if (page_bytes < 1024) throw InputError("the slab page size must be at least 1 KiB");
  if (item_size_max > page_bytes) {
    throw InputError(fmt::format("the item size limit ({} bytes) cannot exceed the page ({} bytes)",
                                 item_size_max, page_bytes));
  }
  if (item_size_max < kItemHeaderBytes + min_chunk_data) {
    throw InputError("the item size limit is below the smallest chunk");
  }
  if (memory_bytes < page_bytes) {
    throw InputError(fmt::format("the memory limit ({} bytes) is below one page ({} bytes)",
                                 memory_bytes, page_bytes));
  }
}

}  // namespace shardlab::cluster_config
