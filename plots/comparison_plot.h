// Figures that put several runs side by side: the variants of a scenario, the points of a sweep.
//
//  * render_comparison  one bar panel per chosen metric, one bar per run, with the confidence
//                       interval's half width as an error bar under replications;
//  * render_sweep       one panel per chosen metric against the values of one swept key, a line
//                       per combination of the other keys' values.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "plots/plot_options.h"

namespace shardlab::plots {

struct ComparisonPanel {
  std::string metric;               // its name, the panel's title
  std::vector<double> means;        // per variant; NaN when the variant lacks it
  std::vector<double> half_widths;  // per variant, or empty without replications
};
// REQUIRES: every panel has variants.size() means (and half widths, when it has any).
RenderedPlot render_comparison(const std::filesystem::path& dir, std::string_view name,
                               const std::vector<std::string>& variants,
                               const std::vector<ComparisonPanel>& panels,
                               const PlotOptions& options = {});

struct SweepSeries {
  std::string label;                // the other keys' values, "replicas=2"; empty if none
  std::vector<double> means;        // per x value; NaN where the point failed
  std::vector<double> half_widths;  // per x value, or empty without replications
};
struct SweepPanel {
  std::string metric;
  std::vector<SweepSeries> series;
};
// REQUIRES: every series has x_values.size() means (and half widths, when it has any).
RenderedPlot render_sweep(const std::filesystem::path& dir, std::string_view name,
                          const std::string& key, const std::vector<std::string>& x_values,
                          const std::vector<SweepPanel>& panels, const PlotOptions& options = {});

}  // namespace shardlab::plots
