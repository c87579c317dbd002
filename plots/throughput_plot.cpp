#include "plots/throughput_plot.h"

#include <fmt/format.h>
#include <gnuplot-iostream.h>

#include <cmath>

#include "base/errors.h"
#include "plots/figure.h"
#include "plots/step_series.h"

namespace shardlab::plots {
namespace {

struct Panel {
  std::string title;
  std::string y_label;
  const std::vector<SeriesColumn>* columns;
  const std::vector<double>* time_s;
};

// " (mean per 5-min bucket)" for a grid of buckets longer than a second.
std::string bucket_note(const std::vector<double>& time_s) {
  if (time_s.size() < 2) return "";
  const double bucket = time_s[1] - time_s[0];
  if (bucket <= 1) return "";
  if (bucket >= 3600 && std::fmod(bucket, 3600) == 0) {
    return fmt::format(" (mean per {:g}-h bucket)", bucket / 3600);
  }
  if (bucket >= 60 && std::fmod(bucket, 60) == 0) {
    return fmt::format(" (mean per {:g}-min bucket)", bucket / 60);
  }
  return fmt::format(" (mean per {:g}-s bucket)", bucket);
}

void draw_panel(gnuplotio::Gnuplot& gp, const Panel& panel, const TimeAxis& axis) {
  const std::vector<double>& time_s = *panel.time_s;
  const YScale scale = y_scale(max_value(*panel.columns));
  gp << "set title " << gnuplot_quote(panel.title + bucket_note(time_s)) << "\n"
     << "set xlabel " << gnuplot_quote(axis.label) << "\n"
     << "set ylabel " << gnuplot_quote(panel.y_label + scale.label_suffix) << "\n"
     << "set xrange [" << time_s.front() / axis.seconds_per_unit << ":"
     << series_end_s(time_s) / axis.seconds_per_unit << "]\n"
     << "set grid\n"
     // Below the plot: time series fill their panel, and a key inside would hide some of it.
     << "set key below\n";
  plot_steps(gp, *panel.columns, time_s, axis, scale);
}

}  // namespace

RenderedPlot render_throughput(const std::filesystem::path& dir, std::string_view name,
                               const ThroughputData& data, const PlotOptions& options) {
  const std::string title = "Throughput over simulated time";
  std::vector<Panel> panels;
  const std::vector<double>& query_time_s =
      data.query_time_s.empty() ? data.time_s : data.query_time_s;
  if (!data.insert_rows_per_s.empty()) {
    panels.push_back({"Rows inserted per second", "rows/s", &data.insert_rows_per_s, &data.time_s});
  }
  if (!data.queries_per_s.empty()) {
    panels.push_back(
        {"Queries completed per second", "queries/s", &data.queries_per_s, &query_time_s});
  }
  for (const Panel& panel : panels) {
    for (const SeriesColumn& column : *panel.columns) {
      SHARDLAB_ASSERT(column.values.size() == panel.time_s->size(),
                      "throughput column '{}' has {} values for {} rows", column.name,
                      column.values.size(), panel.time_s->size());
    }
  }
  if (panels.empty() || data.time_s.empty()) {
    return render_placeholder(
        dir, name, title,
        panels.empty() ? "no insert or query rates were recorded" : "the time series has no rows",
        options);
  }
  const TimeAxis axis = time_axis(series_end_s(data.time_s));
  const int height = panels.size() == 1 ? options.height_px : options.height_px * 3 / 2;
  return render_figure(dir, name, title, height, options, [&](gnuplotio::Gnuplot& gp) {
    if (panels.size() > 1) {
      gp << "set multiplot layout " << panels.size() << ",1 title " << gnuplot_quote(title) << "\n";
    }
    for (const Panel& panel : panels) draw_panel(gp, panel, axis);
  });
}

}  // namespace shardlab::plots
