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
