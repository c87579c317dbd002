// SeriesTable: time series as plots read them, column by column.
//
// It is the in-memory form of the CSV that results::TimeSeries writes (`time_s,<columns...>`,
// one row per interval labelled with its start, empty cells for intervals without a value),
// so a renderer can be fed straight from a run's TimeSeries or from the CSV files in a result
// directory, and both give the same figure.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "results/time_series.h"

namespace shardlab::plots {

// One column; NaN marks an interval without a value (a gap in a line, a blank heatmap cell).
struct SeriesColumn {
  std::string name;
  std::vector<double> values;
};

struct SeriesTable {
  // Interval starts in seconds, strictly increasing.
  std::vector<double> time_s;
  // Each with time_s.size() values, in the CSV's order.
  std::vector<SeriesColumn> columns;

  // The column called `name`, or nullptr.
  const SeriesColumn* find(std::string_view name) const;
  // The columns whose names start with `prefix`, in order ("lag." -> every replica's lag).
  std::vector<SeriesColumn> with_prefix(std::string_view prefix) const;
};

// Parses CSV in the results::TimeSeries format: a header whose first field is "time_s", names
// quoted as RFC 4180 says, numeric or empty cells, "\n" or "\r\n" line ends, and a final line
// end optional. Throws InputError "SOURCE:LINE:COLUMN: ..." naming what was expected.
SeriesTable parse_series_csv(std::string_view text, std::string_view source);

// Reads and parses a CSV file. Throws RuntimeError if it cannot be read, InputError as above.
SeriesTable read_series_csv(const std::filesystem::path& path);

// The same table as parse_series_csv(series.to_csv()): through the CSV, so that figures drawn
// during a run and figures drawn from its files later agree to the digit.
SeriesTable series_table(const results::TimeSeries& series);

// The interval between rows: the difference of the first two time_s, or 0 for fewer rows.
double row_interval_s(const std::vector<double>& time_s);

}  // namespace shardlab::plots
