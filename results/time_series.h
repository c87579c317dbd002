// TimeSeries: named columns sampled on a fixed grid of simulated time, written as CSV for plots.
//
// Row i covers [i * interval, (i + 1) * interval) and is labelled with its start, in exact
// decimal seconds. Each column declares up front how the values added inside one interval
// become its cell:
//
//   kind       cell                                      interval with no value
//   kSum       sum of the values (counts, bytes)         0
//   kRate      sum / interval length in seconds          0
//   kMax       largest value                             empty
//   kMean      arithmetic mean of the values             empty
//   kLast      the value added last (a gauge: lag,       the previous row's cell (a gauge
//              rows per shard, queue length)             holds its level), empty before any
//   kQuantile  quantile q of the latencies recorded      empty
//              with record_latency(), in seconds
//
// kQuantile columns keep one LatencyHistogram for the interval being filled and turn it into
// its quantile when time moves past it, so memory is one double per cell plus one histogram per
// such column; times for them must be non-decreasing (simulated time is). Other kinds accept
// values in any time order.
//
// The CSV has the header `time_s,<column>,...` in declaration order, one line per row from
// time 0 to the last row touched or extended to, cells in the number format of
// number_format.h, and "\n" line ends. Names that contain a comma, a quote or a line break
// are quoted as RFC 4180 says. Identical calls give byte-identical CSV.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "results/latency_histogram.h"

namespace shardlab::results {

enum class Aggregation { kSum, kRate, kMax, kMean, kLast, kQuantile };

class TimeSeries {
 public:
  using ColumnId = size_t;

  // Memory guard: a run of one simulated day at 10 ms has 8.6M rows; this is twice that.
  static constexpr int64_t kMaxRows = int64_t{1} << 24;

  // REQUIRES: interval_ns > 0.
  explicit TimeSeries(int64_t interval_ns);

  // Declares a column; the id is its position in declaration order. `quantile` is used only by
  // kQuantile. REQUIRES: name non-empty, not "time_s", not declared before; for kQuantile,
  // 0 <= quantile <= 1.
  ColumnId add_column(std::string name, Aggregation kind, double quantile = 0.0);
  // The id of a declared column. REQUIRES: declared.
  ColumnId column(std::string_view name) const;

  // Adds a value at simulated time `time_ns`. Throws RuntimeError if the row would be past
  // kMaxRows. REQUIRES: time_ns >= 0, value finite, the column is not kQuantile.
  void add(int64_t time_ns, ColumnId column, double value);
  void add(int64_t time_ns, std::string_view column_name, double value) {
    add(time_ns, column(column_name), value);
  }
  // Records one latency into a kQuantile column. REQUIRES: time_ns >= 0 and not before the
  // previous record_latency() of this column, latency_ns >= 0, the column is kQuantile.
  void record_latency(int64_t time_ns, ColumnId column, int64_t latency_ns);

  // Makes the series cover [0, end_ns): rows with no values still appear. Typically called
  // with the run's end before writing.
  void extend_to(int64_t end_ns);

  int64_t interval_ns() const { return interval_ns_; }
  int64_t rows() const { return rows_; }
  size_t columns() const { return columns_.size(); }

  std::string to_csv() const;
  // Writes to_csv() atomically (atomic_file.h), streaming rather than building the string.
  void write_csv(const std::filesystem::path& path) const;

 private:
  struct Column {
    std::string name;
    Aggregation kind;
    double quantile;
    // One cell per row, NaN where no value arrived. kMean keeps the sum here and counts below.
    std::vector<double> cells;
    std::vector<uint64_t> counts;
    // kQuantile: the row being filled and its latencies.
    int64_t open_row = -1;
    LatencyHistogram open;
  };

  int64_t row_of(int64_t time_ns);
  void grow(Column& column, int64_t row);
  void close_open_row(Column& column);
  template <typename Sink>
  void emit(Sink& sink) const;

  int64_t interval_ns_;
  int64_t rows_ = 0;
  std::vector<Column> columns_;
  std::map<std::string, ColumnId, std::less<>> by_name_;
};

}  // namespace shardlab::results
