#include "results/time_series.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/errors.h"
#include "base/atomic_file.h"
#include "results/number_format.h"

namespace shardlab::results {
namespace {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

// RFC 4180: a field with a comma, a quote or a line break is quoted, quotes doubled.
std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (const char ch : text) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::string latency_cell(int64_t latency_ns) {
  return format_number(static_cast<double>(latency_ns) / 1e9);
}

}  // namespace

TimeSeries::TimeSeries(int64_t interval_ns) : interval_ns_(interval_ns) {
  SHARDLAB_ASSERT(interval_ns > 0, "a time series interval must be positive, got {} ns",
                  interval_ns);
}

TimeSeries::ColumnId TimeSeries::add_column(std::string name, Aggregation kind, double quantile) {
  SHARDLAB_ASSERT(!name.empty() && name != "time_s", "invalid column name '{}'", name);
  SHARDLAB_ASSERT(!by_name_.contains(name), "column '{}' declared twice", name);
  SHARDLAB_ASSERT(kind != Aggregation::kQuantile || (quantile >= 0.0 && quantile <= 1.0),
                  "column '{}': quantile {} is outside [0, 1]", name, quantile);
  const ColumnId id = columns_.size();
  by_name_.emplace(name, id);
  Column column;
  column.name = std::move(name);
  column.kind = kind;
  column.quantile = quantile;
  columns_.push_back(std::move(column));
  return id;
}

TimeSeries::ColumnId TimeSeries::column(std::string_view name) const {
  const auto found = by_name_.find(name);
  SHARDLAB_ASSERT(found != by_name_.end(), "no column '{}' in the time series", name);
  return found->second;
}

int64_t TimeSeries::row_of(int64_t time_ns) {
  SHARDLAB_ASSERT(time_ns >= 0, "time series sample at negative time {} ns", time_ns);
  const int64_t row = time_ns / interval_ns_;
  if (row >= kMaxRows) {
    throw RuntimeError(fmt::format(
        "time series: a sample at {} s needs row {} of {}-second rows, over the limit of {} rows; "
        "use a longer interval",
        format_seconds(time_ns), row, format_seconds(interval_ns_), kMaxRows));
  }
  rows_ = std::max(rows_, row + 1);
  return row;
}

void TimeSeries::grow(Column& column, int64_t row) {
  const auto needed = static_cast<size_t>(row + 1);
  if (column.cells.size() < needed) {
    column.cells.resize(needed, kNoValue);
    if (column.kind == Aggregation::kMean) column.counts.resize(needed, 0);
  }
}

void TimeSeries::add(int64_t time_ns, ColumnId id, double value) {
  SHARDLAB_ASSERT(id < columns_.size(), "no column #{}", id);
  Column& column = columns_[id];
  SHARDLAB_ASSERT(column.kind != Aggregation::kQuantile,
                  "column '{}' takes latencies (record_latency), not values", column.name);
  SHARDLAB_ASSERT(std::isfinite(value), "column '{}': non-finite value {}", column.name, value);
  const int64_t row = row_of(time_ns);
  grow(column, row);
  double& cell = column.cells[static_cast<size_t>(row)];
  const bool first = std::isnan(cell);
  switch (column.kind) {
    case Aggregation::kSum:
    case Aggregation::kRate:
    case Aggregation::kMean:
      cell = first ? value : cell + value;
      if (column.kind == Aggregation::kMean) ++column.counts[static_cast<size_t>(row)];
      break;
    case Aggregation::kMax:
      cell = first ? value : std::max(cell, value);
      break;
    case Aggregation::kLast:
      cell = value;
      break;
    case Aggregation::kQuantile:
      break;
  }
}

void TimeSeries::close_open_row(Column& column) {
  if (column.open_row < 0 || column.open.empty()) return;
  grow(column, column.open_row);
  column.cells[static_cast<size_t>(column.open_row)] =
      static_cast<double>(column.open.quantile(column.quantile));
  column.open.reset();
}

void TimeSeries::record_latency(int64_t time_ns, ColumnId id, int64_t latency_ns) {
  SHARDLAB_ASSERT(id < columns_.size(), "no column #{}", id);
  Column& column = columns_[id];
  SHARDLAB_ASSERT(column.kind == Aggregation::kQuantile,
                  "column '{}' takes values (add), not latencies", column.name);
  const int64_t row = row_of(time_ns);
  SHARDLAB_ASSERT(row >= column.open_row,
                  "column '{}': latency at {} s recorded after one in a later interval",
                  column.name, format_seconds(time_ns));
  if (row != column.open_row) {
    close_open_row(column);
    column.open_row = row;
  }
  column.open.record(latency_ns);
}

void TimeSeries::extend_to(int64_t end_ns) {
  SHARDLAB_ASSERT(end_ns >= 0, "time series end at negative time {} ns", end_ns);
  if (end_ns == 0) return;
  row_of(end_ns - 1);
}

template <typename Sink>
void TimeSeries::emit(Sink& sink) const {
  std::string line = "time_s";
  for (const Column& column : columns_) line += "," + csv_field(column.name);
  line += "\n";
  sink(line);
  const double interval_s = static_cast<double>(interval_ns_) / 1e9;
  // kLast carries its level forward through rows without a value.
  std::vector<std::string> carried(columns_.size());
  for (int64_t row = 0; row < rows_; ++row) {
    line = format_seconds(row * interval_ns_);
    for (size_t column_idx = 0; column_idx < columns_.size(); ++column_idx) {
      const Column& column = columns_[column_idx];
      const auto slot = static_cast<size_t>(row);
      const double cell = slot < column.cells.size() ? column.cells[slot] : kNoValue;
      const bool has = !std::isnan(cell);
      std::string text;
      switch (column.kind) {
        case Aggregation::kSum:
          text = format_number(has ? cell : 0.0);
          break;
        case Aggregation::kRate:
          text = format_number(has ? cell / interval_s : 0.0);
          break;
        case Aggregation::kMax:
          if (has) text = format_number(cell);
          break;
        case Aggregation::kMean:
          if (has) text = format_number(cell / static_cast<double>(column.counts[slot]));
          break;
        case Aggregation::kLast:
          if (has) carried[column_idx] = format_number(cell);
          text = carried[column_idx];
          break;
        case Aggregation::kQuantile:
          if (row == column.open_row && !column.open.empty()) {
            text = latency_cell(column.open.quantile(column.quantile));
          } else if (has) {
            text = latency_cell(static_cast<int64_t>(cell));
          }
          break;
      }
      line += ",";
      line += text;
    }
    line += "\n";
    sink(line);
  }
}

std::string TimeSeries::to_csv() const {
  std::string out;
  auto sink = [&out](std::string_view text) { out += text; };
  emit(sink);
  return out;
}

void TimeSeries::write_csv(const std::filesystem::path& path) const {
  base::AtomicFile file(path);
  auto sink = [&file](std::string_view text) { file.append(text); };
  emit(sink);
  file.commit();
}

}  // namespace shardlab::results
