#include "engine/exec/key_buckets.h"

#include <catch2/catch.hpp>
#include <map>
#include <vector>

using namespace shardlab::engine;

namespace {

// Every bucket's keys, in the order the buckets give them back.
std::map<size_t, std::vector<uint32_t>> contents(const KeyBuckets& buckets) {
  std::map<size_t, std::vector<uint32_t>> out;
  for (size_t bucket = 0; bucket < KeyBuckets::kBuckets; ++bucket)
    buckets.for_each_run(bucket, [&](std::span<const uint32_t> run) {
      out[bucket].insert(out[bucket].end(), run.begin(), run.end());
    });
  return out;
}

}  // namespace

TEST_CASE("KeyBuckets keeps each bucket's keys in order across chunks and blocks",
          "[engine][key_buckets]") {
  // Enough keys to fill one 4 MiB block's chunks and open a second block, spread unevenly:
  // bucket 3 gets a third of them, the others share the rest.
  const size_t n = KeyBuckets::kBlockKeys + 3 * KeyBuckets::kChunkKeys + 17;
  std::vector<uint32_t> keys(n);
  for (size_t idx = 0; idx < n; ++idx) keys[idx] = static_cast<uint32_t>(idx * 2654435761u);
  auto bucket_of = [](uint32_t key) { return key % 3 == 0 ? size_t{3} : size_t{key % 251}; };
  std::map<size_t, std::vector<uint32_t>> truth;
  for (uint32_t key : keys) truth[bucket_of(key)].push_back(key);

  KeyBuckets buckets;
  CHECK(buckets.empty());
  CHECK(buckets.count(3) == 0);
  // In two batches, so the second continues the chunks the first left open.
  buckets.add(keys.data(), n / 2, bucket_of);
  buckets.add(keys.data() + n / 2, n - n / 2, bucket_of);
  REQUIRE(buckets.size() == n);
  CHECK(contents(buckets) == truth);
  for (const auto& [bucket, expected] : truth) CHECK(buckets.count(bucket) == expected.size());
  CHECK(buckets.memory_bytes() >= 2 * KeyBuckets::kBlockKeys * sizeof(uint32_t));

  SECTION("copies are deep, moves leave an empty source") {
    KeyBuckets copy = buckets;
    CHECK(contents(copy) == truth);
    const uint32_t more[] = {5, 6};
    copy.add(more, 2, [](uint32_t) { return size_t{0}; });
    CHECK(copy.count(0) == buckets.count(0) + 2);
    KeyBuckets moved = std::move(copy);
    CHECK(moved.size() == n + 2);
    CHECK(copy.empty());  // NOLINT(bugprone-use-after-move): the contract under test
    CHECK(contents(copy).empty());
  }

  SECTION("clear() keeps the blocks for the next keys, release() frees them") {
    const size_t held = buckets.memory_bytes();
    buckets.clear();
    CHECK(buckets.empty());
    CHECK(contents(buckets).empty());
    CHECK(buckets.memory_bytes() == held);
    buckets.add(keys.data(), 1000, bucket_of);
    CHECK(buckets.size() == 1000);
    CHECK(buckets.memory_bytes() == held);
    buckets.release();
    CHECK(buckets.empty());
    CHECK(buckets.memory_bytes() == 0);
  }
}
