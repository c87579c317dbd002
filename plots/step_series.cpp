#include "plots/step_series.h"

#include <gnuplot-iostream.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/errors.h"

namespace shardlab::plots {

Points step_points(const std::vector<double>& time_s, const std::vector<double>& values,
                   const TimeAxis& axis) {
  SHARDLAB_ASSERT(values.size() == time_s.size(), "a column has {} values for {} rows",
                  values.size(), time_s.size());
  Points points;
  if (time_s.empty()) return points;
  points.reserve(time_s.size() + 1);
  auto cell = [](double value) {
    return std::isfinite(value) ? value : std::numeric_limits<double>::quiet_NaN();
  };
  for (size_t row_idx = 0; row_idx < time_s.size(); ++row_idx) {
    points.emplace_back(time_s[row_idx] / axis.seconds_per_unit, cell(values[row_idx]));
  }
  points.emplace_back(series_end_s(time_s) / axis.seconds_per_unit, cell(values.back()));
  return points;
}

double series_end_s(const std::vector<double>& time_s) {
  if (time_s.empty()) return 0;
  const double interval = time_s.size() >= 2 ? row_interval_s(time_s) : 1.0;
  return time_s.back() + interval;
}

double max_value(const std::vector<SeriesColumn>& columns) {
  double out = 0;
  for (const SeriesColumn& column : columns) {
    for (const double value : column.values) {
      if (std::isfinite(value)) out = std::max(out, value);
    }
  }
  return out;
}

YScale y_scale(double max_value) {
  if (max_value >= 1e10) return {1e9, " (billions)"};
  if (max_value >= 1e7) return {1e6, " (millions)"};
  if (max_value >= 1e4) return {1e3, " (thousands)"};
  return {};
}

Points scaled(Points points, const YScale& scale) {
  for (auto& point : points) point.second /= scale.divisor;
  return points;
}

bool has_values(const std::vector<double>& values) {
  return std::any_of(values.begin(), values.end(),
                     [](double value) { return std::isfinite(value); });
}

void plot_steps(gnuplotio::Gnuplot& gp, const std::vector<SeriesColumn>& columns,
                const std::vector<double>& time_s, const TimeAxis& axis, const YScale& scale,
                const std::string& extra) {
  const bool any = std::any_of(columns.begin(), columns.end(), [](const SeriesColumn& column) {
    return has_values(column.values);
  });
  gp << (any ? "set yrange [0:*]\n" : "set yrange [0:1]\n");
  std::string plot;
  for (size_t column_idx = 0; column_idx < columns.size(); ++column_idx) {
    const SeriesColumn& column = columns[column_idx];
    plot += plot.empty() ? "plot " : ", ";
    if (has_values(column.values)) {
      plot += "'-' using 1:2 with steps lw 1.5 " + line_style(column_idx) + " title " +
              gnuplot_quote(column.name);
    } else {
      plot += "keyentry with lines " + line_style(column_idx) + " title " +
              gnuplot_quote(column.name + " (no data)");
    }
  }
  // gnuplot fails an assertion on a plot made of key entries only; an undefined function
  // draws nothing and keeps it company.
  if (!any) plot += ", NaN notitle";
  gp << plot << extra << "\n";
  for (const SeriesColumn& column : columns) {
    if (has_values(column.values))
      gp.send1d(scaled(step_points(time_s, column.values, axis), scale));
  }
}

}  // namespace shardlab::plots
