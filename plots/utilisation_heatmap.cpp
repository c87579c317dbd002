#include "plots/utilisation_heatmap.h"

#include <gnuplot-iostream.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <tuple>

#include "base/errors.h"
#include "plots/figure.h"
#include "plots/step_series.h"

namespace shardlab::plots {
namespace {

// Beyond this many nodes the row labels are thinned out.
constexpr size_t kMaxNodeLabels = 40;

// Viridis (perceptually uniform, readable in grey and by colour-blind readers) at five stops.
constexpr const char* kPalette =
    "set palette defined (0 '#440154', 0.25 '#3B528B', 0.5 '#21918C', 0.75 '#5EC962', "
    "1 '#FDE725')\n";

// A grid averaged over `group` consecutive intervals per column.
struct Grid {
  size_t group = 1;
  size_t columns = 0;
  double column_s = 1;                     // seconds per column
  double start_s = 0;                      // start of the first column
  std::vector<std::vector<double>> cells;  // [node][column]
};

Grid downsample(const std::vector<double>& time_s, const std::vector<std::vector<double>>& rows) {
  Grid grid;
  const size_t intervals = time_s.size();
  grid.group = (intervals + kMaxHeatmapColumns - 1) / kMaxHeatmapColumns;
  grid.columns = (intervals + grid.group - 1) / grid.group;
  grid.column_s = (intervals >= 2 ? row_interval_s(time_s) : 1.0) * static_cast<double>(grid.group);
  grid.start_s = time_s.front();
  for (const std::vector<double>& row : rows) {
    std::vector<double> cells(grid.columns, std::numeric_limits<double>::quiet_NaN());
    for (size_t column_idx = 0; column_idx < grid.columns; ++column_idx) {
      double sum = 0;
      size_t count = 0;
      const size_t end = std::min(intervals, (column_idx + 1) * grid.group);
      for (size_t row_idx = column_idx * grid.group; row_idx < end; ++row_idx) {
        if (std::isfinite(row[row_idx])) {
          sum += row[row_idx];
          ++count;
        }
      }
      if (count > 0) cells[column_idx] = sum / static_cast<double>(count);
    }
    grid.cells.push_back(std::move(cells));
  }
  return grid;
}

std::string node_tics(const std::vector<std::string>& nodes) {
  const size_t step = (nodes.size() + kMaxNodeLabels - 1) / kMaxNodeLabels;
  std::string tics = "set ytics (";
  for (size_t node_idx = 0; node_idx < nodes.size(); node_idx += step) {
    if (node_idx > 0) tics += ", ";
    tics += gnuplot_quote(nodes[node_idx]) + " " + std::to_string(node_idx);
  }
  return tics + ") scale 0\n";
}

}  // namespace

std::string resource_name(Resource resource) {
  switch (resource) {
    case Resource::kCpu:
      return "CPU";
    case Resource::kDisk:
      return "disk";
    case Resource::kNetwork:
      return "network";
  }
  return "unknown";
}

const std::vector<std::vector<double>>& UtilisationData::of(Resource resource) const {
  switch (resource) {
    case Resource::kCpu:
      return cpu;
    case Resource::kDisk:
      return disk;
    case Resource::kNetwork:
      return network;
  }
  return cpu;
}

double colour_scale_top(double peak) {
  if (!(peak > 0)) return 1.0;
  for (int exponent = -12; exponent < 0; ++exponent) {
    const double decade = std::pow(10.0, exponent);
    for (const double step : {1.0, 2.0, 5.0}) {
      if (peak <= step * decade * (1 + 1e-12)) return step * decade;
    }
  }
  return 1.0;
}

RenderedPlot render_utilisation_heatmap(const std::filesystem::path& dir, std::string_view name,
                                        const UtilisationData& data, Resource resource,
                                        const PlotOptions& options) {
  const std::string resource_label = resource_name(resource);
  std::string title = resource_label + " utilisation per node";
  title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
  const auto& rows = data.of(resource);
  if (!rows.empty()) {
    SHARDLAB_ASSERT(rows.size() == data.nodes.size(), "{} utilisation has {} rows for {} nodes",
                    resource_label, rows.size(), data.nodes.size());
    for (const auto& row : rows) {
      SHARDLAB_ASSERT(row.size() == data.time_s.size(),
                      "{} utilisation has a row of {} values for {} intervals", resource_label,
                      row.size(), data.time_s.size());
    }
  }
  if (data.nodes.empty() || data.time_s.empty() || rows.empty()) {
    const std::string note = data.nodes.empty() ? "the cluster has no nodes"
                             : data.time_s.empty()
                                 ? "the time series has no rows"
                                 : resource_label + " utilisation was not recorded";
    return render_placeholder(dir, name, title, note, options);
  }

  // The colours span 0 to the peak rounded up to 1, 2 or 5 times a power of ten (at most 1), so
  // that a quiet run still shows where its load went; the title states the peak, which is what
  // compares across runs.
  double peak = 0;
  size_t peak_node = 0;
  size_t peak_row = 0;
  for (size_t node_idx = 0; node_idx < rows.size(); ++node_idx) {
    for (size_t row = 0; row < rows[node_idx].size(); ++row) {
      const double value = rows[node_idx][row];
      if (std::isfinite(value) && value > peak) {
        peak = value;
        peak_node = node_idx;
        peak_row = row;
      }
    }
  }
  const Grid grid = downsample(data.time_s, rows);
  // The colours follow what is drawn: averaged columns have a lower top than single intervals.
  double drawn_peak = 0;
  for (const auto& cells : grid.cells) {
    for (const double value : cells) {
      if (std::isfinite(value)) drawn_peak = std::max(drawn_peak, value);
    }
  }
  const double colour_top = colour_scale_top(drawn_peak);
  if (peak > 0) {
    const auto at_s = static_cast<int64_t>(data.time_s[peak_row]);
    title += fmt::format(": peak {:.3g}% on {} at {:02}:{:02}", 100 * std::min(peak, 1.0),
                         data.nodes[peak_node], at_s / 3600, at_s % 3600 / 60);
  } else {
    title += ": idle throughout";
  }
  if (grid.group > 1) title += fmt::format(" (each column averages {} intervals)", grid.group);
  const TimeAxis axis = time_axis(grid.start_s + grid.column_s * static_cast<double>(grid.columns));
  const double column_units = grid.column_s / axis.seconds_per_unit;
  // (x centre, node, value); NaN cells stay NaN, which gnuplot leaves blank.
  std::vector<std::tuple<double, double, double>> cells;
  for (size_t node_idx = 0; node_idx < grid.cells.size(); ++node_idx) {
    for (size_t column_idx = 0; column_idx < grid.columns; ++column_idx) {
      const double x = grid.start_s / axis.seconds_per_unit +
                       (static_cast<double>(column_idx) + 0.5) * column_units;
      cells.emplace_back(x, static_cast<double>(node_idx), grid.cells[node_idx][column_idx]);
    }
  }
  // `with image` needs a grid of at least 2 x 2; a single node or interval is drawn as boxes.
  const bool as_image = grid.columns >= 2 && grid.cells.size() >= 2;
  const double x_low = grid.start_s / axis.seconds_per_unit;
  const double x_high = x_low + column_units * static_cast<double>(grid.columns);
  const double nodes = static_cast<double>(data.nodes.size());

  return render_figure(dir, name, title, options.height_px, options, [&](gnuplotio::Gnuplot& gp) {
    gp << "set title " << gnuplot_quote(title) << "\n"
       << "set xlabel " << gnuplot_quote(axis.label) << "\n"
       << "set ylabel 'node'\n"
       << "set xrange [" << x_low << ":" << x_high
       << "]\n"
       // Reversed, so that the first node is the top row.
       << "set yrange [" << nodes - 0.5 << ":-0.5]\n"
       << node_tics(data.nodes) << "set cbrange [0:" << colour_top << "]\n"
       << "set cblabel " << gnuplot_quote(resource_label + " busy fraction (scale to the peak)")
       << "\n"
       << kPalette << "unset key\n"
       << "set tics out\n";
    if (as_image) {
      gp << "plot '-' using 1:2:3 with image\n";
    } else {
      gp << "set style fill solid 1.0 noborder\n"
         // Boxes 1% wider than a column overlap their neighbours, hiding antialiasing seams.
         << "plot '-' using 1:2:(" << column_units / 2 * 1.01
         << "):(0.5):3 with boxxyerror fc palette\n";
    }
    gp.send1d(cells);
  });
}

}  // namespace shardlab::plots
