#include <zstd.h>

#include "shardlab/engine/codec.h"

namespace shardlab::engine {
namespace {

size_t zstd_bound(size_t raw_bytes) { return ZSTD_compressBound(raw_bytes); }

size_t zstd_compress(const char* raw, size_t raw_bytes, char* out, size_t capacity, int level) {
  // One context per thread: creating a ZSTD context per block costs more than compressing it.
  thread_local ZSTD_CCtx* context = ZSTD_createCCtx();
  return ZSTD_compressCCtx(context, out, capacity, raw, raw_bytes, level);
}

bool zstd_decompress(const char* payload, size_t payload_bytes, char* out, size_t raw_bytes) {
  thread_local ZSTD_DCtx* context = ZSTD_createDCtx();
  const size_t n = ZSTD_decompressDCtx(context, out, raw_bytes, payload, payload_bytes);
  return !ZSTD_isError(n) && n == raw_bytes;
}

}  // namespace

const CodecFunctions& zstd_codec() {
  static const CodecFunctions kFunctions{"ZSTD", zstd_bound, zstd_compress, zstd_decompress};
  return kFunctions;
}

}  // namespace shardlab::engine
