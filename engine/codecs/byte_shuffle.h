// Byte transposition of fixed-width elements: byte k of every element is stored together.
// Small integers in wide columns turn into runs of zero bytes, which LZ4 compresses to almost
// nothing and decompresses faster than the interleaved form.
#pragma once

#include <cstddef>

namespace shardlab::engine {

// REQUIRES: bytes % width == 0; src and dst do not overlap.
void byte_shuffle(const char* src, size_t bytes, size_t width, char* dst);
void byte_unshuffle(const char* src, size_t bytes, size_t width, char* dst);

}  // namespace shardlab::engine
