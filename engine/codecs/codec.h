// Block compression codecs behind one small function table, one codec per file.
//
// A compressed block on disk is
//   [u64 checksum][u8 codec][u8 shuffle width][u32 payload bytes][u32 raw bytes][payload]
// (little endian, 18-byte header). The checksum is XXH3-64 over everything after it, so a
// flipped bit anywhere in the block is caught before the payload is decoded. A shuffle width
// w > 1 means the raw bytes were byte-transposed in w-byte elements before compression
// (byte_shuffle.h): the high bytes of small integers then form long zero runs that LZ4 removes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/types/column.h"

namespace shardlab::engine {

enum class CodecKind : uint8_t { kNone = 0, kLZ4 = 1, kZSTD = 2 };

struct CodecSpec {
  CodecKind kind = CodecKind::kLZ4;
  int level = 1;  // ZSTD level; ClickHouse's default is 1
  std::string name() const;
  bool operator==(const CodecSpec&) const = default;
};

struct CodecFunctions {
  const char* name;
  size_t (*bound)(size_t raw_bytes);
  // Returns the payload size. REQUIRES: capacity >= bound(raw_bytes).
  size_t (*compress)(const char* raw, size_t raw_bytes, char* out, size_t capacity, int level);
  // Returns false if the payload does not decode to exactly raw_bytes.
  bool (*decompress)(const char* payload, size_t payload_bytes, char* out, size_t raw_bytes);
};

const CodecFunctions& lz4_codec();
const CodecFunctions& zstd_codec();
const CodecFunctions& codec_functions(CodecKind kind);

constexpr size_t kBlockHeaderBytes = 18;

struct BlockHeader {
  uint64_t checksum;
  CodecKind codec;
  uint8_t shuffle_width;
  uint32_t payload_bytes;
  uint32_t raw_bytes;
};

// Compresses `raw` into one framed block appended to `out`. Returns the bytes appended.
size_t compress_block(const CodecSpec& spec, const char* raw, size_t raw_bytes,
                      size_t shuffle_width, PodVector<char>* out);

// Parses and verifies the header at `block`. `available` is the number of bytes from `block` to
// the end of the file. On any mismatch throws CorruptionError naming `file` and `offset`.
BlockHeader read_block_header(const char* block, size_t available, const std::string& file,
                              uint64_t offset);

// Decodes a verified block into `out` (resized to raw_bytes).
void decompress_block(const BlockHeader& header, const char* block, PodVector<char>* out,
                      const std::string& file, uint64_t offset);
// Decodes a verified block's payload without undoing the byte shuffle, into `out` (resized to
// raw_bytes): for readers that pick single values out of the shuffled planes.
void decode_payload(const BlockHeader& header, const char* block, PodVector<char>* out,
                    const std::string& file, uint64_t offset);
// Decodes a verified block into `out`. REQUIRES: `out` has room for header.raw_bytes.
void decompress_block_into(const BlockHeader& header, const char* block, char* out,
                           const std::string& file, uint64_t offset);

}  // namespace shardlab::engine
