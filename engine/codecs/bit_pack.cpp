#include "engine/codecs/bit_pack.h"

#include <algorithm>
#include <cstring>

namespace shardlab::engine {

unsigned packed_bits_for(const uint8_t* data, size_t count) {
  uint8_t largest = 0;
  for (size_t at = 0; at < count; ++at) largest = std::max(largest, data[at]);
  return largest < 2 ? 1 : largest < 4 ? 2 : largest < 16 ? 4 : 0;
}

// The lanes are runs of `stride` values; only the last may be shorter, or empty.
void pack_bits(const uint8_t* values, size_t count, unsigned bits, uint8_t* packed) {
  const size_t stride = packed_bytes(count, bits);
  std::memset(packed, 0, stride);
  for (unsigned lane = 0; lane * bits < 8; ++lane) {
    const size_t begin = lane * stride;
    if (begin >= count) break;
    const size_t n = std::min(stride, count - begin);
    const unsigned shift = lane * bits;
    const uint8_t* __restrict src = values + begin;
    uint8_t* __restrict dst = packed;
    for (size_t at = 0; at < n; ++at) dst[at] = static_cast<uint8_t>(dst[at] | (src[at] << shift));
  }
}

void unpack_bits(const uint8_t* packed, size_t count, unsigned bits, uint8_t* values) {
  const size_t stride = packed_bytes(count, bits);
  const auto mask = static_cast<uint8_t>((1u << bits) - 1);
  for (unsigned lane = 0; lane * bits < 8; ++lane) {
    const size_t begin = lane * stride;
    if (begin >= count) break;
    const size_t n = std::min(stride, count - begin);
    const unsigned shift = lane * bits;
    const uint8_t* __restrict src = packed;
    uint8_t* __restrict dst = values + begin;
    for (size_t at = 0; at < n; ++at) dst[at] = static_cast<uint8_t>((src[at] >> shift) & mask);
  }
}

}  // namespace shardlab::engine
