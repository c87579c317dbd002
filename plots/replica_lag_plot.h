// Replica lag over simulated time, with fault intervals shaded: how far each replica is behind
// its shard's newest part (seconds), so the figure shows a lag building up while a node is
// down and how long the replica takes to catch up once it is back.
#pragma once

#include <filesystem>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "plots/plot_options.h"
#include "plots/series_table.h"

namespace shardlab::plots {

// A fault active over [start_s, end_s) of simulated time. end_s may be +infinity for a fault
// that lasted past the end of the run; the shading then stops at the end of the series.
struct FaultInterval {
  double start_s = 0;
  double end_s = 0;
  std::string label;  // "node n3 down"
};

struct ReplicaLagData {
  // Interval starts in seconds, strictly increasing and equally spaced (a TimeSeries grid).
  std::vector<double> time_s;
  // Lag in seconds, one column per replica ("s1/r2"); each with time_s.size() values.
  std::vector<SeriesColumn> replicas;
  std::vector<FaultInterval> faults;
  // The time window to draw, in seconds; empty: the whole series. A run of a day with an outage
  // of minutes zooms in on the outage and the catch-up after it (the title says so).
  std::optional<std::pair<double, double>> window_s;
};

// The window around the faults and the catch-up after them: from a quarter of its width before
// the first fault to a quarter after the lag came back to where it was before the faults (or
// the run's end), when that is less than half the run; empty otherwise or without faults.
std::optional<std::pair<double, double>> fault_window(const ReplicaLagData& data);

// Writes dir/NAME.png and dir/NAME.svg. A placeholder if there are no replica columns (a
// cluster without replication) or no rows. Throws RuntimeError as render_figure does.
// REQUIRES: every column has time_s.size() values; every fault has start_s finite and
// start_s <= end_s.
RenderedPlot render_replica_lag(const std::filesystem::path& dir, std::string_view name,
                                const ReplicaLagData& data, const PlotOptions& options = {});

}  // namespace shardlab::plots
