#include "calibration/nnls.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/errors.h"

namespace shardlab::calibration {


namespace {

// Least squares on the passive columns only; the other entries of the result are zero.
Eigen::VectorXd solve_passive(const Eigen::MatrixXd& a, const Eigen::VectorXd& b,
                              const std::vector<char>& passive) {
  std::vector<Eigen::Index> cols;
  for (Eigen::Index col_idx = 0; col_idx < a.cols(); ++col_idx)
    if (passive[col_idx]) cols.push_back(col_idx);
  Eigen::MatrixXd sub(a.rows(), static_cast<Eigen::Index>(cols.size()));
  for (size_t k = 0; k < cols.size(); ++k) sub.col(static_cast<Eigen::Index>(k)) = a.col(cols[k]);
  const Eigen::VectorXd z_sub = sub.colPivHouseholderQr().solve(b);
  Eigen::VectorXd z = Eigen::VectorXd::Zero(a.cols());
  for (size_t k = 0; k < cols.size(); ++k) z[cols[k]] = z_sub[static_cast<Eigen::Index>(k)];
  return z;
}

}  // namespace

Eigen::VectorXd solve_nnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b) {
  SHARDLAB_ASSERT(a.rows() == b.size(), "nnls: {} rows but {} right-hand sides", a.rows(),
                  b.size());
  const Eigen::Index n = a.cols();
  Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
  if (n == 0 || a.rows() == 0) return x;
  // Dual values below this are rounding noise (the tolerance of Lawson and Hanson's NNLS code).
  const double tol = 10 * std::numeric_limits<double>::epsilon() *
                     a.cwiseAbs().colwise().sum().maxCoeff() *
                     static_cast<double>(std::max(a.rows(), n));
  std::vector<char> passive(static_cast<size_t>(n), 0);
  Eigen::VectorXd w = a.transpose() * (b - a * x);
  const int max_iterations = 30 * static_cast<int>(n);
  int iterations = 0;
  for (;;) {
    // The inactive column whose entry would most reduce the residual.
    Eigen::Index entering = -1;
    double best = tol;
    for (Eigen::Index col_idx = 0; col_idx < n; ++col_idx) {
      if (!passive[col_idx] && w[col_idx] > best) {
        best = w[col_idx];
        entering = col_idx;
      }
    }
    if (entering < 0) break;
    passive[entering] = 1;
    bool lost = false;
    for (bool first = true;; first = false) {
      if (++iterations > max_iterations) return x;
      const Eigen::VectorXd z = solve_passive(a, b, passive);
      if (first && z[entering] <= 0) {
        // In exact arithmetic a positive dual value gives a positive entry; this one was lost
        // to rounding. Leave the column out rather than cycle on it.
        passive[entering] = 0;
        w[entering] = 0;
        lost = true;
        break;
      }
      bool feasible = true;
      for (Eigen::Index col_idx = 0; col_idx < n; ++col_idx)
        feasible = feasible && (!passive[col_idx] || z[col_idx] > 0);
      if (feasible) {
        x = z;
        break;
      }
      // Move from x towards z until the first passive entry reaches zero, and release it (and
      // any other that reached zero with it).
      double alpha = std::numeric_limits<double>::infinity();
      Eigen::Index blocking = -1;
      for (Eigen::Index col_idx = 0; col_idx < n; ++col_idx) {
        if (!passive[col_idx] || z[col_idx] > 0) continue;
        const double step = x[col_idx] / (x[col_idx] - z[col_idx]);
        if (step < alpha) {
          alpha = step;
          blocking = col_idx;
        }
      }
      x += alpha * (z - x);
      const double zero = 1e-12 * std::max(1.0, x.cwiseAbs().maxCoeff());
      for (Eigen::Index col_idx = 0; col_idx < n; ++col_idx) {
        if (passive[col_idx] && (col_idx == blocking || x[col_idx] <= zero)) {
          passive[col_idx] = 0;
          x[col_idx] = 0;
        }
      }
    }
    if (!lost) w = a.transpose() * (b - a * x);
  }
  return x;
}

}  // namespace shardlab::calibration
