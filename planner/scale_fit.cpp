#include "planner/scale_fit.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

namespace shardlab::planner {

// Both parts are costs: a the work that grows with the data (a scaled run's hardware
// shrinks with it), b the fixed costs a scaled run inflates by 1 / scale. Free of the bounds, a
// fit over scales 0.0025-0.01 extrapolates 100 times beyond them and can predict a negative
// latency; with them, the worst it does is put everything in one part. When the free fit breaks
// a bound, the best fit on that bound (the other coefficient alone) is the constrained optimum
// of a two-variable problem.
ScaleFit fit_scaling(const std::string& metric, std::vector<std::pair<double, double>> points) {
  ScaleFit fit;
  fit.metric = metric;
  std::erase_if(points, [](const auto& p) { return !std::isfinite(p.second); });
  fit.points = points;
  if (points.size() < 2) return fit;
  const auto n = static_cast<Eigen::Index>(points.size());
  Eigen::MatrixXd x(n, 2);
  Eigen::VectorXd y(n);
  for (Eigen::Index row = 0; row < n; ++row) {
    x(row, 0) = 1.0;
    x(row, 1) = 1.0 / points[static_cast<size_t>(row)].first;
    y(row) = points[static_cast<size_t>(row)].second;
  }
  Eigen::Vector2d coef = x.colPivHouseholderQr().solve(y);
  if (coef(0) < 0 || coef(1) < 0) {
    // One coefficient alone: its least-squares value, clamped at 0.
    const auto alone = [&](Eigen::Index column) {
      Eigen::Vector2d c = Eigen::Vector2d::Zero();
      c(column) = std::max(0.0, x.col(column).dot(y) / x.col(column).squaredNorm());
      return c;
    };
    const Eigen::Vector2d only_a = alone(0);
    const Eigen::Vector2d only_b = alone(1);
    const bool a_better = (x * only_a - y).squaredNorm() <= (x * only_b - y).squaredNorm();
    coef = a_better ? only_a : only_b;
    fit.bound = a_better ? "b = 0" : "a = 0";
  }
  fit.a = coef(0);
  fit.b = coef(1);
  fit.full_scale = fit.a + fit.b;
  fit.rms_residual = std::sqrt((x * coef - y).squaredNorm() / static_cast<double>(n));
  const double mean = std::fabs(y.mean());
  fit.reliable = points.size() >= 3 && mean > 0 && fit.rms_residual <= kReliableResidual * mean;
  return fit;
}

}  // namespace shardlab::planner
