#include "engine/codecs/byte_shuffle.h"

#include <cstdint>
#include <cstring>

namespace shardlab::engine {
namespace {

template <size_t W>
void shuffle_fixed(const char* src, size_t count, char* dst) {
  for (size_t elem = 0; elem < count; ++elem)
    for (size_t byte = 0; byte < W; ++byte) dst[byte * count + elem] = src[elem * W + byte];
}

// Unshuffle processes 8 elements at a time per plane so the compiler keeps the writes in
// registers; the plain loop runs at well under 1 GB/s.
template <size_t W>
void unshuffle_fixed(const char* src, size_t count, char* dst) {
  size_t elem = 0;
  for (; elem + 8 <= count; elem += 8) {
    uint8_t lanes[8][W];
    for (size_t byte = 0; byte < W; ++byte) {
      const char* plane = src + byte * count + elem;
      for (size_t lane = 0; lane < 8; ++lane) lanes[lane][byte] = static_cast<uint8_t>(plane[lane]);
    }
    std::memcpy(dst + elem * W, lanes, sizeof(lanes));
  }
  for (; elem < count; ++elem)
    for (size_t byte = 0; byte < W; ++byte) dst[elem * W + byte] = src[byte * count + elem];
}

}  // namespace

void byte_shuffle(const char* src, size_t bytes, size_t width, char* dst) {
  const size_t count = bytes / width;
  switch (width) {
    case 2: return shuffle_fixed<2>(src, count, dst);
    case 4: return shuffle_fixed<4>(src, count, dst);
    case 8: return shuffle_fixed<8>(src, count, dst);
    default: std::memcpy(dst, src, bytes);
  }
}

void byte_unshuffle(const char* src, size_t bytes, size_t width, char* dst) {
  const size_t count = bytes / width;
  switch (width) {
    case 2: return unshuffle_fixed<2>(src, count, dst);
    case 4: return unshuffle_fixed<4>(src, count, dst);
    case 8: return unshuffle_fixed<8>(src, count, dst);
    default: std::memcpy(dst, src, bytes);
  }
}

}  // namespace shardlab::engine
