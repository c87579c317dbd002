#include "results/time_series.h"

#include <catch2/catch.hpp>
#include <string>

#include "base/errors.h"
#include "engine/common/file_io.h"
#include "tests/engine/test_util.h"

using namespace shardlab::results;

namespace {

constexpr int64_t kMs = 1000000;

// Every aggregation kind, with rows that have values and rows that do not.
TimeSeries sample_series() {
  TimeSeries series(500 * kMs);
  const auto queries = series.add_column("queries", Aggregation::kSum);
  const auto qps = series.add_column("queries_per_s", Aggregation::kRate);
  const auto p99 = series.add_column("p99_s", Aggregation::kQuantile, 0.99);
  const auto lag = series.add_column("replica_lag_s", Aggregation::kLast);
  const auto util = series.add_column("cpu_util", Aggregation::kMean);
  const auto peak = series.add_column("queue_peak", Aggregation::kMax);
  // Row 0: [0, 0.5 s).
  for (const int64_t at : {100 * kMs, 150 * kMs, 200 * kMs}) {
    series.add(at, queries, 1);
    series.add(at, qps, 1);
  }
  series.record_latency(100 * kMs, p99, 1 * kMs);
  series.record_latency(150 * kMs, p99, 2 * kMs);
  series.record_latency(200 * kMs, p99, 3 * kMs);
  series.add(300 * kMs, lag, 5);
  series.add(400 * kMs, lag, 4);
  series.add(0, util, 0.5);
  series.add(250 * kMs, util, 0.25);
  // Row 1: [0.5 s, 1 s).
  series.add(600 * kMs, peak, 10);
  series.add(700 * kMs, peak, 12);
  series.add(650 * kMs, peak, 11);
  // Row 2: [1 s, 1.5 s), values out of time order for the order-free kinds.
  series.add(1200 * kMs, queries, 2);
  series.add(1200 * kMs, "queries_per_s", 2);
  series.add(1100 * kMs, lag, 2.5);
  series.record_latency(1300 * kMs, p99, 7 * kMs);
  // Row 3 has nothing; the run ends at 2 s.
  series.extend_to(2000 * kMs);
  return series;
}

}  // namespace

TEST_CASE("time series CSV: every aggregation, exact text", "[results][series]") {
  const TimeSeries series = sample_series();
  CHECK(series.rows() == 4);
  CHECK(series.to_csv() ==
        "time_s,queries,queries_per_s,p99_s,replica_lag_s,cpu_util,queue_peak\n"
        "0,3,6,0.003,4,0.375,\n"
        "0.5,0,0,,4,,12\n"
        "1,2,4,0.007,2.5,,\n"
        "1.5,0,0,,2.5,,\n");
}

TEST_CASE("time series CSV is byte-identical for identical inputs", "[results][series]") {
  shardlab::testing::TempDir dir;
  const std::string first = sample_series().to_csv();
  CHECK(sample_series().to_csv() == first);
  sample_series().write_csv(dir.path() / "series.csv");
  CHECK(shardlab::io::read_file(dir.path() / "series.csv") == first);
}

TEST_CASE("time series quantile columns close an interval when time moves on",
          "[results][series]") {
  TimeSeries series(1000 * kMs);
  const auto p50 = series.add_column("p50_s", Aggregation::kQuantile, 0.5);
  const auto p100 = series.add_column("max_s", Aggregation::kQuantile, 1.0);
  for (int64_t second = 0; second < 3; ++second) {
    for (int64_t step = 1; step <= 100; ++step) {
      // 1..100 us in second 0, 2..200 us in second 1, 3..300 us in second 2.
      series.record_latency(second * 1000 * kMs + step, p50, (second + 1) * step * 1000);
      series.record_latency(second * 1000 * kMs + step, p100, (second + 1) * step * 1000);
    }
  }
  // Rank 50 is 50 us, 100 us, 150 us: midpoints of 2^-7-wide buckets, within 0.4%.
  CHECK(series.to_csv() ==
        "time_s,p50_s,max_s\n"
        "0,5.0047e-05,0.0001\n"
        "1,0.000100095,0.0002\n"
        "2,0.000150015,0.0003\n");
}

TEST_CASE("time series names, intervals and limits", "[results][series]") {
  TimeSeries series(250 * kMs);
  series.add_column("rows,shard \"a\"", Aggregation::kSum);
  series.add_column("plain", Aggregation::kLast);
  series.add(1250 * kMs - 1, "plain", 1e-7);
  series.add(0, series.column("rows,shard \"a\""), 1234567890123.0);
  CHECK(series.to_csv() ==
        "time_s,\"rows,shard \"\"a\"\"\",plain\n"
        "0,1234567890000,\n"
        "0.25,0,\n"
        "0.5,0,\n"
        "0.75,0,\n"
        "1,0,1e-07\n");

  TimeSeries empty(1000 * kMs);
  empty.add_column("x", Aggregation::kSum);
  CHECK(empty.to_csv() == "time_s,x\n");
  empty.extend_to(1);
  CHECK(empty.to_csv() == "time_s,x\n0,0\n");

  TimeSeries fine(1);  // one row per nanosecond
  fine.add_column("x", Aggregation::kSum);
  CHECK_THROWS_AS(fine.add(TimeSeries::kMaxRows, "x", 1), shardlab::RuntimeError);
  CHECK_THROWS_WITH(fine.extend_to(int64_t{1} << 40),
                    Catch::Contains("use a longer interval") &&
                        Catch::Contains("over the limit of 16777216 rows"));
  CHECK(fine.rows() == 0);
}
