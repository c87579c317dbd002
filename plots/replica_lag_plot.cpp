#include "plots/replica_lag_plot.h"

#include <gnuplot-iostream.h>

#include <algorithm>
#include <cmath>

#include "base/errors.h"
#include "plots/figure.h"
#include "plots/step_series.h"

namespace shardlab::plots {
namespace {

constexpr const char* kFaultColour = "rgb '#D62728'";

// Shades each fault over [start, end) clipped to [begin_s, end_s], and labels it at the top:
// from its start to the right, or, for a fault in the right half, from its end to the left,
// so that the label stays inside the plot.
void shade_faults(gnuplotio::Gnuplot& gp, const std::vector<FaultInterval>& faults, double begin_s,
                  double end_s, const TimeAxis& axis) {
  const double middle_s = (begin_s + end_s) / 2;
  int object_id = 1;
  for (const FaultInterval& fault : faults) {
    const double start = std::max(fault.start_s, begin_s) / axis.seconds_per_unit;
    const double end = std::min(fault.end_s, end_s) / axis.seconds_per_unit;
    const bool from_end = fault.start_s > middle_s;
    gp << "set object " << object_id << " rect from first " << start << ", graph 0 to first " << end
       << ", graph 1 behind fc " << kFaultColour
       << " fillstyle transparent solid 0.15 noborder\n"
       // Labels of overlapping faults are staggered down the plot so that they stay readable.
       << "set label " << object_id << " " << gnuplot_quote(fault.label) << " at first "
       << (from_end ? end : start) << ", graph "
       << 0.97 - 0.05 * static_cast<double>((object_id - 1) % 6)
       << (from_end ? " right offset -0.5,0" : " left offset 0.5,0") << " tc " << kFaultColour
       << " front\n";
    ++object_id;
  }
}

}  // namespace

std::optional<std::pair<double, double>> fault_window(const ReplicaLagData& data) {
  if (data.faults.empty() || data.time_s.size() < 2) return std::nullopt;
  const double run_start = data.time_s.front();
  const double run_end = series_end_s(data.time_s);
  double first = INFINITY;
  double last = -INFINITY;
  for (const FaultInterval& fault : data.faults) {
    first = std::min(first, fault.start_s);
    last = std::max(last, fault.end_s);
  }
  // The catch-up: the first interval after the faults whose lag is back at its level before.
  double caught_up = last;
  for (const SeriesColumn& column : data.replicas) {
    double before = 0;
    for (size_t row = 0; row < data.time_s.size() && data.time_s[row] < first; ++row) {
      if (std::isfinite(column.values[row])) before = column.values[row];
    }
    double column_done = run_end;
    for (size_t row = 0; row < data.time_s.size(); ++row) {
      if (data.time_s[row] < last || !std::isfinite(column.values[row])) continue;
      if (column.values[row] <= before + 1e-9) {
        column_done = data.time_s[row];
        break;
      }
    }
    caught_up = std::max(caught_up, column_done);
  }
  const double width = std::max(caught_up - first, data.time_s[1] - data.time_s[0]);
  const double from = std::max(run_start, first - width / 4);
  const double to = std::min(run_end, caught_up + width / 4);
  if (to - from >= (run_end - run_start) / 2) return std::nullopt;
  return std::pair{from, to};
}

RenderedPlot render_replica_lag(const std::filesystem::path& dir, std::string_view name,
                                const ReplicaLagData& data, const PlotOptions& options) {
  const std::string title = "Replica lag around faults";
  for (const SeriesColumn& column : data.replicas) {
    SHARDLAB_ASSERT(column.values.size() == data.time_s.size(),
                    "replica lag column '{}' has {} values for {} rows", column.name,
                    column.values.size(), data.time_s.size());
  }
  for (const FaultInterval& fault : data.faults) {
    SHARDLAB_ASSERT(std::isfinite(fault.start_s) && !(fault.end_s < fault.start_s),
                    "fault '{}' has the interval [{}, {}]", fault.label, fault.start_s,
                    fault.end_s);
  }
  if (data.replicas.empty() || data.time_s.empty()) {
    return render_placeholder(dir, name, title,
                              data.replicas.empty() ? "no replica lag was recorded (no replicas)"
                                                    : "the time series has no rows",
                              options);
  }
  const double begin_s = data.window_s ? data.window_s->first : data.time_s.front();
  const double end_s = data.window_s ? data.window_s->second : series_end_s(data.time_s);
  const TimeAxis axis = time_axis(end_s);
  const std::string shown =
      data.window_s ? title + " (zoomed on the faults; the whole run is in the CSV)" : title;
  return render_figure(dir, name, shown, options.height_px, options, [&](gnuplotio::Gnuplot& gp) {
    gp << "set title " << gnuplot_quote(shown) << "\n"
       << "set xlabel " << gnuplot_quote(axis.label) << "\n"
       << "set ylabel 'lag behind the newest part (s)'\n"
       << "set xrange [" << begin_s / axis.seconds_per_unit << ":"
       << end_s / axis.seconds_per_unit << "]\n"
       << "set grid\n"
       // Below the plot: lag fills the fault intervals, where a key inside would sit on it.
       << "set key below\n";
    shade_faults(gp, data.faults, begin_s, end_s, axis);
    const std::string fault_key =
        data.faults.empty() ? ""
                            : std::string(", keyentry with boxes fc ") + kFaultColour +
                                  " fillstyle transparent solid 0.15 noborder title 'fault'";
    plot_steps(gp, data.replicas, data.time_s, axis, YScale{}, fault_key);
  });
}

}  // namespace shardlab::plots
