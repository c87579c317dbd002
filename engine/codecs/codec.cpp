#include "engine/codecs/codec.h"

#include <xxhash.h>

#include <cstring>

#include "engine/codecs/byte_shuffle.h"
#include "engine/common/errors.h"

namespace shardlab::engine {
namespace {

size_t none_bound(size_t raw_bytes) { return raw_bytes; }
size_t none_compress(const char* raw, size_t raw_bytes, char* out, size_t, int) {
  std::memcpy(out, raw, raw_bytes);
  return raw_bytes;
}
bool none_decompress(const char* payload, size_t payload_bytes, char* out, size_t raw_bytes) {
  if (payload_bytes != raw_bytes) return false;
  std::memcpy(out, payload, raw_bytes);
  return true;
}

template <typename T>
void put(char* at, T value) {
  std::memcpy(at, &value, sizeof(T));
}
template <typename T>
T get(const char* at) {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

}  // namespace

std::string CodecSpec::name() const {
  switch (kind) {
    case CodecKind::kNone: return "NONE";
    case CodecKind::kLZ4: return "LZ4";
    case CodecKind::kZSTD: return "ZSTD(" + std::to_string(level) + ")";
  }
  return "?";
}

const CodecFunctions& codec_functions(CodecKind kind) {
  static const CodecFunctions kNone{"NONE", none_bound, none_compress, none_decompress};
  switch (kind) {
    case CodecKind::kLZ4: return lz4_codec();
    case CodecKind::kZSTD: return zstd_codec();
    case CodecKind::kNone: break;
  }
  return kNone;
}

size_t compress_block(const CodecSpec& spec, const char* raw, size_t raw_bytes,
                      size_t shuffle_width, PodVector<char>* out) {
  const CodecFunctions& codec = codec_functions(spec.kind);
  thread_local PodVector<char> shuffled;
  const char* input = raw;
  if (shuffle_width > 1) {
    shuffled.resize(raw_bytes);
    byte_shuffle(raw, raw_bytes, shuffle_width, shuffled.data());
    input = shuffled.data();
  }
  const size_t start = out->size();
  out->resize(start + kBlockHeaderBytes + codec.bound(raw_bytes));
  char* block = out->data() + start;
  const size_t payload =
      codec.compress(input, raw_bytes, block + kBlockHeaderBytes, codec.bound(raw_bytes), spec.level);
  SHARDLAB_ASSERT(payload > 0 || raw_bytes == 0, "{} failed on {} bytes", codec.name, raw_bytes);
  put<uint8_t>(block + 8, static_cast<uint8_t>(spec.kind));
  put<uint8_t>(block + 9, static_cast<uint8_t>(shuffle_width));
  put<uint32_t>(block + 10, static_cast<uint32_t>(payload));
  put<uint32_t>(block + 14, static_cast<uint32_t>(raw_bytes));
  put<uint64_t>(block, XXH3_64bits(block + 8, kBlockHeaderBytes - 8 + payload));
  out->resize(start + kBlockHeaderBytes + payload);
  return kBlockHeaderBytes + payload;
}

BlockHeader read_block_header(const char* block, size_t available, const std::string& file,
                              uint64_t offset) {
  if (available < kBlockHeaderBytes)
    throw CorruptionError(fmt::format("{}: truncated compressed block at offset {}: expected a "
                                      "{}-byte header, {} bytes remain",
                                      file, offset, kBlockHeaderBytes, available));
  BlockHeader header{get<uint64_t>(block), static_cast<CodecKind>(get<uint8_t>(block + 8)),
                     get<uint8_t>(block + 9), get<uint32_t>(block + 10), get<uint32_t>(block + 14)};
  if (header.payload_bytes > available - kBlockHeaderBytes)
    throw CorruptionError(fmt::format("{}: truncated compressed block at offset {}: expected {} "
                                      "payload bytes, {} remain",
                                      file, offset, header.payload_bytes,
                                      available - kBlockHeaderBytes));
  const uint64_t actual = XXH3_64bits(block + 8, kBlockHeaderBytes - 8 + header.payload_bytes);
  if (actual != header.checksum)
    throw CorruptionError(fmt::format("{}: checksum mismatch in compressed block at offset {}: "
                                      "expected {:016x}, actual {:016x}",
                                      file, offset, header.checksum, actual));
  if (static_cast<uint8_t>(header.codec) > 2)
    throw CorruptionError(
        fmt::format("{}: unknown codec {} at offset {}", file, int(header.codec), offset));
  return header;
}

void decompress_block_into(const BlockHeader& header, const char* block, char* out,
                           const std::string& file, uint64_t offset) {
  const CodecFunctions& codec = codec_functions(header.codec);
  const char* payload = block + kBlockHeaderBytes;
  bool ok;
  if (header.shuffle_width > 1) {
    thread_local PodVector<char> shuffled;
    shuffled.resize(header.raw_bytes);
    ok = codec.decompress(payload, header.payload_bytes, shuffled.data(), header.raw_bytes);
    if (ok) byte_unshuffle(shuffled.data(), header.raw_bytes, header.shuffle_width, out);
  } else {
    ok = codec.decompress(payload, header.payload_bytes, out, header.raw_bytes);
  }
  if (!ok)
    throw CorruptionError(fmt::format("{}: {} block at offset {} does not decode to {} bytes", file,
                                      codec.name, offset, header.raw_bytes));
}

void decode_payload(const BlockHeader& header, const char* block, PodVector<char>* out,
                    const std::string& file, uint64_t offset) {
  const CodecFunctions& codec = codec_functions(header.codec);
  out->resize(header.raw_bytes);
  if (!codec.decompress(block + kBlockHeaderBytes, header.payload_bytes, out->data(), header.raw_bytes))
    throw CorruptionError(fmt::format("{}: {} block at offset {} does not decode to {} bytes", file,
                                      codec.name, offset, header.raw_bytes));
}

void decompress_block(const BlockHeader& header, const char* block, PodVector<char>* out,
                      const std::string& file, uint64_t offset) {
  out->resize(header.raw_bytes);
  decompress_block_into(header, block, out->data(), file, offset);
}

}  // namespace shardlab::engine
