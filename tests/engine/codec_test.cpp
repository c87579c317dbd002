#include "shardlab/engine/codec.h"

#include <catch2/catch.hpp>
#include <random>
#include <fmt/format.h>
#include <xxhash.h>

#include "engine/codecs/byte_shuffle.h"
#include "base/errors.h"

using namespace shardlab;
using namespace shardlab::engine;

namespace {

std::vector<char> sample_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<char> raw(n);
  // Small integers in 8-byte slots: the layout byte shuffling is for.
  for (size_t idx = 0; idx + 8 <= n; idx += 8) {
    const uint64_t v = rng() % 100000;
    std::memcpy(raw.data() + idx, &v, 8);
  }
  return raw;
}

}  // namespace

TEST_CASE("byte shuffle round-trips for every width", "[codec]") {
  for (size_t elements : {size_t{8192}, size_t{8191}, size_t{17}, size_t{3}})
    for (size_t width : {1, 2, 4, 8}) {
      std::mt19937 rng(static_cast<uint32_t>(elements * width));
      std::vector<char> raw(elements * width);
      for (char& c : raw) c = static_cast<char>(rng());
      std::vector<char> shuffled(raw.size()), back(raw.size());
      byte_shuffle(raw.data(), raw.size(), width, shuffled.data());
      // The on-disk layout: plane k holds byte k of every element, in element order.
      bool planes_ok = true;
      for (size_t elem = 0; elem < elements; ++elem)
        for (size_t byte = 0; byte < width; ++byte)
          planes_ok = planes_ok && shuffled[byte * elements + elem] == raw[elem * width + byte];
      REQUIRE(planes_ok);
      byte_unshuffle(shuffled.data(), raw.size(), width, back.data());
      REQUIRE(back == raw);
    }
}

TEST_CASE("compressed blocks round-trip with every codec and shuffle", "[codec]") {
  const auto raw = sample_bytes(65536, 2);
  for (CodecSpec spec : {CodecSpec{CodecKind::kLZ4, 1}, CodecSpec{CodecKind::kZSTD, 1},
                         CodecSpec{CodecKind::kZSTD, 9}, CodecSpec{CodecKind::kNone, 1}}) {
    for (size_t shuffle : {0, 8}) {
      PodVector<char> block;
      const size_t size = compress_block(spec, raw.data(), raw.size(), shuffle, &block);
      REQUIRE(size == block.size());
      const BlockHeader header = read_block_header(block.data(), block.size(), "f.bin", 0);
      REQUIRE(header.raw_bytes == raw.size());
      PodVector<char> out;
      decompress_block(header, block.data(), &out, "f.bin", 0);
      REQUIRE(std::equal(out.begin(), out.end(), raw.begin(), raw.end()));
    }
  }
}

TEST_CASE("shuffling makes small 64-bit integers much smaller under LZ4", "[codec]") {
  const auto raw = sample_bytes(65536, 3);
  PodVector<char> plain, shuffled;
  compress_block({CodecKind::kLZ4, 1}, raw.data(), raw.size(), 0, &plain);
  compress_block({CodecKind::kLZ4, 1}, raw.data(), raw.size(), 8, &shuffled);
  CHECK(shuffled.size() < plain.size() * 3 / 4);
}

TEST_CASE("a flipped bit or a truncated block is reported with file, offset and checksums",
          "[codec]") {
  const auto raw = sample_bytes(4096, 4);
  PodVector<char> block;
  compress_block({CodecKind::kLZ4, 1}, raw.data(), raw.size(), 8, &block);
  for (size_t at : {size_t{0}, size_t{9}, kBlockHeaderBytes + 3, block.size() - 1}) {
    PodVector<char> bad = block;
    bad[at] ^= 0x10;
    try {
      read_block_header(bad.data(), bad.size(), "part/x.bin", 4096);
      FAIL("corruption at byte " << at << " went unnoticed");
    } catch (const CorruptionError& e) {
      const std::string msg = e.what();
      CHECK(msg.find("part/x.bin") != std::string::npos);
      CHECK(msg.find("4096") != std::string::npos);
    }
  }
  REQUIRE_THROWS_AS(read_block_header(block.data(), block.size() - 5, "x.bin", 0), CorruptionError);
  REQUIRE_THROWS_AS(read_block_header(block.data(), 7, "x.bin", 0), CorruptionError);
}

TEST_CASE("blocks of small byte values are bit-packed and come back exactly", "[codec][bitpack]") {
  for (unsigned bits : {1u, 2u, 4u}) {
    for (size_t count : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{8191}, size_t{65536}}) {
      std::mt19937 rng(static_cast<uint32_t>(bits * 100000 + count));
      std::vector<char> raw(count);
      // Skewed like LowCardinality codes, with the largest value present so the width is exact.
      for (char& c : raw) c = static_cast<char>(rng() % 4 == 0 ? rng() % (1u << bits) : 0);
      raw[count / 2] = static_cast<char>((1u << bits) - 1);
      for (CodecSpec spec : {CodecSpec{CodecKind::kLZ4, 1}, CodecSpec{CodecKind::kNone, 1}}) {
        PodVector<char> block;
        compress_block(spec, raw.data(), raw.size(), 0, &block);
        const BlockHeader header = read_block_header(block.data(), block.size(), "f.bin", 0);
        REQUIRE(static_cast<uint8_t>(block[9]) == (kPackedLayout | bits));
        REQUIRE(header.packed_bits == bits);
        REQUIRE(header.raw_bytes == count);
        REQUIRE(header.payload_bytes <= (count * bits + 7) / 8);
        PodVector<char> out, planes;
        decompress_block(header, block.data(), &out, "f.bin", 0);
        REQUIRE(std::equal(out.begin(), out.end(), raw.begin(), raw.end()));
        decode_payload(header, block.data(), &planes, "f.bin", 0);
        REQUIRE(std::equal(planes.begin(), planes.end(), raw.begin(), raw.end()));
      }
    }
  }
  // A caller can ask for the plain layout.
  {
    std::vector<char> small(1000, 1);
    PodVector<char> plain;
    compress_block({CodecKind::kLZ4, 1}, small.data(), small.size(), 0, &plain, false);
    CHECK(plain[9] == 0);
  }
  // A byte of 16 or more keeps the block unpacked.
  std::vector<char> wide(1000, 3);
  wide[10] = 16;
  PodVector<char> block;
  compress_block({CodecKind::kLZ4, 1}, wide.data(), wide.size(), 0, &block);
  CHECK(block[9] == 0);
  CHECK(read_block_header(block.data(), block.size(), "f.bin", 0).packed_bits == 0);
}

TEST_CASE("an unknown layout or a short bit-packed payload is corruption, not a crash",
          "[codec][bitpack]") {
  std::vector<char> raw(5000);
  for (size_t at = 0; at < raw.size(); ++at) raw[at] = static_cast<char>(at % 3);
  PodVector<char> block;
  compress_block({CodecKind::kNone, 1}, raw.data(), raw.size(), 0, &block);
  REQUIRE(static_cast<uint8_t>(block[9]) == (kPackedLayout | 2));
  // Damage that still carries a valid checksum: what a writer bug would leave.
  auto reseal = [](PodVector<char>* b) {
    const uint64_t sum = XXH3_64bits(b->data() + 8, b->size() - 8);
    std::memcpy(b->data(), &sum, 8);
  };
  for (int layout : {kPackedLayout | 3, kPackedLayout | 0, kPackedLayout | 8}) {
    PodVector<char> bad_layout = block;
    bad_layout[9] = static_cast<char>(layout);
    reseal(&bad_layout);
    CHECK_THROWS_WITH(read_block_header(bad_layout.data(), bad_layout.size(), "p/a.bin", 64),
                      Catch::Contains("p/a.bin") &&
                          Catch::Contains(fmt::format("layout {:#x}", layout)) &&
                          Catch::Contains("offset 64"));
  }
  PodVector<char> bad_size = block;
  const uint32_t raw_bytes = 6000;  // claims more values than the payload packs
  std::memcpy(bad_size.data() + 14, &raw_bytes, 4);
  reseal(&bad_size);
  const BlockHeader header = read_block_header(bad_size.data(), bad_size.size(), "p/a.bin", 0);
  PodVector<char> out;
  CHECK_THROWS_WITH(decompress_block(header, bad_size.data(), &out, "p/a.bin", 0),
                    Catch::Contains("p/a.bin") && Catch::Contains("2-bit"));
}
