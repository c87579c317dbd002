// The planner's trade-off: each candidate cluster's cost against its lead query's p99, the
// target as a line, and the Pareto front (no other candidate is both cheaper and faster).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "plots/plot_options.h"

namespace shardlab::plots {

struct ParetoPoint {
  double cost = 0;   // per hour
  double p99_s = 0;  // simulated when `simulated`, else the analytic prediction
  bool simulated = false;
  bool feasible = false;  // confirmed by simulation
};

// `target_s` <= 0: no target line. Candidates with no finite p99 are left out.
RenderedPlot render_pareto(const std::filesystem::path& dir, std::string_view name,
                           const std::string& query, double target_s,
                           const std::vector<ParetoPoint>& points, const PlotOptions& options = {});

}  // namespace shardlab::plots
