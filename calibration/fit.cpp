#include "calibration/fit.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/errors.h"
#include <numeric>

#include "calibration/nnls.h"

namespace shardlab::calibration {

using sim::cluster::CostCoefficients;
using sim::cluster::coefficient_by_name;

const char* fit_status_name(FitStatus status) {
  switch (status) {
    case FitStatus::kFitted:
      return "fitted";
    case FitStatus::kAtZero:
      return "at zero";
    case FitStatus::kNotIdentified:
      return "not identified";
  }
  return "?";
}

double round_significant(double value, int digits) {
  if (value == 0 || !std::isfinite(value)) return value;
  const double scale =
      std::pow(10.0, digits - 1 - static_cast<int>(std::floor(std::log10(std::abs(value)))));
  return std::round(value * scale) / scale;
}

// The q-quantile of `values` by the nearest-rank method. REQUIRES: values is not empty.
double quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

namespace {

ErrorSummary summarise(std::string shape, const std::vector<double>& measured,
                       const std::vector<double>& predicted) {
  ErrorSummary s;
  s.shape = std::move(shape);
  s.rows = measured.size();
  if (measured.empty()) return s;
  std::vector<double> errors, signed_errors;
  double sum_measured = 0, sum_predicted = 0;
  for (size_t row = 0; row < measured.size(); ++row) {
    signed_errors.push_back((predicted[row] - measured[row]) / std::max(measured[row], 1e-12));
    errors.push_back(std::abs(signed_errors.back()));
    sum_measured += measured[row];
    sum_predicted += predicted[row];
  }
  s.median_abs = quantile(errors, 0.5);
  s.median = quantile(signed_errors, 0.5);
  s.p90_abs = quantile(errors, 0.9);
  s.max_abs = *std::max_element(errors.begin(), errors.end());
  s.bias = sum_predicted / sum_measured - 1;
  return s;
}

}  // namespace

double* coefficient_or_die(CostCoefficients* c, const std::string& name) {
  double* value = coefficient_by_name(c, name);
  SHARDLAB_ASSERT(value != nullptr, "no cost coefficient '{}'", name);
  return value;
}

namespace {

// min || diag(w) (f c - t) || over c >= 0, solved on columns scaled to unit norm (the counts span
// ten orders of magnitude). Returns c in the units of f.
Eigen::VectorXd weighted_nnls(const Eigen::MatrixXd& f, const Eigen::VectorXd& w,
                              const Eigen::VectorXd& t) {
  Eigen::MatrixXd a = w.asDiagonal() * f;
  Eigen::VectorXd norm(a.cols());
  for (Eigen::Index k = 0; k < a.cols(); ++k) {
    norm[k] = a.col(k).norm();
    if (norm[k] > 0) a.col(k) /= norm[k];
  }
  Eigen::VectorXd c = solve_nnls(a, w.cwiseProduct(t));
  for (Eigen::Index k = 0; k < a.cols(); ++k) c[k] = norm[k] > 0 ? c[k] / norm[k] : 0;
  return c;
}

// sum of log^2(predicted / measured); infinite if a prediction is not positive.
double log_objective(const Eigen::VectorXd& predicted, const Eigen::VectorXd& measured) {
  double sum = 0;
  for (Eigen::Index i = 0; i < predicted.size(); ++i) {
    if (!(predicted[i] > 0)) return std::numeric_limits<double>::infinity();
    const double r = std::log(predicted[i] / measured[i]);
    sum += r * r;
  }
  return sum;
}

// Minimises log_objective over c >= 0 by Gauss-Newton from `c`: each step linearises
// log(predicted) and is a weighted NNLS (weights 1/predicted); a step that does not lower the
// objective is halved until it does, and the iteration stops when it no longer can.
Eigen::VectorXd fit_log(const Eigen::MatrixXd& f, const Eigen::VectorXd& offset,
                        const Eigen::VectorXd& y, Eigen::VectorXd c) {
  double objective = log_objective(offset + f * c, y);
  if (!std::isfinite(objective)) return c;
  for (int iteration = 0; iteration < 100; ++iteration) {
    const Eigen::VectorXd predicted = offset + f * c;
    const Eigen::VectorXd w = predicted.cwiseInverse();
    Eigen::VectorXd t(y.size());
    for (Eigen::Index i = 0; i < y.size(); ++i)
      t[i] = predicted[i] * (1 - std::log(predicted[i] / y[i])) - offset[i];
    const Eigen::VectorXd target = weighted_nnls(f, w, t);
    double step = 1;
    bool improved = false;
    Eigen::VectorXd next;
    double next_objective = objective;
    for (int halving = 0; halving < 30 && !improved; ++halving, step /= 2) {
      next = c + step * (target - c);  // between two feasible points: feasible
      next_objective = log_objective(offset + f * next, y);
      improved = next_objective < objective;
    }
    if (!improved) break;
    const bool converged = objective - next_objective <= 1e-12 * objective;
    c = std::move(next);
    objective = next_objective;
    if (converged) break;
  }
  return c;
}

}  // namespace

namespace {

// The least-squares problem of one system: the features of its identifiable columns, the
// measured seconds, and the seconds explained by coefficients fitted elsewhere.
struct Design {
  std::vector<size_t> identified;  // columns with a non-zero entry: only these can be fitted
  Eigen::MatrixXd f;
  Eigen::VectorXd y;
  Eigen::VectorXd offset;
};

Design make_design(const FitSystem& system, CostCoefficients* coefficients) {
  const size_t m = system.rows.size();
  const size_t n = system.coefficients.size();
  const auto rows = static_cast<Eigen::Index>(m);
  Design d;
  for (size_t col_idx = 0; col_idx < n; ++col_idx) {
    bool any = false;
    for (const Measurement& r : system.rows) any = any || r.features[col_idx] != 0;
    if (any) d.identified.push_back(col_idx);
  }
  const auto k_cols = static_cast<Eigen::Index>(d.identified.size());
  d.f.resize(rows, k_cols);
  d.y.resize(rows);
  d.offset = Eigen::VectorXd::Zero(rows);
  for (size_t row = 0; row < m; ++row) {
    const Measurement& r = system.rows[row];
    SHARDLAB_ASSERT(r.features.size() == n && r.fixed_features.size() == system.fixed.size(),
                    "measurement '{}' does not match system {}", r.label, system.name);
    const auto i = static_cast<Eigen::Index>(row);
    for (Eigen::Index k = 0; k < k_cols; ++k)
      d.f(i, k) = r.features[d.identified[static_cast<size_t>(k)]];
    d.y[i] = std::max(r.seconds, 1e-12);
    for (size_t k = 0; k < system.fixed.size(); ++k)
      d.offset[i] += *coefficient_or_die(coefficients, system.fixed[k]) * r.fixed_features[k];
  }
  return d;
}

// Every coefficient of the system: fitted ones rounded from `c`, the others kept from
// *coefficients, which is updated with the result. Appends the positive ones' indices in `c`.
std::vector<CoefficientFit> coefficient_fits(const FitSystem& system, const Design& d,
                                             const Eigen::VectorXd& c,
                                             CostCoefficients* coefficients,
                                             std::vector<Eigen::Index>* positive) {
  const size_t n = system.coefficients.size();
  std::vector<CoefficientFit> result(n);
  for (size_t col_idx = 0; col_idx < n; ++col_idx) {
    result[col_idx].name = system.coefficients[col_idx];
    result[col_idx].status = FitStatus::kNotIdentified;
    result[col_idx].relative_std_error = std::numeric_limits<double>::quiet_NaN();
    result[col_idx].value = *coefficient_or_die(coefficients, system.coefficients[col_idx]);
  }
  for (Eigen::Index k = 0; k < c.size(); ++k) {
    CoefficientFit& coefficient = result[d.identified[static_cast<size_t>(k)]];
    coefficient.value = round_significant(c[k], 4);
    coefficient.status = coefficient.value > 0 ? FitStatus::kFitted : FitStatus::kAtZero;
    if (coefficient.value > 0) positive->push_back(k);
  }
  for (const CoefficientFit& r : result) *coefficient_or_die(coefficients, r.name) = r.value;
  return result;
}

// Standard errors from the Gauss-Newton normal matrix at the solution, on the positive
// coefficients: sigma^2 (J^T J)^-1, J the Jacobian of the log residuals (features divided by
// the prediction), sigma^2 their variance. Returns J with unit-norm columns (empty when the
// prediction is not positive), whose condition number the fit reports.
Eigen::MatrixXd add_standard_errors(const Design& d, const Eigen::VectorXd& c,
                                    const std::vector<Eigen::Index>& positive,
                                    std::vector<CoefficientFit>* result) {
  const Eigen::Index rows = d.f.rows();
  const Eigen::Index k_cols = d.f.cols();
  Eigen::MatrixXd a;
  const Eigen::VectorXd prediction = d.offset + d.f * c;
  if (k_cols == 0 || rows == 0 || prediction.minCoeff() <= 0) return a;
  a = prediction.cwiseInverse().asDiagonal() * d.f;
  Eigen::VectorXd norm(k_cols);
  for (Eigen::Index k = 0; k < k_cols; ++k) {
    norm[k] = a.col(k).norm();
    a.col(k) /= norm[k];
  }
  const auto p_cols = static_cast<Eigen::Index>(positive.size());
  if (p_cols == 0 || rows <= p_cols) return a;
  Eigen::MatrixXd ap(rows, p_cols);
  for (Eigen::Index k = 0; k < p_cols; ++k) ap.col(k) = a.col(positive[static_cast<size_t>(k)]);
  const double sigma2 = log_objective(prediction, d.y) / static_cast<double>(rows - p_cols);
  const Eigen::MatrixXd gram_inverse =
      (ap.transpose() * ap).ldlt().solve(Eigen::MatrixXd::Identity(p_cols, p_cols));
  for (Eigen::Index k = 0; k < p_cols; ++k) {
    const Eigen::Index col = positive[static_cast<size_t>(k)];
    (*result)[d.identified[static_cast<size_t>(col)]].relative_std_error =
        std::sqrt(std::max(0.0, sigma2 * gram_inverse(k, k))) / (c[col] * norm[col]);
  }
  return a;
}

// R^2, errors overall and per shape, and the worst rows, with the rounded values stored.
void add_quality(const FitSystem& system, const Eigen::VectorXd& offset, SystemFit* fit) {
  const size_t m = system.rows.size();
  std::vector<double> measured(m), predicted(m);
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> by_shape;
  for (size_t row = 0; row < m; ++row) {
    const Measurement& r = system.rows[row];
    double p = offset[static_cast<Eigen::Index>(row)];
    for (size_t col_idx = 0; col_idx < system.coefficients.size(); ++col_idx)
      p += fit->coefficients[col_idx].value * r.features[col_idx];
    measured[row] = r.seconds;
    predicted[row] = p;
    by_shape[r.shape].first.push_back(r.seconds);
    by_shape[r.shape].second.push_back(p);
  }
  fit->overall = summarise("all", measured, predicted);
  for (const auto& [shape, values] : by_shape)
    fit->shapes.push_back(summarise(shape, values.first, values.second));
  double mean = 0;
  for (double seconds : measured) mean += seconds;
  mean /= static_cast<double>(std::max<size_t>(m, 1));
  double ss_res = 0, ss_tot = 0;
  for (size_t row = 0; row < m; ++row) {
    ss_res += (measured[row] - predicted[row]) * (measured[row] - predicted[row]);
    ss_tot += (measured[row] - mean) * (measured[row] - mean);
  }
  fit->r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : std::numeric_limits<double>::quiet_NaN();

  std::vector<size_t> order(m);
  for (size_t row = 0; row < m; ++row) order[row] = row;
  auto rel = [&](size_t row) {
    return std::abs(predicted[row] - measured[row]) / std::max(measured[row], 1e-12);
  };
  std::sort(order.begin(), order.end(), [&](size_t l, size_t r) { return rel(l) > rel(r); });
  for (size_t idx = 0; idx < std::min<size_t>(5, m); ++idx)
    fit->worst.push_back(
        {system.rows[order[idx]].label, measured[order[idx]], predicted[order[idx]]});
}

}  // namespace

SystemFit fit_system(const FitSystem& system, CostCoefficients* coefficients) {
  SystemFit fit;
  fit.name = system.name;
  fit.rows = system.rows.size();
  const Design d = make_design(system, coefficients);
  // Start from least squares on relative error, then minimise the squared log ratio: errors of
  // a timing model are multiplicative, and unlike relative least squares (which penalises
  // over-prediction without bound and under-prediction by at most 100%) the log objective does
  // not pull the fit low.
  Eigen::VectorXd c = Eigen::VectorXd::Zero(d.f.cols());
  if (d.f.cols() > 0 && d.f.rows() > 0) {
    c = weighted_nnls(d.f, d.y.cwiseInverse(), d.y - d.offset);
    c = fit_log(d.f, d.offset, d.y, c);
  }
  std::vector<Eigen::Index> positive;
  std::vector<CoefficientFit> result = coefficient_fits(system, d, c, coefficients, &positive);
  const Eigen::MatrixXd a = add_standard_errors(d, c, positive, &result);
  fit.coefficients = std::move(result);
  if (a.size() > 0) {
    Eigen::JacobiSVD<Eigen::MatrixXd> svd(a);
    const auto& sv = svd.singularValues();
    fit.condition =
        sv[sv.size() - 1] > 0 ? sv[0] / sv[sv.size() - 1] : std::numeric_limits<double>::infinity();
  }
  add_quality(system, d.offset, &fit);
  return fit;
}

}  // namespace shardlab::calibration
