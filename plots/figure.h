// The frame every renderer draws in (internal to plots/): one gnuplot session that draws the
// same figure as PNG and as SVG, writes both through temporary files, and publishes them only
// once gnuplot succeeded; plus the few gnuplot idioms the renderers share.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "plots/plot_options.h"

namespace gnuplotio {
class Gnuplot;
}

namespace shardlab::plots {

// `text` as a gnuplot single-quoted string: quotes doubled, and control characters (a line
// break would end the command) replaced by spaces. Terminals run in noenhanced mode, so
// '_', '^' and '{' in query or node names print as they are.
std::string gnuplot_quote(std::string_view text);

// The style of the index-th line or bar of a figure: eight colour-blind-safe colours (mostly
// Okabe-Ito), then the same colours dashed. E.g. "lc rgb '#0072B2' dt 1".
std::string line_style(size_t index);
// The colour alone, "rgb '#0072B2'".
std::string line_colour(size_t index);

// Seconds, minutes or hours for a time axis spanning `span_s` simulated seconds, whichever
// keeps tick labels short: values are divided by `seconds_per_unit`.
struct TimeAxis {
  double seconds_per_unit = 1;
  std::string label;  // "simulated time (min)"
};
TimeAxis time_axis(double span_s);

// Writes commands and data for one figure. It starts from gnuplot's defaults (a `reset` is
// issued first) and must not change the terminal or the output.
using FigureBody = std::function<void(gnuplotio::Gnuplot& gp)>;

// Draws `body` into dir/NAME.png (pngcairo) and dir/NAME.svg at the options' width and
// `height_px`. Each file is written under a temporary name, fsynced and renamed into place
// after gnuplot exited successfully, so a failed render leaves no partial file and the old
// files, if any, stay. Throws RuntimeError if `dir` is not a directory, gnuplot is missing or
// reports an error, or an output is empty.
// REQUIRES: `name` is a plain file stem: letters, digits, '.', '_' or '-', not starting with
// '.'; height_px > 0.
RenderedPlot render_figure(const std::filesystem::path& dir, std::string_view name,
                           std::string title, int height_px, const PlotOptions& options,
                           const FigureBody& body);

// A figure with `title` and "No data: NOTE" in the middle, for a data set that is missing or
// empty, so that reports always have the file they link. The result has placeholder = true.
RenderedPlot render_placeholder(const std::filesystem::path& dir, std::string_view name,
                                std::string title, std::string note, const PlotOptions& options);

// `set xtics (...)` naming categories at x = 0, 1, ...: bars or points per variant or value,
// the labels rotated when there are more than four.
std::string bar_tics(const std::vector<std::string>& labels);

}  // namespace shardlab::plots
