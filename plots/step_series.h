// Helpers for figures of per-interval values over simulated time (internal to plots/).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "plots/figure.h"
#include "plots/series_table.h"

namespace shardlab::plots {

using Points = std::vector<std::pair<double, double>>;

// (time / seconds_per_unit, value) for every row, plus the last value repeated at the end of
// the last interval, so that `with steps` draws every interval over its whole width. Values
// that are not finite are sent as NaN: a gap. REQUIRES: values.size() == time_s.size().
Points step_points(const std::vector<double>& time_s, const std::vector<double>& values,
                   const TimeAxis& axis);

// The end of the last interval in seconds (the start of the last row plus the row interval);
// 0 when there are no rows, 1 s past the only row when there is one.
double series_end_s(const std::vector<double>& time_s);

// The largest finite value of any column, or 0.
double max_value(const std::vector<SeriesColumn>& columns);

// Large values are plotted in thousands, millions or billions, with the unit in the axis label,
// so that tick labels stay short and exact ("40" rows/s (thousands), not "40000" or gnuplot's
// SI "40.0k", whose fixed decimals either clutter or round 1.2M to "1M").
struct YScale {
  double divisor = 1;
  std::string label_suffix;  // "", " (thousands)", " (millions)", " (billions)"
};
// The scale for an axis whose largest value is `max_value`: thousands from 10^4 on, millions
// from 10^7, billions from 10^10.
YScale y_scale(double max_value);

// `points` with every y divided by scale.divisor.
Points scaled(Points points, const YScale& scale);

// Whether any value is finite.
bool has_values(const std::vector<double>& values);

// Sets the y range from 0 and plots `columns` as step lines (data inline through send1d), the
// index-th column in line_style(index). A column without a finite value is only listed in the
// key as "NAME (no data)"; if no column has one, the range is fixed at [0, 1], because gnuplot
// refuses to autoscale an axis without points, and the frame is drawn empty. `extra` is appended to
// the plot command (more key entries, ", keyentry ..."). REQUIRES: every column has time_s.size()
// values.
void plot_steps(gnuplotio::Gnuplot& gp, const std::vector<SeriesColumn>& columns,
                const std::vector<double>& time_s, const TimeAxis& axis, const YScale& scale,
                const std::string& extra = "");

}  // namespace shardlab::plots
