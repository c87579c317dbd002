// Latency CDF per query: for each query, the fraction of its completed executions that took at
// most x seconds, x on a log scale, drawn as a step function over the histogram's buckets (a
// bucket's values count as reached at its upper edge, so the curve never runs ahead of the
// data). A query's latency target is a dashed vertical line in its colour, and a dotted line
// marks the 0.99 level, so "p99 under target" reads off the figure.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plots/plot_options.h"
#include "results/latency_histogram.h"

namespace shardlab::plots {

struct QueryLatency {
  std::string query;
  results::LatencyHistogram histogram;  // nanoseconds, as recorded by the run
  std::optional<double> target_s;       // the scenario's latency target, if it has one
};

// Writes dir/NAME.png and dir/NAME.svg. Queries with no completed execution are listed in the
// legend as "(no data)"; if no query has any, the figure is a placeholder. A value of 0 ns
// cannot sit on a log axis and is drawn at 1 ns. Throws RuntimeError as render_figure does.
// `title` defaults to "Latency CDF per query"; a comparison of variants names its template.
RenderedPlot render_latency_cdf(const std::filesystem::path& dir, std::string_view name,
                                const std::vector<QueryLatency>& queries,
                                const PlotOptions& options = {}, std::string title = {});

}  // namespace shardlab::plots
