#include "plots/series_table.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <string>

#include "base/errors.h"
#include "results/time_series.h"
#include "tests/engine/test_util.h"

using namespace shardlab::plots;
using shardlab::InputError;
using shardlab::RuntimeError;
using shardlab::results::Aggregation;
using shardlab::results::TimeSeries;

TEST_CASE("a TimeSeries reads back column by column", "[plots]") {
  TimeSeries series(500000000);  // 0.5 s
  series.add_column("rows/s", Aggregation::kRate);
  series.add_column("lag \"s1\", r2", Aggregation::kMax);
  series.add(0, "rows/s", 10);
  series.add(1200000000, "rows/s", 5);
  series.add(100000000, "lag \"s1\", r2", 0.25);
  series.extend_to(2000000000);

  const SeriesTable table = series_table(series);
  CHECK(table.time_s == std::vector<double>{0, 0.5, 1, 1.5});
  REQUIRE(table.columns.size() == 2);
  CHECK(table.columns[0].name == "rows/s");
  CHECK(table.columns[0].values == std::vector<double>{20, 0, 10, 0});
  const SeriesColumn* lag = table.find("lag \"s1\", r2");
  REQUIRE(lag != nullptr);
  CHECK(lag->values[0] == 0.25);
  CHECK(std::isnan(lag->values[1]));
  CHECK(table.find("absent") == nullptr);
  CHECK(table.with_prefix("lag").size() == 1);
  CHECK(row_interval_s(table.time_s) == 0.5);
}

TEST_CASE("series CSV: CRLF line ends, no final line end, no data rows", "[plots]") {
  const SeriesTable table = parse_series_csv("time_s,a\r\n0,1\r\n2,", "x.csv");
  CHECK(table.time_s == std::vector<double>{0, 2});
  CHECK(table.columns[0].values[0] == 1);
  CHECK(std::isnan(table.columns[0].values[1]));
  CHECK(parse_series_csv("time_s,a,b\n", "x.csv").time_s.empty());
}

TEST_CASE("series CSV errors say where and what was expected", "[plots]") {
  auto error_of = [](const std::string& text) {
    try {
      parse_series_csv(text, "lag.csv");
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("") == "lag.csv:1:1: empty file; expected a header starting with 'time_s'");
  CHECK(error_of("t,a\n") == "lag.csv:1:1: expected the header to start with 'time_s', got 't'");
  CHECK(error_of("time_s,a\n0,1\n1,x2\n") ==
        "lag.csv:3:3: expected a finite number or an empty cell, got 'x2'");
  CHECK(error_of("time_s,a\n0,1,2\n") == "lag.csv:2:1: expected 2 fields as in the header, got 3");
  CHECK(error_of("time_s,a\n1,1\n1,2\n") ==
        "lag.csv:3:1: time_s 1 does not come after the previous row's 1");
  CHECK(error_of("time_s,\"a\n") == "lag.csv:1:8: a quoted field is not closed");
  CHECK(error_of("time_s,a,a\n") == "lag.csv:1:10: column 'a' repeats");
  CHECK(error_of("time_s,a\n,1\n") == "lag.csv:2:1: expected a time in seconds, got ''");
  CHECK(error_of("time_s,a\n0,inf\n") ==
        "lag.csv:2:3: expected a finite number or an empty cell, got 'inf'");
}

TEST_CASE("series CSV files: read, or a RuntimeError naming the file", "[plots]") {
  shardlab::testing::TempDir dir;
  const auto path = dir.path() / "throughput.csv";
  std::ofstream(path) << "time_s,rows/s\n0,100\n10,200\n";
  CHECK(read_series_csv(path).columns[0].values == std::vector<double>{100, 200});
  CHECK_THROWS_AS(read_series_csv(dir.path() / "absent.csv"), RuntimeError);
  CHECK_THROWS_WITH(read_series_csv(dir.path() / "absent.csv"),
                    Catch::Contains("absent.csv': No such file or directory"));
}
