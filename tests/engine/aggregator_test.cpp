#include "engine/exec/aggregator.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>

using namespace shardlab::engine;

namespace {

AggregateSpec spec(AggregateKind kind) {
  AggregateSpec out;
  out.kind = kind;
  out.result_type = TypeId::kUInt64;
  return out;
}

Column u64_column(const std::vector<uint64_t>& values) {
  Column c(TypeId::kUInt64);
  c.resize_fixed(values.size());
  std::copy(values.begin(), values.end(), c.values<uint64_t>());
  return c;
}

}  // namespace

TEST_CASE("merge_and_finish answers as merging every partial then finishing",
          "[engine][aggregator]") {
  // GROUP BY g: count(), sum(v), uniqExact(v), over five partials (shards). Group 0's values
  // are shared between partials and large enough to split the sets into buckets; group 1's
  // are disjoint per partial; group 2 is small; group 3 appears only in the last partials and
  // holds a 0. Groups are seen in a different order by each partial.
  const std::vector<AggregateSpec> specs = {spec(AggregateKind::kCount),
                                            spec(AggregateKind::kSum),
                                            spec(AggregateKind::kUniqExact)};
  std::mt19937_64 rng(3);
  std::vector<Aggregator> partials;
  std::map<uint64_t, std::set<uint64_t>> distinct;
  std::map<uint64_t, uint64_t> counts;
  for (uint64_t p = 0; p < 5; ++p) {
    std::vector<uint64_t> keys;
    std::vector<uint64_t> values;
    auto row = [&](uint64_t g, uint64_t v) {
      keys.push_back(g);
      values.push_back(v);
      distinct[g].insert(v);
      ++counts[g];
    };
    if (p >= 3) row(3, 0);
    for (int idx = 0; idx < 90'000; ++idx) row(0, 1 + rng() % 200'000);
    for (uint64_t idx = 0; idx < 70'000; ++idx) row(1, p * 1'000'000 + idx);
    for (int idx = 0; idx < 100; ++idx) row(2, rng() % 50);
    if (p >= 3) row(3, 7);
    Aggregator partial({TypeId::kUInt64}, specs);
    const Column key = u64_column(keys);
    const Column value = u64_column(values);
    partial.add({&key}, {nullptr, &value, &value}, keys.size());
    partials.push_back(std::move(partial));
  }

  Aggregator chained = partials.front();
  for (size_t idx = 1; idx < partials.size(); ++idx) chained.merge(partials[idx]);
  const std::vector<Column> expected = chained.finish();

  Aggregator base = partials.front();
  std::vector<const Aggregator*> others;
  for (size_t idx = 1; idx < partials.size(); ++idx) others.push_back(&partials[idx]);
  const std::vector<Column> got = std::move(base).merge_and_finish(others);

  REQUIRE(got.size() == expected.size());
  for (size_t col = 0; col < got.size(); ++col) {
    REQUIRE(got[col].rows == 4);
    for (size_t g = 0; g < 4; ++g)
      CHECK(got[col].values<uint64_t>()[g] == expected[col].values<uint64_t>()[g]);
  }
  // And against the truth: groups in first-seen order 0, 1, 2, 3.
  for (uint64_t g = 0; g < 4; ++g) {
    CHECK(got[0].values<uint64_t>()[g] == g);
    CHECK(got[1].values<uint64_t>()[g] == counts[g]);
    CHECK(got[3].values<uint64_t>()[g] == distinct[g].size());
  }
}

TEST_CASE("UInt64 keys move from 32-bit to 64-bit slots mid-stream without losing groups",
          "[engine][aggregator]") {
  // Many keys below 2^32 first (the table grows several times in 32-bit slots), then keys
  // above it: the table widens and every earlier group must still be found. A narrow partial
  // merged into a wide one and a wide one into a narrow one must agree with the truth too.
  const std::vector<AggregateSpec> specs = {spec(AggregateKind::kCount)};
  std::mt19937_64 rng(11);
  std::map<uint64_t, uint64_t> truth;
  auto block = [&](bool wide, size_t rows) {
    std::vector<uint64_t> keys(rows);
    for (uint64_t& k : keys) {
      k = wide && rng() % 3 == 0 ? (uint64_t{1} << 32) + rng() % 5000 : rng() % 20000;
      ++truth[k];
    }
    return u64_column(keys);
  };
  auto check = [&](const Aggregator& agg) {
    const std::vector<Column> out = agg.finish();
    REQUIRE(out[0].rows == truth.size());
    std::map<uint64_t, uint64_t> got;
    for (size_t g = 0; g < out[0].rows; ++g)
      got[out[0].values<uint64_t>()[g]] = out[1].values<uint64_t>()[g];
    CHECK(got == truth);
  };
  Aggregator narrow({TypeId::kUInt64}, specs);
  for (int b = 0; b < 4; ++b) {
    const Column keys = block(false, 30000);
    narrow.add({&keys}, {nullptr}, keys.rows);
  }
  check(narrow);
  const std::map<uint64_t, uint64_t> narrow_truth = truth;
  Aggregator widened = narrow;
  const Column high = block(true, 30000);
  widened.add({&high}, {nullptr}, high.rows);
  check(widened);

  // wide + narrow, and narrow + wide
  for (auto& [k, n] : narrow_truth) truth[k] += n;
  Aggregator wide_first = widened;
  wide_first.merge(narrow);
  check(wide_first);
  Aggregator narrow_first = narrow;
  narrow_first.merge(widened);
  check(narrow_first);
  // The table is counted: 16-byte slots at a load of at most 1/2 are 32 bytes a group on top
  // of the keys and counts (at most 32 bytes a group with their spare capacity).
  CHECK(widened.memory_bytes() >= 40 * widened.groups());
}
