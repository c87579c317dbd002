// Non-negative least squares, the solver under every fit of the cost model's coefficients.
#pragma once

#include <Eigen/Dense>

namespace shardlab::calibration {

// min ||a x - b||_2 subject to x >= 0, by Lawson and Hanson's active-set method (Solving Least
// Squares Problems, 1974, ch. 23), each passive-set subproblem solved by column-pivoting
// Householder QR. Converges in finitely many steps; the loop is also capped at 30 * cols
// iterations, after which the last feasible point is returned. REQUIRES: a.rows() == b.size().
Eigen::VectorXd solve_nnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b);

}  // namespace shardlab::calibration
