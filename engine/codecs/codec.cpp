#include "shardlab/engine/codec.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "engine/codecs/bit_pack.h"
#include "engine/codecs/byte_shuffle.h"
#include "base/errors.h"

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
    case CodecKind::kNone:
      return "NONE";
    case CodecKind::kLZ4:
      return "LZ4";
    case CodecKind::kZSTD:
      return "ZSTD(" + std::to_string(level) + ")";
  }
  return "?";
}

const CodecFunctions& codec_functions(CodecKind kind) {
  static const CodecFunctions kNone{"NONE", none_bound, none_compress, none_decompress};
  switch (kind) {
    case CodecKind::kLZ4:
      return lz4_codec();
    case CodecKind::kZSTD:
      return zstd_codec();
    case CodecKind::kNone:
      break;
  }
  return kNone;
}

size_t compress_block(const CodecSpec& spec, const char* raw, size_t raw_bytes,
                      size_t shuffle_width, PodVector<char>* out, bool allow_bit_packing) {
  const CodecFunctions& codec = codec_functions(spec.kind);
  const bool shuffled = shuffle_width > 1;
  const size_t count = shuffled ? raw_bytes / shuffle_width : 0;
  SHARDLAB_ASSERT(!shuffled || (shuffle_width <= 8 && count * shuffle_width == raw_bytes),
                  "cannot shuffle {} bytes in {}-byte elements", raw_bytes, shuffle_width);
  thread_local PodVector<char> planes;
  thread_local PodVector<char> packed;
  std::string descriptor;
  const char* input = raw;
  size_t input_bytes = raw_bytes;
  uint8_t layout = shuffled ? static_cast<uint8_t>(shuffle_width) : 0;
  const auto* raw_u8 = reinterpret_cast<const uint8_t*>(raw);
  const unsigned bits =
      shuffled || raw_bytes == 0 || !allow_bit_packing ? 0 : packed_bits_for(raw_u8, raw_bytes);
  if (bits != 0) {
    packed.resize(packed_bytes(raw_bytes, bits));
    pack_bits(raw_u8, raw_bytes, bits, reinterpret_cast<uint8_t*>(packed.data()));
    layout = static_cast<uint8_t>(kPackedLayout | bits);
    input = packed.data();
    input_bytes = packed.size();
  } else if (shuffled) {
    planes.resize(raw_bytes);
    byte_shuffle(raw, raw_bytes, shuffle_width, planes.data());
    uint8_t mask = 0;
    std::string values;
    packed.resize(raw_bytes);
    size_t packed_bytes = 0;
    for (size_t plane = 0; plane < shuffle_width; ++plane) {
      const char* p = planes.data() + plane * count;
      const bool constant =
          count > 0 && std::all_of(p, p + count, [&](char c) { return c == p[0]; });
      if (constant) {
        mask = static_cast<uint8_t>(mask | (1u << plane));
        values += p[0];
      } else {
        std::memcpy(packed.data() + packed_bytes, p, count);
        packed_bytes += count;
      }
    }
    descriptor = static_cast<char>(mask) + values;
    input = packed.data();
    input_bytes = packed_bytes;
  }
  const size_t start = out->size();
  const size_t head = kBlockHeaderBytes + descriptor.size();
  const size_t capacity = std::max(codec.bound(input_bytes), input_bytes);
  out->resize(start + head + capacity);
  char* block = out->data() + start;
  size_t payload = input_bytes == 0 ? 0
                                    : codec.compress(input, input_bytes, block + head,
                                                     codec.bound(input_bytes), spec.level);
  SHARDLAB_ASSERT(payload > 0 || input_bytes == 0, "{} failed on {} bytes", codec.name,
                  input_bytes);
  CodecKind kind = spec.kind;
  if (kind != CodecKind::kNone && payload * 8 > input_bytes * 7) {
    // Saving under an eighth is not worth decoding on every read: keep such blocks raw.
    kind = CodecKind::kNone;
    payload = input_bytes;
    std::memcpy(block + head, input, input_bytes);
  }
  put<uint8_t>(block + 8, static_cast<uint8_t>(kind));
  put<uint8_t>(block + 9, layout);
  put<uint32_t>(block + 10, static_cast<uint32_t>(payload));
  put<uint32_t>(block + 14, static_cast<uint32_t>(raw_bytes));
  std::memcpy(block + kBlockHeaderBytes, descriptor.data(), descriptor.size());
  put<uint64_t>(block, XXH3_64bits(block + 8, head - 8 + payload));
  out->resize(start + head + payload);
  return head + payload;
}

size_t claimed_block_bytes(const char* block, size_t available) {
  if (available < kBlockHeaderBytes + 1) return kBlockHeaderBytes + 1;
  const auto layout = get<uint8_t>(block + 9);
  size_t bytes = kBlockHeaderBytes + get<uint32_t>(block + 10);
  if (!(layout & kPackedLayout) && layout > 1)
    bytes += 1 + static_cast<size_t>(std::popcount(get<uint8_t>(block + kBlockHeaderBytes)));
  return bytes;
}

BlockHeader read_block_header(const char* block, size_t available, const std::string& file,
                              uint64_t offset) {
  auto truncated = [&](size_t expected) {
    return CorruptionError(
        fmt::format("{}: truncated compressed block at offset {}: expected {} bytes, {} remain",
                    file, offset, expected, available));
  };
  if (available < kBlockHeaderBytes) throw truncated(kBlockHeaderBytes);
  BlockHeader header;
  header.checksum = get<uint64_t>(block);
  header.codec = static_cast<CodecKind>(get<uint8_t>(block + 8));
  const auto layout = get<uint8_t>(block + 9);
  if (layout & kPackedLayout) {
    header.packed_bits = layout & ~kPackedLayout;
  } else {
    header.shuffle_width = layout;
  }
  header.payload_bytes = get<uint32_t>(block + 10);
  header.raw_bytes = get<uint32_t>(block + 14);
  if (header.shuffle_width > 1) {
    if (available < kBlockHeaderBytes + 1) throw truncated(kBlockHeaderBytes + 1);
    header.constant_planes = get<uint8_t>(block + kBlockHeaderBytes);
    const size_t constants = static_cast<size_t>(std::popcount(header.constant_planes));
    header.descriptor_bytes = static_cast<uint32_t>(1 + constants);
  }
  if (header.block_bytes() > available) throw truncated(header.block_bytes());
  const uint64_t actual = XXH3_64bits(block + 8, header.block_bytes() - 8);
  if (actual != header.checksum)
    throw CorruptionError(
        fmt::format("{}: checksum mismatch in compressed block at offset {}: "
                    "expected {:016x}, actual {:016x}",
                    file, offset, header.checksum, actual));
  if (static_cast<uint8_t>(header.codec) > 2)
    throw CorruptionError(
        fmt::format("{}: unknown codec {} at offset {}", file, int(header.codec), offset));
  if ((layout & kPackedLayout) && header.packed_bits != 1 && header.packed_bits != 2 &&
      header.packed_bits != 4)
    throw CorruptionError(
        fmt::format("{}: unknown block layout {:#x} at offset {}", file, int(layout), offset));
  if (header.shuffle_width > 1) {
    if (header.shuffle_width > 8 || header.raw_bytes % header.shuffle_width != 0 ||
        (header.constant_planes >> header.shuffle_width) != 0)
      throw CorruptionError(
          fmt::format("{}: malformed plane descriptor at offset {}", file, offset));
    size_t next = kBlockHeaderBytes + 1;
    for (size_t plane = 0; plane < header.shuffle_width; ++plane)
      if (header.is_constant(plane)) header.constant_value[plane] = get<uint8_t>(block + next++);
  }
  return header;
}

void decode_packed(const BlockHeader& header, const char* block, PodVector<char>* out,
                   const std::string& file, uint64_t offset) {
  SHARDLAB_ASSERT(header.packed_bits != 0, "decode_packed on an unpacked block");
  const CodecFunctions& codec = codec_functions(header.codec);
  const size_t bytes = packed_bytes(header.raw_bytes, header.packed_bits);
  out->resize(bytes);
  if (!codec.decompress(block + kBlockHeaderBytes, header.payload_bytes, out->data(), bytes))
    throw CorruptionError(
        fmt::format("{}: {} block at offset {} does not decode to {} bytes of {}-bit values", file,
                    codec.name, offset, bytes, header.packed_bits));
}

namespace {

// Decodes a bit-packed block into `out` (header.raw_bytes bytes).
void unpack_block(const BlockHeader& header, const char* block, char* out, const std::string& file,
                  uint64_t offset) {
  thread_local PodVector<char> packed;
  decode_packed(header, block, &packed, file, offset);
  unpack_bits(reinterpret_cast<const uint8_t*>(packed.data()), header.raw_bytes, header.packed_bits,
              reinterpret_cast<uint8_t*>(out));
}

}  // namespace

void decode_payload(const BlockHeader& header, const char* block, PodVector<char>* out,
                    const std::string& file, uint64_t offset) {
  const CodecFunctions& codec = codec_functions(header.codec);
  const char* payload = block + kBlockHeaderBytes + header.descriptor_bytes;
  out->resize(header.raw_bytes);
  if (header.packed_bits != 0) {
    unpack_block(header, block, out->data(), file, offset);
    return;
  }
  bool ok = true;
  if (header.shuffle_width <= 1) {
    ok = codec.decompress(payload, header.payload_bytes, out->data(), header.raw_bytes);
  } else {
    const size_t width = header.shuffle_width;
    const size_t count = header.raw_bytes / width;
    const size_t variable = width - static_cast<size_t>(std::popcount(header.constant_planes));
    // The variable planes decode into the front of the buffer, then move to their places from
    // the last one backwards (a plane's place is never before its packed position).
    if (variable > 0)
      ok = codec.decompress(payload, header.payload_bytes, out->data(), variable * count);
    else
      ok = header.payload_bytes == 0;
    size_t packed = variable;
    for (size_t plane = width; ok && plane-- > 0;) {
      char* place = out->data() + plane * count;
      if (header.is_constant(plane)) {
        std::memset(place, static_cast<char>(header.constant_value[plane]), count);
      } else {
        --packed;
        if (packed != plane) std::memmove(place, out->data() + packed * count, count);
      }
    }
  }
  if (!ok)
    throw CorruptionError(fmt::format("{}: {} block at offset {} does not decode to {} bytes", file,
                                      codec.name, offset, header.raw_bytes));
}

void decompress_block_into(const BlockHeader& header, const char* block, char* out,
                           const std::string& file, uint64_t offset) {
  if (header.packed_bits != 0) {
    unpack_block(header, block, out, file, offset);
    return;
  }
  if (header.shuffle_width <= 1) {
    const CodecFunctions& codec = codec_functions(header.codec);
    if (!codec.decompress(block + kBlockHeaderBytes, header.payload_bytes, out, header.raw_bytes))
      throw CorruptionError(fmt::format("{}: {} block at offset {} does not decode to {} bytes",
                                        file, codec.name, offset, header.raw_bytes));
    return;
  }
  thread_local PodVector<char> planes;
  decode_payload(header, block, &planes, file, offset);
  byte_unshuffle(planes.data(), header.raw_bytes, header.shuffle_width, out);
}

void decompress_block(const BlockHeader& header, const char* block, PodVector<char>* out,
                      const std::string& file, uint64_t offset) {
  out->resize(header.raw_bytes);
  decompress_block_into(header, block, out->data(), file, offset);
}

}  // namespace shardlab::engine
