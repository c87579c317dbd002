#include "shardlab/engine/large_pages.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <vector>

#include "shardlab/engine/allocators.h"
#include "shardlab/engine/column.h"

using namespace shardlab::engine;

TEST_CASE("large blocks are 2 MiB-aligned, hold what is written, and come back when released",
          "[large_pages]") {
  for (const size_t bytes : {size_t{2} << 20, (size_t{5} << 20) + 12345, size_t{64} << 20}) {
    auto* block = static_cast<uint8_t*>(allocate_large(bytes));
    CHECK(reinterpret_cast<uintptr_t>(block) % (size_t{2} << 20) == 0);
    // Every byte of the request is writable and keeps its value.
    std::memset(block, 0xA5, bytes);
    CHECK(block[0] == 0xA5);
    CHECK(block[bytes - 1] == 0xA5);
    // Released, the block is reused for a request of the same mapped size, and two live
    // blocks never overlap.
    release_large(block, bytes);
    auto* again = static_cast<uint8_t*>(allocate_large(bytes));
    CHECK(again == block);
    auto* other = static_cast<uint8_t*>(allocate_large(bytes));
    CHECK((other + bytes <= again || again + bytes <= other));
    std::memset(other, 0x5A, bytes);
    CHECK(again[bytes - 1] == 0xA5);
    release_large(again, bytes);
    release_large(other, bytes);
  }
}

TEST_CASE("a LargePageVector keeps its values when it grows across the large threshold and back",
          "[large_pages]") {
  LargePageVector<uint64_t> values;
  const size_t large = (size_t{8} << 20) / sizeof(uint64_t);  // 8 MiB of values
  for (uint64_t v = 0; v < large; ++v) values.push_back(v * 2654435761u);
  bool intact = true;
  for (uint64_t v = 0; v < large; ++v) intact = intact && values[v] == v * 2654435761u;
  CHECK(intact);
  LargePageVector<uint64_t> copy = values;  // a second large block, filled by copying
  CHECK(copy == values);
  values.resize(100);
  values.shrink_to_fit();  // back to a heap block
  CHECK(values.size() == 100);
  CHECK(values[99] == 99 * uint64_t{2654435761u});
  // Value-initialised, as hash tables are, even in a block that held other values.
  LargePageVector<uint32_t> zeroed(2 * large, 0);
  CHECK(std::accumulate(zeroed.begin(), zeroed.end(), uint64_t{0}) == 0);
}

TEST_CASE("a PodVector maps blocks from kLargeColumnBytes on and keeps its values across the bar",
          "[large_pages]") {
  PodVector<uint64_t> values;
  const size_t large = (size_t{12} << 20) / sizeof(uint64_t);  // 12 MiB of values
  for (uint64_t v = 0; v < large; ++v) values.push_back(v ^ 0x9E3779B97F4A7C15ULL);
  bool intact = true;
  for (uint64_t v = 0; v < large; ++v) intact = intact && values[v] == (v ^ 0x9E3779B97F4A7C15ULL);
  CHECK(intact);
  if (kLargeColumnBytes != SIZE_MAX)  // not under AddressSanitizer
    CHECK(reinterpret_cast<uintptr_t>(values.data()) % (size_t{2} << 20) == 0);
  values.resize(1000);
  values.shrink_to_fit();  // back to a heap block
  CHECK(values[999] == (999 ^ 0x9E3779B97F4A7C15ULL));
  // A block a large one was released into comes back uninitialised but writable.
  PodVector<uint8_t> bytes(kLargeColumnBytes == SIZE_MAX ? 1 << 20 : kLargeColumnBytes);
  std::memset(bytes.data(), 0x3C, bytes.size());
  CHECK(bytes.back() == 0x3C);
}
