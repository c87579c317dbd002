#include "plots/shard_load_plot.h"

#include <gnuplot-iostream.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "base/errors.h"
#include "plots/figure.h"
#include "plots/human_units.h"
#include "plots/step_series.h"

namespace shardlab::plots {
namespace {

// Beyond this many shards the bar labels are thinned out so that they stay legible.
constexpr size_t kMaxShardLabels = 32;

double mean_of(std::span<const double> values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

std::string panel_title(const ShardMetric& metric, const std::vector<std::string>& shards) {
  const double skew = max_over_mean(metric.values);
  const auto busiest = std::max_element(metric.values.begin(), metric.values.end());
  const std::string& busiest_shard = shards[static_cast<size_t>(busiest - metric.values.begin())];
  if (!std::isfinite(skew))
    return fmt::format("{} per shard: max/mean n/a (all zero)", metric.name);
  return fmt::format("{} per shard: max/mean {} (max on {})", metric.name, format_ratio(skew),
                     busiest_shard);
}

std::string shard_tics(const std::vector<std::string>& shards) {
  const size_t step = (shards.size() + kMaxShardLabels - 1) / kMaxShardLabels;
  std::string tics = "set xtics (";
  for (size_t shard_idx = 0; shard_idx < shards.size(); shard_idx += step) {
    if (shard_idx > 0) tics += ", ";
    tics += gnuplot_quote(shards[shard_idx]) + " " + std::to_string(shard_idx);
  }
  tics += ")";
  if (shards.size() > 8) tics += " rotate by -45";
  return tics + "\n";
}

void draw_panel(gnuplotio::Gnuplot& gp, const ShardMetric& metric,
                const std::vector<std::string>& shards) {
  const double mean = mean_of(metric.values);
  const double top = *std::max_element(metric.values.begin(), metric.values.end());
  const YScale scale = y_scale(top);
  gp << "set title " << gnuplot_quote(panel_title(metric, shards)) << "\n"
     << "unset arrow\nunset label\n"
     << "set ylabel " << gnuplot_quote(metric.name + scale.label_suffix) << "\n"
     << shard_tics(shards) << "set xrange [-0.6:" << static_cast<double>(shards.size()) - 0.4
     << "]\n"
     // Headroom for the mean's label when the bars are even.
     << "set yrange [0:" << (top > 0 ? top * 1.12 / scale.divisor : 1.0) << "]\n"
     << "set style fill solid 0.85 border rgb '#404040'\n"
     << "set boxwidth 0.7\n"
     << "set grid ytics\n"
     << "set key top right opaque box\n";
  std::vector<std::pair<double, double>> bars;
  for (size_t shard_idx = 0; shard_idx < shards.size(); ++shard_idx) {
    bars.emplace_back(static_cast<double>(shard_idx), metric.values[shard_idx] / scale.divisor);
  }
  gp << "plot '-' using 1:2 with boxes lc " << line_colour(0) << " notitle, "
     << mean / scale.divisor << " with lines dt 2 lw 2 lc rgb '#000000' title "
     << gnuplot_quote("mean " + format_si(mean)) << "\n";
  gp.send1d(bars);
}

}  // namespace

double max_over_mean(std::span<const double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double mean = mean_of(values);
  if (!(mean > 0)) return std::numeric_limits<double>::quiet_NaN();
  return *std::max_element(values.begin(), values.end()) / mean;
}

RenderedPlot render_shard_load(const std::filesystem::path& dir, std::string_view name,
                               const ShardLoadData& data, const PlotOptions& options) {
  const std::string title = "Per-shard rows and load";
  for (const ShardMetric& metric : data.metrics) {
    SHARDLAB_ASSERT(metric.values.size() == data.shards.size(),
                    "shard metric '{}' has {} values for {} shards", metric.name,
                    metric.values.size(), data.shards.size());
    for (const double value : metric.values) {
      SHARDLAB_ASSERT(std::isfinite(value), "shard metric '{}' has a non-finite value",
                      metric.name);
    }
  }
  if (data.shards.empty() || data.metrics.empty()) {
    return render_placeholder(
        dir, name, title,
        data.shards.empty() ? "the cluster has no shards" : "no per-shard metric was recorded",
        options);
  }
  const int panels = static_cast<int>(data.metrics.size());
  const int height = options.height_px + (panels - 1) * options.height_px * 3 / 5;
  return render_figure(dir, name, title, height, options, [&](gnuplotio::Gnuplot& gp) {
    if (panels > 1) {
      gp << "set multiplot layout " << panels << ",1 title " << gnuplot_quote(title) << "\n";
    }
    for (const ShardMetric& metric : data.metrics) draw_panel(gp, metric, data.shards);
  });
}

}  // namespace shardlab::plots
