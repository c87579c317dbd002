#include "plots/cache_plots.h"

#include <gnuplot-iostream.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

#include "base/errors.h"
#include "plots/figure.h"
#include "plots/human_units.h"
#include "plots/step_series.h"

namespace shardlab::plots {
namespace {

void check_columns(const std::vector<double>& time_s, const std::vector<SeriesColumn>& columns) {
  for (const SeriesColumn& column : columns) {
    SHARDLAB_ASSERT(column.values.size() == time_s.size(), "column '{}' has {} values for {} rows",
                    column.name, column.values.size(), time_s.size());
  }
}

// Time axis settings for a series over [time_s.front(), end of its last interval].
TimeAxis set_time_axis(gnuplotio::Gnuplot& gp, const std::vector<double>& time_s) {
  const double end_s = series_end_s(time_s);
  const TimeAxis axis = time_axis(end_s);
  gp << "set xlabel " << gnuplot_quote(axis.label) << "\n"
     << "set xrange [" << time_s.front() / axis.seconds_per_unit << ":"
     << end_s / axis.seconds_per_unit << "]\n"
     << "set grid\n";
  return axis;
}

}  // namespace

RenderedPlot render_cache_hit_ratio(const std::filesystem::path& dir, std::string_view name,
                                    const std::vector<double>& time_s,
                                    const std::vector<SeriesColumn>& hit_ratio,
                                    const PlotOptions& options) {
  const std::string title = "Cache hit ratio per template";
  check_columns(time_s, hit_ratio);
  if (time_s.empty() || hit_ratio.empty()) {
    return render_placeholder(dir, name, title,
                              hit_ratio.empty() ? "no template is cached" : "no time bins",
                              options);
  }
  return render_figure(dir, name, title, options.height_px, options, [&](gnuplotio::Gnuplot& gp) {
    gp << "set title " << gnuplot_quote(title) << "\n"
       << "set ylabel 'hits / requests in the bin'\n"
       << "set key below\n";
    const TimeAxis axis = set_time_axis(gp, time_s);
    plot_steps(gp, hit_ratio, time_s, axis, YScale{});
  });
}

RenderedPlot render_cache_cluster_load(const std::filesystem::path& dir, std::string_view name,
                                       const std::vector<double>& time_s,
                                       const SeriesColumn& asked, const SeriesColumn& reached,
                                       const PlotOptions& options) {
  const std::string title = "Queries per second: asked by clients and reaching ClickHouse";
  const std::vector<SeriesColumn> columns{asked, reached};
  check_columns(time_s, columns);
  if (time_s.empty()) return render_placeholder(dir, name, title, "no time bins", options);
  return render_figure(dir, name, title, options.height_px, options, [&](gnuplotio::Gnuplot& gp) {
    gp << "set title " << gnuplot_quote(title) << "\n"
       << "set ylabel 'queries/s (mean over the bin)'\n"
       << "set key below\n";
    const TimeAxis axis = set_time_axis(gp, time_s);
    plot_steps(gp, columns, time_s, axis, y_scale(max_value(columns)));
  });
}

RenderedPlot render_staleness_cdf(const std::filesystem::path& dir, std::string_view name,
                                  const std::vector<StalenessSample>& samples,
                                  const PlotOptions& options) {
  const std::string title = "Age of the stale answers served";
  const bool any = std::any_of(samples.begin(), samples.end(),
                               [](const StalenessSample& s) { return !s.ages_s.empty(); });
  if (!any) {
    return render_placeholder(dir, name, title, "no stale answer was served", options);
  }
  return render_figure(dir, name, title, options.height_px, options, [&](gnuplotio::Gnuplot& gp) {
    gp << "set title " << gnuplot_quote(title) << "\n"
       << "set xlabel 'seconds since the first insert the answer missed (log)'\n"
       << "set ylabel 'fraction of stale answers'\n"
       << "set logscale x 10\n"
       << "set yrange [0:1.02]\n"
       << "set grid\n"
       << "set key below\n";
    std::string plot = "plot ";
    std::vector<std::vector<std::pair<double, double>>> curves;
    for (size_t idx = 0; idx < samples.size(); ++idx) {
      const StalenessSample& sample = samples[idx];
      if (idx > 0) plot += ", ";
      const std::string label = fmt::format("{} ({:.2f}% of reads stale)", sample.template_name,
                                            100 * sample.stale_share);
      if (sample.ages_s.empty()) {
        plot += "keyentry title " + gnuplot_quote(label + " (none)");
        continue;
      }
      plot += "'-' using 1:2 with steps lw 2 " + line_style(idx) + " title " +
              gnuplot_quote(label);
      std::vector<double> ages = sample.ages_s;
      std::sort(ages.begin(), ages.end());
      std::vector<std::pair<double, double>> curve;
      // An age of 0 (the answer missed an insert acknowledged at the instant it was served)
      // cannot sit on a log axis: it is drawn at 1 ms.
      const double n = static_cast<double>(ages.size());
      curve.emplace_back(std::max(ages.front(), 1e-3), 0.0);
      for (size_t i = 0; i < ages.size(); ++i) {
        curve.emplace_back(std::max(ages[i], 1e-3), static_cast<double>(i + 1) / n);
      }
      curves.push_back(std::move(curve));
    }
    gp << plot << "\n";
    for (const auto& curve : curves) gp.send1d(curve);
  });
}

RenderedPlot render_slab_memory(const std::filesystem::path& dir, std::string_view name,
                                const std::vector<NodeSlabMemory>& nodes,
                                const PlotOptions& options) {
  const std::string title = "Cache memory by slab class";
  std::vector<uint64_t> chunks;
  for (const NodeSlabMemory& node : nodes) {
    for (const SlabClassMemory& cls : node.classes) chunks.push_back(cls.chunk_bytes);
  }
  std::sort(chunks.begin(), chunks.end());
  chunks.erase(std::unique(chunks.begin(), chunks.end()), chunks.end());
  if (chunks.empty()) {
    return render_placeholder(dir, name, title, "no slab page was assigned", options);
  }
  std::vector<std::string> labels;
  for (const uint64_t chunk : chunks) labels.push_back(format_si(static_cast<double>(chunk)));
  double top = 0;
  for (const NodeSlabMemory& node : nodes) {
    for (const SlabClassMemory& cls : node.classes) {
      top = std::max(top, static_cast<double>(cls.memory_bytes) / (1 << 20));
    }
  }
  return render_figure(dir, name, title, options.height_px, options, [&](gnuplotio::Gnuplot& gp) {
    const double width = 0.8 / static_cast<double>(nodes.size());
    gp << "set title " << gnuplot_quote(title) << "\n"
       << "set xlabel 'chunk size of the class (bytes)'\n"
       << "set ylabel 'memory (MiB of 1 MiB pages)'\n"
       << bar_tics(labels) << "set xrange [-0.6:" << static_cast<double>(chunks.size()) - 0.4
       << "]\n"
       << "set yrange [0:" << (top > 0 ? top * 1.1 : 1.0) << "]\n"
       << "set style fill solid 0.85 border rgb '#404040'\n"
       << "set boxwidth " << width << "\n"
       << "set grid ytics\n"
       << "set key below\n";
    std::string plot = "plot ";
    std::vector<std::vector<std::pair<double, double>>> bars(nodes.size());
    for (size_t n = 0; n < nodes.size(); ++n) {
      if (n > 0) plot += ", ";
      plot += "'-' using 1:2 with boxes lc " + line_colour(n) + " title " +
              gnuplot_quote(nodes[n].node);
      const double offset = (static_cast<double>(n) - (static_cast<double>(nodes.size()) - 1) / 2) *
                            width;
      for (const SlabClassMemory& cls : nodes[n].classes) {
        const auto at = std::lower_bound(chunks.begin(), chunks.end(), cls.chunk_bytes);
        bars[n].emplace_back(static_cast<double>(at - chunks.begin()) + offset,
                             static_cast<double>(cls.memory_bytes) / (1 << 20));
      }
      if (bars[n].empty()) bars[n].emplace_back(NAN, NAN);  // gnuplot needs a point per block
    }
    gp << plot << "\n";
    for (const auto& node_bars : bars) gp.send1d(node_bars);
  });
}

}  // namespace shardlab::plots
