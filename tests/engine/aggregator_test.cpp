#include "shardlab/engine/aggregator.h"

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
  const std::vector<AggregateSpec> specs = {spec(AggregateKind::kCount), spec(AggregateKind::kSum),
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

TEST_CASE("count()-only aggregation keeps counts in the slots and leaves that layout when it must",
          "[engine][aggregator]") {
  // GROUP BY k: count(), count() on a 4-byte and an 8-byte key. Partials that stay in the
  // counting layout merge slot by slot; a partial holding a key beyond 32 bits (Int64 -1) has
  // left it, and merging it either way round must still agree with the truth.
  const std::vector<AggregateSpec> specs = {spec(AggregateKind::kCount),
                                            spec(AggregateKind::kCount)};
  std::mt19937_64 rng(5);
  auto check = [](const std::vector<Column>& out, const std::map<int64_t, uint64_t>& truth,
                  bool four_bytes) {
    REQUIRE(out.size() == 3);
    REQUIRE(out[0].rows == truth.size());
    std::map<int64_t, uint64_t> got;
    for (size_t g = 0; g < out[0].rows; ++g) {
      const int64_t key = four_bytes ? out[0].values<uint32_t>()[g] : out[0].values<int64_t>()[g];
      CHECK(out[1].values<uint64_t>()[g] == out[2].values<uint64_t>()[g]);
      got[key] = out[1].values<uint64_t>()[g];
    }
    CHECK(got == truth);
  };

  SECTION("UInt32 keys, partials merged by merge() and by merge_and_finish()") {
    std::map<int64_t, uint64_t> truth;
    std::vector<Aggregator> partials;
    for (int p = 0; p < 3; ++p) {
      Aggregator partial({TypeId::kUInt32}, specs);
      for (int b = 0; b < 3; ++b) {
        Column keys(TypeId::kUInt32);
        keys.resize_fixed(50'000);
        for (size_t row = 0; row < keys.rows; ++row) {
          // A hot key, then keys spread wide enough to grow the table several times.
          const uint32_t k = row % 4 == 0 ? 7u : static_cast<uint32_t>(rng() % 120'000) * 33'331u;
          keys.values<uint32_t>()[row] = k;
          ++truth[k];
        }
        partial.add({&keys}, {nullptr, nullptr}, keys.rows);
      }
      partials.push_back(std::move(partial));
    }
    Aggregator chained = partials[0];
    chained.merge(partials[1]);
    chained.merge(partials[2]);
    check(chained.finish(), truth, true);
    CHECK(chained.groups() == truth.size());
    Aggregator base = partials[0];
    const std::vector<const Aggregator*> others = {&partials[1], &partials[2]};
    check(std::move(base).merge_and_finish(others), truth, true);
    // 8-byte slots at a load of at most 1/2: at least 16 bytes a group, far below the general
    // layout's slot, key and count.
    CHECK(chained.memory_bytes() >= 16 * chained.groups());
    CHECK(chained.memory_bytes() < 40 * chained.groups());
  }

  SECTION("Int64 keys, one partial with a negative key") {
    std::map<int64_t, uint64_t> truth;
    auto partial_of = [&](bool negative) {
      Aggregator partial({TypeId::kInt64}, specs);
      Column keys(TypeId::kInt64);
      keys.resize_fixed(40'000);
      for (size_t row = 0; row < keys.rows; ++row) {
        const int64_t k = negative && row == 30'000 ? -1 : static_cast<int64_t>(rng() % 25'000);
        keys.values<int64_t>()[row] = k;
        ++truth[k];
      }
      partial.add({&keys}, {nullptr, nullptr}, keys.rows);
      return partial;
    };
    const Aggregator counted = partial_of(false);
    const Aggregator general = partial_of(true);
    Aggregator counted_first = counted;
    counted_first.merge(general);
    check(counted_first.finish(), truth, false);
    Aggregator general_first = general;
    general_first.merge(counted);
    check(general_first.finish(), truth, false);
    Aggregator base = counted;
    const std::vector<const Aggregator*> others = {&general, &counted};
    // counted + general + counted again: the counted partial's rows twice.
    std::map<int64_t, uint64_t> expected = truth;
    {
      const std::vector<Column> once = counted.finish();
      for (size_t g = 0; g < once[0].rows; ++g)
        expected[once[0].values<int64_t>()[g]] += once[1].values<uint64_t>()[g];
    }
    check(std::move(base).merge_and_finish(others), expected, false);
  }
}

TEST_CASE("reserve() sizes the table up front without changing the answer",
          "[engine][aggregator]") {
  // The same rows into a reserved and an unreserved aggregator, for the counting layout
  // (count() only) and the general one (count() and sum()).
  std::mt19937_64 rng(17);
  Column keys(TypeId::kUInt64);
  keys.resize_fixed(60'000);
  for (size_t row = 0; row < keys.rows; ++row) keys.values<uint64_t>()[row] = rng() % 30'000;
  for (const bool with_sum : {false, true}) {
    const std::vector<AggregateSpec> specs =
        with_sum
            ? std::vector<AggregateSpec>{spec(AggregateKind::kCount), spec(AggregateKind::kSum)}
            : std::vector<AggregateSpec>{spec(AggregateKind::kCount)};
    const std::vector<const Column*> args =
        with_sum ? std::vector<const Column*>{nullptr, &keys} : std::vector<const Column*>{nullptr};
    Aggregator plain({TypeId::kUInt64}, specs);
    Aggregator reserved({TypeId::kUInt64}, specs);
    reserved.reserve(200'000);
    // Room for 200,000 groups at a load of at most 1/2: 400,000 slots of 8 bytes at least.
    CHECK(reserved.memory_bytes() >= 400'000 * 8);
    const size_t before = reserved.memory_bytes();
    plain.add({&keys}, args, keys.rows);
    reserved.add({&keys}, args, keys.rows);
    // No growth past the reservation (the general layout adds its keys and states).
    if (!with_sum) CHECK(reserved.memory_bytes() == before);
    const std::vector<Column> a = plain.finish();
    const std::vector<Column> b = reserved.finish();
    REQUIRE(a[0].rows == b[0].rows);
    std::map<uint64_t, std::pair<uint64_t, uint64_t>> got_a, got_b;
    for (size_t g = 0; g < a[0].rows; ++g) {
      got_a[a[0].values<uint64_t>()[g]] = {a[1].values<uint64_t>()[g],
                                           with_sum ? a[2].values<uint64_t>()[g] : 0};
      got_b[b[0].values<uint64_t>()[g]] = {b[1].values<uint64_t>()[g],
                                           with_sum ? b[2].values<uint64_t>()[g] : 0};
    }
    CHECK(got_a == got_b);
  }
}

TEST_CASE("count()-only partials merged and finished on several threads agree with one thread",
          "[engine][aggregator]") {
  // A partial copied (so its set-aside keys are settled into a table of 2^18 slots, whose
  // clusters run past the bucket slices' ends) and partials with keys still set aside, merged
  // with 1 to 8 threads: the same groups and counts, and for a given thread count the same
  // rows in the same order from run to run.
  std::mt19937_64 rng(29);
  const std::vector<AggregateSpec> specs = {spec(AggregateKind::kCount)};
  std::map<uint64_t, uint64_t> truth;
  std::vector<Aggregator> partials;
  auto partial_of = [&](size_t rows, auto key_of) {
    Aggregator partial({TypeId::kUInt64}, specs);
    Column keys(TypeId::kUInt64);
    keys.resize_fixed(rows);
    for (size_t row = 0; row < rows; ++row) {
      const uint64_t k = key_of(row);
      keys.values<uint64_t>()[row] = k;
      ++truth[k];
    }
    partial.add({&keys}, {nullptr}, keys.rows);
    partials.push_back(std::move(partial));
  };
  // 100,000 groups in a table of 2^18 slots, then 90,000 others, then a few of either.
  partial_of(150'000, [](size_t row) { return row % 100'000; });
  partial_of(120'000, [](size_t row) { return 100'000 + row % 90'000; });
  partial_of(1'000, [&](size_t) { return rng() % 190'000; });
  auto merged = [&](unsigned threads) {
    Aggregator base = partials[0];
    const std::vector<const Aggregator*> others = {&partials[1], &partials[2]};
    return std::move(base).merge_and_finish(others, threads);
  };
  for (unsigned threads : {1u, 2u, 3u, 4u, 8u}) {
    INFO(threads << " threads");
    const std::vector<Column> out = merged(threads);
    REQUIRE(out[0].rows == truth.size());
    std::map<uint64_t, uint64_t> got;
    for (size_t g = 0; g < out[0].rows; ++g)
      got[out[0].values<uint64_t>()[g]] += out[1].values<uint64_t>()[g];
    CHECK(got == truth);
    const std::vector<Column> again = merged(threads);
    CHECK(std::equal(out[0].values<uint64_t>(), out[0].values<uint64_t>() + out[0].rows,
                     again[0].values<uint64_t>()));
  }
}

TEST_CASE("count()-only aggregation sets keys aside past a few thousand groups, same counts",
          "[engine][aggregator]") {
  // Keys below 2^32 in a UInt64 column (the counting layout), a hot key and a Zipf-like
  // spread, added in blocks. Partials in every state the layout has: a table only (few
  // groups), keys set aside, a table settled by a copy with more keys set aside on top.
  const std::vector<AggregateSpec> specs = {spec(AggregateKind::kCount)};
  std::mt19937_64 rng(41);
  std::map<uint64_t, uint64_t> truth;
  auto add_rows = [&](Aggregator* into, size_t rows, uint64_t spread) {
    Column keys(TypeId::kUInt64);
    keys.resize_fixed(rows);
    for (size_t row = 0; row < rows; ++row) {
      const uint64_t r = rng();
      const uint64_t k = row % 5 == 0 ? 42 : (r % spread) * (r % 3 + 1) % spread;
      keys.values<uint64_t>()[row] = k * 2'654'435'761u % 4'000'000'000u;
      ++truth[keys.values<uint64_t>()[row]];
    }
    into->add({&keys}, {nullptr}, rows);
  };
  auto as_map = [](const std::vector<Column>& out) {
    REQUIRE(out.size() == 2);
    std::map<uint64_t, uint64_t> got;
    for (size_t g = 0; g < out[0].rows; ++g) {
      CHECK(got.count(out[0].values<uint64_t>()[g]) == 0);  // every group once
      got[out[0].values<uint64_t>()[g]] = out[1].values<uint64_t>()[g];
    }
    return got;
  };

  Aggregator few({TypeId::kUInt64}, specs);
  add_rows(&few, 3'000, 500);
  Aggregator aside({TypeId::kUInt64}, specs);
  for (int block = 0; block < 4; ++block) add_rows(&aside, 60'000, 150'000);
  Aggregator layered({TypeId::kUInt64}, specs);
  add_rows(&layered, 90'000, 400'000);
  const Aggregator snapshot = layered;  // settles layered's keys into its table
  add_rows(&layered, 90'000, 400'000);  // and sets more aside on top of it

  // Each partial alone, through finish() and groups().
  std::map<uint64_t, uint64_t> few_truth;
  for (const auto& [key, count] : as_map(few.finish())) few_truth[key] = count;
  CHECK(few.groups() == few_truth.size());

  for (unsigned threads : {1u, 2u, 3u, 8u}) {
    INFO(threads << " threads");
    Aggregator base = few;
    const std::vector<const Aggregator*> others = {&aside, &layered};
    CHECK(as_map(std::move(base).merge_and_finish(others, threads)) == truth);
    // The partials are read, not changed: merging them again gives the same answer.
    Aggregator again = aside;
    const std::vector<const Aggregator*> rest = {&layered, &few};
    CHECK(as_map(std::move(again).merge_and_finish(rest, threads)) == truth);
  }
  Aggregator chained = layered;
  chained.merge(aside);
  chained.merge(few);
  CHECK(chained.groups() == truth.size());
  CHECK(as_map(chained.finish()) == truth);
  // 8-byte slots at a load of at most 1/2 and no keys left aside once settled.
  CHECK(chained.memory_bytes() < 40 * chained.groups());
}

TEST_CASE("count()-only aggregation settles its set-aside keys past their bound",
          "[engine][aggregator]") {
  // Nine million rows into one partial: past the bound on set-aside keys, they are settled
  // into the table mid-stream and setting aside starts again.
  const std::vector<AggregateSpec> specs = {spec(AggregateKind::kCount)};
  Aggregator partial({TypeId::kUInt32}, specs);
  constexpr size_t kBlock = 1'000'000;
  constexpr uint32_t kKeys = 3'000'017;
  Column keys(TypeId::kUInt32);
  keys.resize_fixed(kBlock);
  uint64_t row = 0;
  for (int block = 0; block < 9; ++block) {
    for (size_t at = 0; at < kBlock; ++at, ++row)
      keys.values<uint32_t>()[at] = static_cast<uint32_t>(row * 7 % kKeys);
    partial.add({&keys}, {nullptr}, kBlock);
  }
  const std::vector<Column> out = partial.finish();
  REQUIRE(out[0].rows == kKeys);
  // Row r counts key r*7 mod kKeys: 9M rows over 3,000,017 keys, each key 2 or 3 times.
  uint64_t total = 0;
  size_t thrice = 0, other = 0;
  for (size_t g = 0; g < out[0].rows; ++g) {
    const uint64_t count = out[1].values<uint64_t>()[g];
    other += count != 2 && count != 3;
    total += count;
    thrice += count == 3;
  }
  CHECK(other == 0);
  CHECK(total == 9'000'000);
  CHECK(thrice == 9'000'000 - 2 * size_t{kKeys});
  // The last block ended at a settle: once settled, the state holds its table (2^23 slots of 8
  // bytes for 3M groups) and not the blocks its set-aside keys used.
  CHECK(partial.memory_bytes() < (size_t{65} << 20));
}
