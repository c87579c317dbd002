#include <lz4.h>

#include "shardlab/engine/codec.h"

namespace shardlab::engine {
namespace {

size_t lz4_bound(size_t raw_bytes) { return LZ4_compressBound(static_cast<int>(raw_bytes)); }

size_t lz4_compress(const char* raw, size_t raw_bytes, char* out, size_t capacity, int) {
  return LZ4_compress_default(raw, out, static_cast<int>(raw_bytes), static_cast<int>(capacity));
}

bool lz4_decompress(const char* payload, size_t payload_bytes, char* out, size_t raw_bytes) {
  const int n = LZ4_decompress_safe(payload, out, static_cast<int>(payload_bytes),
                                    static_cast<int>(raw_bytes));
  return n >= 0 && static_cast<size_t>(n) == raw_bytes;
}

}  // namespace

const CodecFunctions& lz4_codec() {
  static const CodecFunctions kFunctions{"LZ4", lz4_bound, lz4_compress, lz4_decompress};
  return kFunctions;
}

}  // namespace shardlab::engine
