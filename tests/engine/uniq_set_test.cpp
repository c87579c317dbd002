#include "engine/exec/uniq_set.h"

#include <catch2/catch.hpp>
#include <random>
#include <set>

using shardlab::engine::UniqSet;

TEST_CASE("UniqSet counts distinct values, zero included, and merges", "[engine][uniq]") {
  UniqSet empty;
  CHECK(empty.size() == 0);

  std::mt19937_64 rng(5);
  std::set<uint64_t> expected_a;
  std::set<uint64_t> expected_b;
  UniqSet a;
  UniqSet b;
  for (int i = 0; i < 50'000; ++i) {
    // Small values repeat often (and include 0); large ones are mostly distinct.
    const uint64_t small = rng() % 1000;
    const uint64_t large = rng();
    a.insert(small);
    expected_a.insert(small);
    b.insert(large);
    expected_b.insert(large);
    if (i % 3 == 0) {
      a.insert(large);
      expected_a.insert(large);
    }
  }
  CHECK(expected_a.count(0) == 1);
  CHECK(a.size() == expected_a.size());
  CHECK(b.size() == expected_b.size());
  CHECK(a.memory_bytes() >= a.size() * 8);

  std::set<uint64_t> expected_union = expected_a;
  expected_union.insert(expected_b.begin(), expected_b.end());
  UniqSet merged;
  merged.merge(a);
  merged.merge(b);
  merged.merge(a);  // merging again adds nothing
  merged.merge(empty);
  CHECK(merged.size() == expected_union.size());
  // The inputs are unchanged.
  CHECK(a.size() == expected_a.size());
  CHECK(b.size() == expected_b.size());

  UniqSet only_zero;
  only_zero.insert(0);
  only_zero.insert(0);
  CHECK(only_zero.size() == 1);
  UniqSet into;
  into.insert(7);
  into.merge(only_zero);
  CHECK(into.size() == 2);
}

TEST_CASE("UniqSet counts exactly across its split into buckets, in every merge direction",
          "[engine][uniq]") {
  // Sizes on both sides of the split point (65,536 values), so merges go small into large,
  // large into small, large into large and small into small past the split.
  std::mt19937_64 rng(11);
  const size_t sizes[] = {10, 40'000, 70'000, 300'000};
  std::vector<UniqSet> sets;
  std::vector<std::set<uint64_t>> expected;
  for (size_t n : sizes) {
    UniqSet set;
    std::set<uint64_t> values;
    for (size_t idx = 0; idx < n; ++idx) {
      // Dense small numbers (shared between the sets) and sparse large ones.
      const uint64_t v = idx % 2 == 0 ? idx : rng();
      set.insert(v);
      set.insert(v);  // a repeat adds nothing
      values.insert(v);
    }
    CHECK(set.size() == values.size());
    sets.push_back(std::move(set));
    expected.push_back(std::move(values));
  }
  for (size_t into = 0; into < sets.size(); ++into) {
    for (size_t from = 0; from < sets.size(); ++from) {
      UniqSet merged = sets[into];
      merged.merge(sets[from]);
      std::set<uint64_t> want = expected[into];
      want.insert(expected[from].begin(), expected[from].end());
      INFO("merge of " << sizes[from] << " values into " << sizes[into]);
      CHECK(merged.size() == want.size());
    }
  }
  // 40k + 40k crosses the split inside one merge.
  UniqSet twice = sets[1];
  UniqSet other;
  for (uint64_t v = 1'000'000; v < 1'040'000; ++v) other.insert(v);
  twice.merge(other);
  CHECK(twice.size() == expected[1].size() + 40'000);
  twice.insert(0);
  CHECK(twice.size() == expected[1].size() + 40'000 + (expected[1].count(0) ? 0 : 1));
}
