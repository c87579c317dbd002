#include "plots/comparison_plot.h"

#include <gnuplot-iostream.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

#include "base/errors.h"
#include "plots/figure.h"
#include "plots/step_series.h"

namespace shardlab::plots {
namespace {

// Panels two abreast from four on, each row 3/5 of the canvas height after the first.
struct PanelGrid {
  int rows = 1;
  int columns = 1;
  int height_px = 0;
};
PanelGrid panel_grid(size_t panels, const PlotOptions& options) {
  PanelGrid grid;
  const int count = static_cast<int>(panels);
  grid.columns = count > 3 ? 2 : 1;
  grid.rows = (count + grid.columns - 1) / grid.columns;
  grid.height_px = options.height_px + (grid.rows - 1) * options.height_px * 3 / 5;
  return grid;
}

// The error bar at i: the half width, or 0 without intervals or without a finite one.
double half_width_at(const std::vector<double>& half_widths, size_t i) {
  return half_widths.empty() || !std::isfinite(half_widths[i]) ? 0.0 : half_widths[i];
}

// The highest finite mean plus its error bar, or 0.
double top_of(const std::vector<double>& means, const std::vector<double>& half_widths) {
  double top = 0;
  for (size_t i = 0; i < means.size(); ++i) {
    if (std::isfinite(means[i])) top = std::max(top, means[i] + half_width_at(half_widths, i));
  }
  return top;
}

}  // namespace

RenderedPlot render_comparison(const std::filesystem::path& dir, std::string_view name,
                               const std::vector<std::string>& variants,
                               const std::vector<ComparisonPanel>& panels,
                               const PlotOptions& options) {
  const std::string title = "Variants side by side";
  for (const ComparisonPanel& panel : panels) {
    SHARDLAB_ASSERT(panel.means.size() == variants.size() &&
                        (panel.half_widths.empty() || panel.half_widths.size() == variants.size()),
                    "comparison panel '{}' has {} means for {} variants", panel.metric,
                    panel.means.size(), variants.size());
  }
  if (variants.empty() || panels.empty()) {
    return render_placeholder(dir, name, title, "no metric to compare", options);
  }
  const PanelGrid layout = panel_grid(panels.size(), options);
  return render_figure(dir, name, title, layout.height_px, options, [&](gnuplotio::Gnuplot& gp) {
    gp << "set multiplot layout " << layout.rows << "," << layout.columns << " title "
       << gnuplot_quote(title) << "\n";
    for (const ComparisonPanel& panel : panels) {
      const double top = top_of(panel.means, panel.half_widths);
      const YScale scale = y_scale(top);
      gp << "set title " << gnuplot_quote(panel.metric + scale.label_suffix) << "\n"
         << bar_tics(variants) << "set xrange [-0.6:" << static_cast<double>(variants.size()) - 0.4
         << "]\n"
         << "set yrange [0:" << (top > 0 ? top * 1.15 / scale.divisor : 1.0) << "]\n"
         << "set style fill solid 0.85 border rgb '#404040'\n"
         << "set boxwidth 0.7\n"
         << "set grid ytics\n"
         << "unset key\n";
      std::vector<std::tuple<double, double, double>> bars;
      for (size_t v = 0; v < variants.size(); ++v) {
        if (!std::isfinite(panel.means[v])) continue;
        const double half = half_width_at(panel.half_widths, v);
        bars.emplace_back(static_cast<double>(v), panel.means[v] / scale.divisor,
                          half / scale.divisor);
      }
      if (bars.empty()) bars.emplace_back(NAN, NAN, NAN);
      gp << "plot '-' using 1:2 with boxes lc " << line_colour(0);
      if (!panel.half_widths.empty()) {
        gp << ", '' using 1:2:3 with yerrorbars lc rgb '#000000' pt 0 lw 1.5";
      }
      gp << "\n";
      gp.send1d(bars);
      if (!panel.half_widths.empty()) gp.send1d(bars);
    }
    gp << "unset multiplot\n";
  });
}

RenderedPlot render_sweep(const std::filesystem::path& dir, std::string_view name,
                          const std::string& key, const std::vector<std::string>& x_values,
                          const std::vector<SweepPanel>& panels, const PlotOptions& options) {
  const std::string title = "Metrics against " + key;
  for (const SweepPanel& panel : panels) {
    for (const SweepSeries& series : panel.series) {
      SHARDLAB_ASSERT(series.means.size() == x_values.size() &&
                          (series.half_widths.empty() ||
                           series.half_widths.size() == x_values.size()),
                      "sweep series '{}' of '{}' has {} means for {} values", series.label,
                      panel.metric, series.means.size(), x_values.size());
    }
  }
  if (x_values.empty() || panels.empty()) {
    return render_placeholder(dir, name, title, "no metric to draw", options);
  }
  const PanelGrid layout = panel_grid(panels.size(), options);
  return render_figure(dir, name, title, layout.height_px, options, [&](gnuplotio::Gnuplot& gp) {
    gp << "set multiplot layout " << layout.rows << "," << layout.columns << " title "
       << gnuplot_quote(title) << "\n";
    for (const SweepPanel& panel : panels) {
      double top = 0;
      for (const SweepSeries& series : panel.series) {
        top = std::max(top, top_of(series.means, series.half_widths));
      }
      const YScale scale = y_scale(top);
      gp << "set title " << gnuplot_quote(panel.metric + scale.label_suffix) << "\n"
         << "set xlabel " << gnuplot_quote(key) << "\n"
         << bar_tics(x_values) << "set xrange [-0.3:" << static_cast<double>(x_values.size()) - 0.7
         << "]\n"
         << "set yrange [0:" << (top > 0 ? top * 1.15 / scale.divisor : 1.0) << "]\n"
         << "set grid\n"
         << (panel.series.size() > 1 ? "set key below\n" : "unset key\n");
      std::string plot = "plot ";
      std::vector<std::vector<std::tuple<double, double, double>>> data;
      for (size_t idx = 0; idx < panel.series.size(); ++idx) {
        const SweepSeries& series = panel.series[idx];
        if (idx > 0) plot += ", ";
        const std::string title_of =
            series.label.empty() ? std::string("notitle") : "title " + gnuplot_quote(series.label);
        plot += "'-' using 1:2:3 with yerrorlines " + line_style(idx) + " lw 2 pt 7 " + title_of;
        std::vector<std::tuple<double, double, double>> points;
        for (size_t x = 0; x < x_values.size(); ++x) {
          const double half = half_width_at(series.half_widths, x);
          // A failed point is a gap in its line.
          points.emplace_back(static_cast<double>(x), series.means[x] / scale.divisor,
                              half / scale.divisor);
        }
        data.push_back(std::move(points));
      }
      gp << plot << "\n";
      for (const auto& points : data) gp.send1d(points);
    }
    gp << "unset multiplot\n";
  });
}

}  // namespace shardlab::plots
