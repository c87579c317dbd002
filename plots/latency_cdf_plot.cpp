#include "plots/latency_cdf_plot.h"

#include <fmt/format.h>
#include <gnuplot-iostream.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "plots/figure.h"
#include "plots/human_units.h"

namespace shardlab::plots {
namespace {

using Curve = std::vector<std::pair<double, double>>;

// Smallest latency a log axis can show; 0 ns values are drawn here.
constexpr double kFloorSeconds = 1e-9;

double seconds(int64_t ns) { return std::max(static_cast<double>(ns) / 1e9, kFloorSeconds); }

// (latency s, fraction <= latency) with a leading (lowest value, 0) so that `with steps` draws
// the rise at each bucket's upper edge.
Curve cdf_curve(const results::LatencyHistogram& histogram) {
  Curve curve;
  if (histogram.empty()) return curve;
  const auto buckets = histogram.buckets();
  const double total = static_cast<double>(histogram.count());
  curve.reserve(buckets.size() + 1);
  curve.emplace_back(seconds(buckets.front().low_ns), 0.0);
  for (const auto& bucket : buckets) {
    curve.emplace_back(seconds(bucket.high_ns), static_cast<double>(bucket.cumulative) / total);
  }
  return curve;
}

std::string legend(const QueryLatency& query) {
  if (query.histogram.empty()) return query.query + " (no data)";
  return fmt::format("{}: n={}, p50 {}, p99 {}", query.query, format_count(query.histogram.count()),
                     format_duration(static_cast<double>(query.histogram.quantile(0.5)) / 1e9),
                     format_duration(static_cast<double>(query.histogram.quantile(0.99)) / 1e9));
}

}  // namespace

RenderedPlot render_latency_cdf(const std::filesystem::path& dir, std::string_view name,
                                const std::vector<QueryLatency>& queries,
                                const PlotOptions& options, std::string title) {
  if (title.empty()) title = "Latency CDF per query";
  std::vector<Curve> curves;
  double low = INFINITY;
  double high = -INFINITY;
  for (const QueryLatency& query : queries) {
    curves.push_back(cdf_curve(query.histogram));
    if (!curves.back().empty()) {
      low = std::min(low, curves.back().front().first);
      high = std::max(high, curves.back().back().first);
    }
  }
  if (!std::isfinite(low)) {
    return render_placeholder(
        dir, name, title,
        queries.empty() ? "the scenario runs no queries" : "no query execution completed", options);
  }
  for (const QueryLatency& query : queries) {
    if (query.target_s.has_value() && *query.target_s > 0) {
      low = std::min(low, *query.target_s);
      high = std::max(high, *query.target_s);
    }
  }

  return render_figure(dir, name, title, options.height_px, options, [&](gnuplotio::Gnuplot& gp) {
    gp << "set title " << gnuplot_quote(title) << "\n"
       << "set xlabel 'latency (log scale)'\n"
       << "set ylabel 'fraction completed within'\n"
       << "set logscale x 10\n"
       << "set format x '%.0s %cs'\n"
       // A little room on both sides so the first rise and the targets are not on the border.
       << "set xrange [" << low / 1.5 << ":" << high * 1.5 << "]\n"
       << "set yrange [0:1.02]\n"
       << "set ytics 0.1\n"
       << "set grid xtics ytics\n"
       // Below the plot, as in every figure of curves: inside, it would hide part of one.
       << "set key below\n"
       << "set arrow from graph 0, first 0.99 to graph 1, first 0.99 nohead dt 3 lc rgb '#808080'\n"
       << "set label 'p99' at graph 0.99, first 0.99 right offset 0,-0.8 tc rgb '#606060'\n";
    int arrow_id = 10;
    for (size_t query_idx = 0; query_idx < queries.size(); ++query_idx) {
      const auto& target = queries[query_idx].target_s;
      if (!target.has_value() || !(*target > 0)) continue;
      gp << "set arrow " << arrow_id++ << " from first " << *target << ", graph 0 to first "
         << *target << ", graph 1 nohead dt 2 lw 1.5 lc " << line_colour(query_idx) << "\n";
    }
    std::string plot;
    for (size_t query_idx = 0; query_idx < queries.size(); ++query_idx) {
      const QueryLatency& query = queries[query_idx];
      plot += plot.empty() ? "plot " : ", ";
      if (curves[query_idx].empty()) {
        plot += "keyentry with lines " + line_style(query_idx) + " title " +
                gnuplot_quote(legend(query));
      } else {
        plot += "'-' using 1:2 with steps lw 2 " + line_style(query_idx) + " title " +
                gnuplot_quote(legend(query));
      }
      if (query.target_s.has_value() && *query.target_s > 0) {
        plot += ", keyentry with lines dt 2 lw 1.5 lc " + line_colour(query_idx) + " title " +
                gnuplot_quote(
                    fmt::format("{} target {}", query.query, format_duration(*query.target_s)));
      }
    }
    gp << plot << "\n";
    for (const Curve& curve : curves) {
      if (!curve.empty()) gp.send1d(curve);
    }
  });
}

}  // namespace shardlab::plots
