// How a plan's metrics scale with the data: the winner simulated at a few reduced scales, each
// metric fitted to predict it at full scale (planner/README.md, "Scale").
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "planner/plan_report.h"

namespace shardlab::planner {

// Fits value = a + b / scale through (scale, value) points by least squares with a, b >= 0;
// points with a non-finite value are left out. Fewer than two points: no fit (a = b = 0).
ScaleFit fit_scaling(const std::string& metric, std::vector<std::pair<double, double>> points);

}  // namespace shardlab::planner
