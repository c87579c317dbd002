// Node utilisation heatmap: one row per node, one column per time interval, the colour the
// fraction of the resource that was busy. The colours span 0 to the peak rounded up to 1, 2 or
// 5 times a power of ten (at most 1, saturated), so that a quiet run is not uniformly dark; the
// title states the peak, its node and when, which is what compares across runs. Blank cells are
// intervals without a sample.
//
// Long runs are averaged down to at most kMaxHeatmapColumns columns (the mean of the finite
// values of consecutive intervals), which keeps the SVG small and is about the horizontal
// resolution of the figure anyway; the title then says how many intervals a column spans.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "plots/plot_options.h"

namespace shardlab::plots {

inline constexpr size_t kMaxHeatmapColumns = 480;

enum class Resource { kCpu, kDisk, kNetwork };

// "CPU", "disk", "network".
std::string resource_name(Resource resource);

struct UtilisationData {
  // Interval starts in seconds, strictly increasing and equally spaced (a TimeSeries grid).
  std::vector<double> time_s;
  std::vector<std::string> nodes;
  // [node][row] busy fractions, NaN for no sample; a resource that was not recorded is left
  // empty. Values above 1 show as saturated.
  std::vector<std::vector<double>> cpu;
  std::vector<std::vector<double>> disk;
  std::vector<std::vector<double>> network;

  const std::vector<std::vector<double>>& of(Resource resource) const;
};

// The top of the colour scale for a peak busy fraction (1 for none).
double colour_scale_top(double peak);

// Writes dir/NAME.png and dir/NAME.svg for `resource`. A placeholder if there are no nodes,
// no rows, or the resource was not recorded. Throws RuntimeError as render_figure does.
// REQUIRES: a recorded resource has one row of time_s.size() values per node.
RenderedPlot render_utilisation_heatmap(const std::filesystem::path& dir, std::string_view name,
                                        const UtilisationData& data, Resource resource,
                                        const PlotOptions& options = {});

}  // namespace shardlab::plots
