#include "results/latency_histogram.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using shardlab::results::LatencyHistogram;

namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// Quantiles as q = permyriad / 10000, so the expected nearest rank is exact integer arithmetic,
// independent of the double product inside the histogram.
constexpr int64_t kPermyriads[] = {0,    1,    10,   100,  700,  1000, 2500,
                                   5000, 9000, 9900, 9990, 9999, 10000};

// The nearest-rank order statistic of sorted `values` for q = permyriad / 10000.
int64_t exact_quantile(const std::vector<int64_t>& sorted, int64_t permyriad) {
  const auto n = static_cast<int64_t>(sorted.size());
  const int64_t rank = std::max<int64_t>(1, (permyriad * n + 9999) / 10000);
  return sorted[static_cast<size_t>(rank - 1)];
}

// Every checked quantile is within the documented bound of the exact one.
void check_quantiles(std::vector<int64_t> values) {
  LatencyHistogram histogram;
  for (const int64_t value : values) histogram.record(value);
  std::sort(values.begin(), values.end());
  for (const int64_t permyriad : kPermyriads) {
    const double q = static_cast<double>(permyriad) / 10000.0;
    const int64_t exact = exact_quantile(values, permyriad);
    const int64_t got = histogram.quantile(q);
    const int64_t error = got > exact ? got - exact : exact - got;
    INFO("q = " << q << ", exact " << exact << ", got " << got);
    // error <= exact * kMaxRelativeError, in integers: the bound is 1/256.
    CHECK(LatencyHistogram::kMaxRelativeError == 1.0 / 256);
    CHECK(error <= exact / 256);
    if (exact < 256) CHECK(got == exact);
  }
  CHECK(histogram.quantile(0.0) == values.front());
  CHECK(histogram.quantile(1.0) == values.back());
}

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

TEST_CASE("histogram quantiles: log-uniform data over 1 ns .. 1e4 s", "[results][histogram]") {
  std::mt19937_64 rng(20240501);
  std::vector<int64_t> values;
  for (int draw = 0; draw < 200000; ++draw) {
    values.push_back(std::llround(std::exp(uniform01(rng) * std::log(1e13))));
  }
  check_quantiles(values);
}

TEST_CASE("histogram quantiles: exponential latencies around 2 ms", "[results][histogram]") {
  std::mt19937_64 rng(7);
  std::vector<int64_t> values;
  for (int draw = 0; draw < 100000; ++draw) {
    values.push_back(std::llround(-2e6 * std::log(1.0 - uniform01(rng))));
  }
  check_quantiles(values);
}

TEST_CASE("histogram quantiles: adversarial data", "[results][histogram]") {
  SECTION("one value, many times") { check_quantiles(std::vector<int64_t>(1000, 1000003)); }
  SECTION("a single value") { check_quantiles({123456789}); }
  SECTION("two and three values") {
    check_quantiles({5, 1000000007});
    check_quantiles({0, 255, 256});
  }
  SECTION("zeros and the largest value") {
    std::vector<int64_t> values(999, 0);
    values.push_back(kInt64Max);
    check_quantiles(values);
  }
  SECTION("both sides of every power of two") {
    std::vector<int64_t> values;
    for (int bit = 1; bit < 63; ++bit) {
      const int64_t power = int64_t{1} << bit;
      values.insert(values.end(), {power - 1, power, power + 1});
    }
    values.push_back(kInt64Max);
    check_quantiles(values);
  }
  SECTION("both ends of buckets in one octave") {
    // Octave [2^20, 2^21): buckets of 2^13 ns. Lowest and highest value of each.
    std::vector<int64_t> values;
    for (int64_t low = int64_t{1} << 20; low < (int64_t{1} << 21); low += int64_t{1} << 13) {
      values.push_back(low);
      values.push_back(low + (int64_t{1} << 13) - 1);
    }
    check_quantiles(values);
  }
  SECTION("two clusters eleven decades apart") {
    std::vector<int64_t> values;
    for (int copy = 0; copy < 990; ++copy) values.push_back(100 + copy % 7);
    for (int copy = 0; copy < 10; ++copy) values.push_back(10000000000000 + copy * 999);
    check_quantiles(values);
  }
}

TEST_CASE("histogram quantiles: many small random mixtures", "[results][histogram]") {
  // Small counts exercise the rank rule at every boundary; mixtures put several values in one
  // bucket and leave gaps between clusters.
  std::mt19937_64 rng(31337);
  for (int trial = 0; trial < 300; ++trial) {
    const auto n = static_cast<int>(1 + rng() % 700);
    const double centre = std::exp(uniform01(rng) * 25.0);
    const double spread = uniform01(rng) < 0.5 ? 0.01 : 3.0;
    std::vector<int64_t> values;
    for (int draw = 0; draw < n; ++draw) {
      values.push_back(std::llround(centre * std::exp(spread * (uniform01(rng) - 0.5))));
    }
    INFO("trial " << trial << ", n = " << n);
    check_quantiles(values);
  }
}

TEST_CASE("histogram rank rule: decimal quantiles reach the rank they name",
          "[results][histogram]") {
  // 0.07 * 100 is 7.000000000000001 in double: a bare ceil would take the 8th value.
  LatencyHistogram histogram;
  for (int64_t value = 1; value <= 100; ++value) histogram.record(value);
  CHECK(histogram.quantile(0.07) == 7);
  CHECK(histogram.quantile(0.5) == 50);
  CHECK(histogram.quantile(0.99) == 99);
  CHECK(histogram.quantile(0.991) == 100);
  CHECK(histogram.quantile(0.0) == 1);
  CHECK(histogram.quantile(1e-9) == 1);
}

TEST_CASE("histogram count, min, max and an exact mean", "[results][histogram]") {
  LatencyHistogram histogram;
  CHECK(histogram.empty());
  histogram.record(10);
  histogram.record(30, 3);
  histogram.record(1000, 0);  // nothing
  CHECK(histogram.count() == 4);
  CHECK(histogram.min() == 10);
  CHECK(histogram.max() == 30);
  CHECK(histogram.mean() == 25.0);

  // The sum passes 2^64: the 128-bit running sum keeps the mean exact.
  LatencyHistogram huge;
  huge.record(kInt64Max, 4);
  huge.record(kInt64Max - 2, 4);
  CHECK(huge.count() == 8);
  CHECK(huge.mean() == static_cast<double>(kInt64Max - 1));
  CHECK(huge.max() == kInt64Max);
  CHECK(huge.quantile(1.0) == kInt64Max);
}

TEST_CASE("merge equals recording everything into one", "[results][histogram]") {
  std::mt19937_64 rng(99);
  LatencyHistogram all;
  LatencyHistogram parts[3];
  for (int draw = 0; draw < 50000; ++draw) {
    const int64_t value = std::llround(std::exp(uniform01(rng) * 30.0));
    all.record(value);
    parts[rng() % 3].record(value);
  }
  LatencyHistogram merged;
  merged.merge(LatencyHistogram());  // merging an empty one changes nothing
  for (const LatencyHistogram& part : parts) merged.merge(part);
  CHECK(merged.count() == all.count());
  CHECK(merged.min() == all.min());
  CHECK(merged.max() == all.max());
  CHECK(merged.mean() == all.mean());
  CHECK(merged.buckets() == all.buckets());
  for (const int64_t permyriad : kPermyriads) {
    const double q = static_cast<double>(permyriad) / 10000.0;
    CHECK(merged.quantile(q) == all.quantile(q));
  }
}

TEST_CASE("buckets cover the values with the documented widths", "[results][histogram]") {
  std::vector<int64_t> probes = {0, 1, 127, 128, 255, 256, 257, 1000, 999999, kInt64Max};
  for (int bit = 8; bit < 63; ++bit) {
    const int64_t power = int64_t{1} << bit;
    probes.insert(probes.end(), {power - 1, power, power + power / 2});
  }
  for (const int64_t value : probes) {
    LatencyHistogram histogram;
    histogram.record(value);
    const auto buckets = histogram.buckets();
    REQUIRE(buckets.size() == 1);
    INFO("value " << value);
    CHECK(buckets[0].low_ns <= value);
    CHECK(buckets[0].high_ns >= value);
    CHECK(buckets[0].count == 1);
    const int64_t width = buckets[0].high_ns - buckets[0].low_ns + 1;
    if (value < 256) CHECK(width == 1);
    // A bucket is at most 1/128 of its lower bound wide.
    CHECK(width <= std::max<int64_t>(1, buckets[0].low_ns / 128));
  }
}

TEST_CASE("bucket iteration gives a CDF", "[results][histogram]") {
  LatencyHistogram histogram;
  histogram.record(5, 2);
  histogram.record(300);
  histogram.record(1000000, 7);
  const auto buckets = histogram.buckets();
  REQUIRE(buckets.size() == 3);
  CHECK(buckets[0] == LatencyHistogram::Bucket{5, 5, 2, 2});
  CHECK(buckets[1] == LatencyHistogram::Bucket{300, 301, 1, 3});
  // 10^6 lies in [2^19, 2^20), whose buckets are 2^12 ns wide.
  CHECK(buckets[2] == LatencyHistogram::Bucket{999424, 1003519, 7, 10});
  CHECK(histogram.quantile(0.5) == 1000000);  // the midpoint 1001471 clamps to the max
}

TEST_CASE("histogram memory follows the span of the data", "[results][histogram]") {
  LatencyHistogram histogram;
  CHECK(histogram.memory_bytes() == 0);
  // 100 us .. 10 s: octaves 2^16 .. 2^33.
  for (int64_t value = 100000; value <= 10000000000; value += value / 1000 + 1) {
    histogram.record(value);
  }
  CHECK(histogram.memory_bytes() == 18 * 128 * sizeof(uint64_t));
  // Everything up to INT64_MAX: 57 pages, the worst case.
  for (int bit = 0; bit < 63; ++bit) histogram.record(int64_t{1} << bit);
  CHECK(histogram.memory_bytes() == 57 * 128 * sizeof(uint64_t));
  // reset() keeps the pages and forgets the values.
  histogram.reset();
  CHECK(histogram.empty());
  CHECK(histogram.buckets().empty());
  CHECK(histogram.memory_bytes() == 57 * 128 * sizeof(uint64_t));
  histogram.record(42);
  CHECK(histogram.min() == 42);
  CHECK(histogram.quantile(0.5) == 42);
}
