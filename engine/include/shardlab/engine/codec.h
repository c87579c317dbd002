// Block compression codecs behind one small function table, one codec per file.
//
// A compressed block on disk is
//   [u64 checksum][u8 codec][u8 layout][u32 payload bytes][u32 raw bytes]
//   [plane descriptor, shuffled blocks only][payload]
// (little endian, 18-byte header). The checksum is XXH3-64 over everything after it, so a
// flipped bit anywhere in the block is caught before the payload is decoded.
//
// The layout says what the codec compressed:
//  * 0: the raw bytes.
//  * w in 2..8 (shuffled): the raw bytes byte-transposed in w-byte elements (byte_shuffle.h):
//    plane k holds byte k of every element. The descriptor is a u8 mask of the planes whose
//    bytes are all equal, then that byte for each of them; only the other planes are
//    compressed. The high bytes of small integers are such constant planes, so they cost
//    nothing to store or decode, and a predicate can often be decided for a whole block from
//    the descriptor alone.
//  * 0x80 | b, b in {1, 2, 4} (bit-packed): raw bytes that are all below 2^b, packed by
//    bit_pack.h. Any block that is not shuffled takes this layout when all its bytes are below
//    16; in practice the one-byte codes of small LowCardinality dictionaries, flags and small
//    enums. The checksum is what guards raw bytes: a header claiming a few values more or
//    less than were packed into the same number of bytes decodes without complaint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "shardlab/engine/column.h"

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
  uint64_t checksum = 0;
  CodecKind codec = CodecKind::kNone;
  uint8_t shuffle_width = 0;  // 0 unless shuffled
  uint8_t packed_bits = 0;    // 0 unless bit-packed
  uint32_t payload_bytes = 0;
  uint32_t raw_bytes = 0;
  uint8_t constant_planes = 0;     // bit k: plane k is constant
  uint8_t constant_value[8] = {};  // the byte of each constant plane
  uint32_t descriptor_bytes = 0;   // between the header and the payload
  size_t block_bytes() const { return kBlockHeaderBytes + descriptor_bytes + payload_bytes; }
  bool is_constant(size_t plane) const { return (constant_planes >> plane) & 1; }
};

constexpr uint8_t kPackedLayout = 0x80;

// Compresses `raw` into one framed block appended to `out`. Returns the bytes appended.
// Unshuffled blocks are bit-packed first when every byte fits in 4 bits, unless
// `allow_bit_packing` is false (sizes of what a plain LZ4 codec would ship).
size_t compress_block(const CodecSpec& spec, const char* raw, size_t raw_bytes,
                      size_t shuffle_width, PodVector<char>* out, bool allow_bit_packing = true);

// The size of the block at `block` as its header claims it, unverified: what a reader must hold
// before read_block_header can verify it. With fewer bytes than a header holds, the most the
// header could need to be read (which is all that can be said yet).
size_t claimed_block_bytes(const char* block, size_t available);

// Parses and verifies the header at `block`. `available` is the number of bytes from `block` to
// the end of the file. On any mismatch throws CorruptionError naming `file` and `offset`.
BlockHeader read_block_header(const char* block, size_t available, const std::string& file,
                              uint64_t offset);

// Decodes a verified block into `out` (resized to raw_bytes).
void decompress_block(const BlockHeader& header, const char* block, PodVector<char>* out,
                      const std::string& file, uint64_t offset);
// Decodes a verified block without undoing the byte shuffle, into `out` (resized to
// raw_bytes, constant planes filled in; bit-packed blocks unpacked): for readers that work on
// the planes.
void decode_payload(const BlockHeader& header, const char* block, PodVector<char>* out,
                    const std::string& file, uint64_t offset);
// Decodes a verified bit-packed block only as far as its packed bytes (bit_pack.h), into
// `out`: for readers that pick a few values out of it. REQUIRES: header.packed_bits != 0.
void decode_packed(const BlockHeader& header, const char* block, PodVector<char>* out,
                   const std::string& file, uint64_t offset);
// Decodes a verified block into `out`. REQUIRES: `out` has room for header.raw_bytes.
void decompress_block_into(const BlockHeader& header, const char* block, char* out,
                           const std::string& file, uint64_t offset);

}  // namespace shardlab::engine
