// The hash of aggregation keys of up to 8 bytes: murmur3's finalizer, whose top bits (which
// place the counting layout's slots and buckets) are as well mixed as its low ones.
#pragma once

#include <cstdint>

namespace shardlab::engine {

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDULL;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace shardlab::engine
