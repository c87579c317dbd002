// Throughput over simulated time: rows per second inserted (top panel) and queries per second
// per query (bottom panel), one value per bucket drawn as a step over that bucket (each panel
// on its own grid of equal buckets; a panel's title gives its bucket when longer than 1 s). A panel with no columns is left out; with no columns at
// all the figure is a placeholder.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include "plots/plot_options.h"
#include "plots/series_table.h"

namespace shardlab::plots {

struct ThroughputData {
  // Interval starts in seconds, strictly increasing and equally spaced (a TimeSeries grid).
  std::vector<double> time_s;
  // Rows per second, e.g. "sent" and "acknowledged"; each with time_s.size() values.
  std::vector<SeriesColumn> insert_rows_per_s;
  // Executions per second, one column per query; each with query_time_s.size() values (or
  // time_s.size() when query_time_s is empty): queries may be drawn in buckets of their own.
  std::vector<SeriesColumn> queries_per_s;
  std::vector<double> query_time_s;
};

// Writes dir/NAME.png and dir/NAME.svg; two panels are 1.5 times the options' height. Throws
// RuntimeError as render_figure does. REQUIRES: every column has time_s.size() values.
RenderedPlot render_throughput(const std::filesystem::path& dir, std::string_view name,
                               const ThroughputData& data, const PlotOptions& options = {});

}  // namespace shardlab::plots
