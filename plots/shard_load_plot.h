// Per-shard rows and load: one bar chart panel per metric (rows, bytes, query load, ...), each
// with its mean as a dashed line and the max/mean skew in the panel title. max/mean is the
// figure ClickHouse operators quote for skew: 1.0 is perfectly even, and the busiest shard
// sets both the latency of a fan-out query and when the cluster is full.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plots/plot_options.h"

namespace shardlab::plots {

struct ShardMetric {
  std::string name;            // "rows", "compressed bytes", "query CPU seconds"
  std::vector<double> values;  // one per shard, in ShardLoadData::shards order
};

struct ShardLoadData {
  std::vector<std::string> shards;  // bar labels, e.g. "s1", "s2"
  std::vector<ShardMetric> metrics;
};

// max(values) / mean(values); NaN when there are no values or the mean is not positive (an
// empty cluster has no skew to speak of). REQUIRES: values finite.
double max_over_mean(std::span<const double> values);

// Writes dir/NAME.png and dir/NAME.svg with one panel per metric; the height grows by 60% of
// the options' height per panel after the first. A placeholder if there are no shards or no
// metrics. Throws RuntimeError as render_figure does.
// REQUIRES: every metric has one finite value per shard.
RenderedPlot render_shard_load(const std::filesystem::path& dir, std::string_view name,
                               const ShardLoadData& data, const PlotOptions& options = {});

}  // namespace shardlab::plots
