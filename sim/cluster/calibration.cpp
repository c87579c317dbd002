#include "sim/cluster/calibration.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/vfs.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <string_view>
#include <thread>

#include "engine/codecs/codec.h"
#include "engine/common/errors.h"
#include "engine/exec/query.h"
#include "engine/storage/merge_selector.h"
#include "sim/cluster/part_result_cache.h"
#include "sim/cluster/sharding.h"
#include "workloads/engine_block.h"

namespace shardlab::sim::cluster {

namespace fs = std::filesystem;

const std::vector<std::string> kQueryCoefficients = {
    "query_setup_s",       "part_s",       "part_column_s", "granule_s", "row_read_s",
    "uncompressed_byte_s", "row_passed_s", "row_grouped_s", "group_s",   "result_byte_s"};
const std::vector<std::string> kInitiatorCoefficients = {"initiator_query_s", "merge_state_group_s",
                                                         "initiator_row_s"};
const std::vector<std::string> kSplitCoefficients = {"split_batch_s", "split_row_s"};
const std::vector<std::string> kInsertCoefficients = {"insert_part_s", "insert_row_s",
                                                      "insert_byte_s"};
const std::vector<std::string> kMergeCoefficients = {"merge_part_s", "merge_row_s", "merge_byte_s"};

std::vector<double> query_features(const engine::WorkProfile& p) {
  return {1.0,
          static_cast<double>(p.parts_selected),
          static_cast<double>(p.parts_selected) * static_cast<double>(p.columns.size()),
          static_cast<double>(p.granules_read),
          static_cast<double>(p.rows_read),
          static_cast<double>(p.uncompressed_bytes()),
          static_cast<double>(p.rows_passed),
          static_cast<double>(grouped_rows(p)),
          static_cast<double>(p.groups),
          static_cast<double>(p.result_bytes)};
}

std::vector<double> initiator_features(uint64_t groups_merged, uint64_t rows_merged) {
  return {1.0, static_cast<double>(groups_merged), static_cast<double>(rows_merged)};
}

std::vector<double> split_features(uint64_t rows) { return {1.0, static_cast<double>(rows)}; }

std::vector<double> insert_features(const engine::InsertResult& insert) {
  return {static_cast<double>(insert.parts.size()), static_cast<double>(insert.rows),
          static_cast<double>(insert.uncompressed_bytes)};
}

std::vector<double> merge_features(const engine::MergeProfile& merge) {
  return {static_cast<double>(merge.parts), static_cast<double>(merge.rows_read),
          static_cast<double>(merge.uncompressed_bytes_read)};
}

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

// ---------------------------------------------------------------------------------------------
// Non-negative least squares

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

// ---------------------------------------------------------------------------------------------
// Fitting

namespace {

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

double* coefficient_or_die(CostCoefficients* c, const std::string& name) {
  double* value = coefficient_by_name(c, name);
  SHARDLAB_ASSERT(value != nullptr, "no cost coefficient '{}'", name);
  return value;
}

}  // namespace

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

SystemFit fit_system(const FitSystem& system, CostCoefficients* coefficients) {
  const size_t m = system.rows.size();
  const size_t n = system.coefficients.size();
  const auto rows = static_cast<Eigen::Index>(m);
  SystemFit fit;
  fit.name = system.name;
  fit.rows = m;

  // Only columns with a non-zero entry can be identified.
  std::vector<size_t> identified;
  for (size_t col_idx = 0; col_idx < n; ++col_idx) {
    bool any = false;
    for (const Measurement& r : system.rows) any = any || r.features[col_idx] != 0;
    if (any) identified.push_back(col_idx);
  }
  const auto k_cols = static_cast<Eigen::Index>(identified.size());

  // The features of the identified columns, the measured seconds, and the seconds explained by
  // coefficients fitted elsewhere.
  Eigen::MatrixXd f(rows, k_cols);
  Eigen::VectorXd y(rows), offset = Eigen::VectorXd::Zero(rows);
  for (size_t row = 0; row < m; ++row) {
    const Measurement& r = system.rows[row];
    SHARDLAB_ASSERT(r.features.size() == n && r.fixed_features.size() == system.fixed.size(),
                    "measurement '{}' does not match system {}", r.label, system.name);
    const auto i = static_cast<Eigen::Index>(row);
    for (Eigen::Index k = 0; k < k_cols; ++k)
      f(i, k) = r.features[identified[static_cast<size_t>(k)]];
    y[i] = std::max(r.seconds, 1e-12);
    for (size_t k = 0; k < system.fixed.size(); ++k)
      offset[i] += *coefficient_or_die(coefficients, system.fixed[k]) * r.fixed_features[k];
  }
  // Start from least squares on relative error, then minimise the squared log ratio: errors of
  // a timing model are multiplicative, and unlike relative least squares (which penalises
  // over-prediction without bound and under-prediction by at most 100%) the log objective does
  // not pull the fit low.
  Eigen::VectorXd c = Eigen::VectorXd::Zero(k_cols);
  if (k_cols > 0 && m > 0) {
    c = weighted_nnls(f, y.cwiseInverse(), y - offset);
    c = fit_log(f, offset, y, c);
  }

  std::vector<CoefficientFit> result(n);
  for (size_t col_idx = 0; col_idx < n; ++col_idx) {
    result[col_idx].name = system.coefficients[col_idx];
    result[col_idx].status = FitStatus::kNotIdentified;
    result[col_idx].relative_std_error = std::numeric_limits<double>::quiet_NaN();
    result[col_idx].value = *coefficient_or_die(coefficients, system.coefficients[col_idx]);
  }
  std::vector<Eigen::Index> positive;
  for (Eigen::Index k = 0; k < k_cols; ++k) {
    CoefficientFit& coefficient = result[identified[static_cast<size_t>(k)]];
    coefficient.value = round_significant(c[k], 4);
    coefficient.status = coefficient.value > 0 ? FitStatus::kFitted : FitStatus::kAtZero;
    if (coefficient.value > 0) positive.push_back(k);
  }
  for (const CoefficientFit& r : result) *coefficient_or_die(coefficients, r.name) = r.value;

  // Standard errors from the Gauss-Newton normal matrix at the solution, on the positive
  // coefficients: sigma^2 (J^T J)^-1, J the Jacobian of the log residuals (features divided by
  // the prediction), sigma^2 their variance.
  Eigen::MatrixXd a;  // J with unit-norm columns
  const Eigen::VectorXd prediction = offset + f * c;
  if (k_cols > 0 && m > 0 && prediction.minCoeff() > 0) {
    a = prediction.cwiseInverse().asDiagonal() * f;
    Eigen::VectorXd norm(k_cols);
    for (Eigen::Index k = 0; k < k_cols; ++k) {
      norm[k] = a.col(k).norm();
      a.col(k) /= norm[k];
    }
    const auto p_cols = static_cast<Eigen::Index>(positive.size());
    if (p_cols > 0 && rows > p_cols) {
      Eigen::MatrixXd ap(rows, p_cols);
      for (Eigen::Index k = 0; k < p_cols; ++k) ap.col(k) = a.col(positive[static_cast<size_t>(k)]);
      const double sigma2 = log_objective(prediction, y) / static_cast<double>(rows - p_cols);
      const Eigen::MatrixXd gram_inverse =
          (ap.transpose() * ap).ldlt().solve(Eigen::MatrixXd::Identity(p_cols, p_cols));
      for (Eigen::Index k = 0; k < p_cols; ++k) {
        const Eigen::Index col = positive[static_cast<size_t>(k)];
        result[identified[static_cast<size_t>(col)]].relative_std_error =
            std::sqrt(std::max(0.0, sigma2 * gram_inverse(k, k))) / (c[col] * norm[col]);
      }
    }
  }
  fit.coefficients = std::move(result);

  if (a.size() > 0) {
    Eigen::JacobiSVD<Eigen::MatrixXd> svd(a);
    const auto& sv = svd.singularValues();
    fit.condition =
        sv[sv.size() - 1] > 0 ? sv[0] / sv[sv.size() - 1] : std::numeric_limits<double>::infinity();
  }

  // Quality, with the rounded values actually stored.
  std::vector<double> measured(m), predicted(m);
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> by_shape;
  for (size_t row = 0; row < m; ++row) {
    const Measurement& r = system.rows[row];
    double p = offset[static_cast<Eigen::Index>(row)];
    for (size_t col_idx = 0; col_idx < n; ++col_idx)
      p += fit.coefficients[col_idx].value * r.features[col_idx];
    measured[row] = r.seconds;
    predicted[row] = p;
    by_shape[r.shape].first.push_back(r.seconds);
    by_shape[r.shape].second.push_back(p);
  }
  fit.overall = summarise("all", measured, predicted);
  for (const auto& [shape, values] : by_shape)
    fit.shapes.push_back(summarise(shape, values.first, values.second));
  double mean = 0;
  for (double seconds : measured) mean += seconds;
  mean /= static_cast<double>(std::max<size_t>(m, 1));
  double ss_res = 0, ss_tot = 0;
  for (size_t row = 0; row < m; ++row) {
    ss_res += (measured[row] - predicted[row]) * (measured[row] - predicted[row]);
    ss_tot += (measured[row] - mean) * (measured[row] - mean);
  }
  fit.r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : std::numeric_limits<double>::quiet_NaN();

  std::vector<size_t> order(m);
  for (size_t row = 0; row < m; ++row) order[row] = row;
  auto rel = [&](size_t row) {
    return std::abs(predicted[row] - measured[row]) / std::max(measured[row], 1e-12);
  };
  std::sort(order.begin(), order.end(), [&](size_t l, size_t r) { return rel(l) > rel(r); });
  for (size_t idx = 0; idx < std::min<size_t>(5, m); ++idx)
    fit.worst.push_back(
        {system.rows[order[idx]].label, measured[order[idx]], predicted[order[idx]]});
  return fit;
}

// ---------------------------------------------------------------------------------------------
// Measuring

namespace {

using Clock = std::chrono::steady_clock;

double wall_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of the calling thread: excludes time blocked in fsync.
double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
  SHARDLAB_ASSERT(!v.empty(), "median of nothing");
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// A fresh directory removed with everything in it on destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const fs::path& parent) {
    std::string pattern = (parent / "shardlab-calibrate-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw RuntimeError(fmt::format("cannot create a work directory in '{}': {}", parent.string(),
                                     std::strerror(errno)));
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// In-memory and LZ4-framed sizes of columns, as the native protocol ships blocks: each column
// compressed in chunks of at most max_compress_block_size (1 MiB).
struct WireBytes {
  uint64_t raw = 0;
  uint64_t wire = 0;

  void add_buffer(const char* data, size_t bytes) {
    constexpr size_t kChunk = 1 << 20;
    engine::PodVector<char> out;
    for (size_t at = 0; at < bytes; at += kChunk) {
      const size_t len = std::min(kChunk, bytes - at);
      out.clear();
      wire += engine::compress_block(engine::CodecSpec{}, data + at, len, 1, &out,
                                     /*allow_bit_packing=*/false);
      raw += len;
    }
  }
  void add(const std::vector<engine::Column>& columns) {
    for (const auto& c : columns) {
      add_buffer(reinterpret_cast<const char*>(c.data.data()), c.data.size());
      add_buffer(reinterpret_cast<const char*>(c.offsets.data()), c.offsets.size() * 4);
      add_buffer(c.chars.data(), c.chars.size());
    }
  }
  double ratio() const {
    return raw > 0 ? static_cast<double>(wire) / static_cast<double>(raw) : 0;
  }
};

// The three insert layouts: the case study's table, a narrow one, and one with plain strings.
struct Layout {
  const char* name;
  const char* ddl;
};
constexpr const char* kNarrowDdl =
    "CREATE TABLE narrow (event_time DateTime, user_id UInt64) ENGINE = MergeTree() "
    "PARTITION BY toYYYYMMDD(event_time) ORDER BY (event_time, user_id)";
constexpr const char* kStringsDdl =
    "CREATE TABLE strings (user_id UInt64, item_id UInt64, action String, event_time DateTime, "
    "province String, gender String) ENGINE = MergeTree() PARTITION BY toYYYYMMDD(event_time) "
    "ORDER BY (event_time, user_id)";

struct QuerySpec {
  const char* name;
  const char* shape;
  const char* sql;
};

// Realistic queries over user_behavior (most from tests/differential/queries.sql), covering the
// shapes whose costs differ: what the index prunes, how many rows pass, how many groups, how
// many result bytes. user_id 1 is the most active user (Zipf rank 1).
constexpr QuerySpec kQueries[] = {
    {"pk_second", "point", "SELECT * FROM user_behavior WHERE event_time = '2024-05-03 12:00:00'"},
    {"pk_minute_users", "point",
     "SELECT user_id, item_id, action FROM user_behavior WHERE event_time >= '2024-05-05 "
     "20:00:00' AND event_time < '2024-05-05 20:01:00' AND user_id < 100000"},
    {"pk_second_user", "point",
     "SELECT count() FROM user_behavior WHERE event_time = '2024-05-06 03:30:00' AND user_id = 1"},
    {"day_count", "time_range",
     "SELECT count() FROM user_behavior WHERE event_time >= '2024-05-02 00:00:00' AND event_time "
     "< '2024-05-03 00:00:00'"},
    {"half_day_actions", "time_range",
     "SELECT action, count() FROM user_behavior WHERE event_time BETWEEN '2024-05-03 06:00:00' "
     "AND '2024-05-03 18:00:00' GROUP BY action ORDER BY action"},
    {"hour_aggregates", "time_range",
     "SELECT count(), min(event_time), max(event_time), sum(item_id) FROM user_behavior WHERE "
     "event_time > '2024-05-04 00:00:00' AND event_time <= '2024-05-04 01:00:00'"},
    {"week_sums", "time_range",
     "SELECT sum(item_id), max(user_id) FROM user_behavior WHERE event_time >= '2024-05-01 "
     "00:00:00' AND event_time < '2024-05-08 00:00:00'"},
    {"q1_beijing_clicks", "lowcard_filter",
     "SELECT count() FROM user_behavior WHERE event_time >= '2024-05-01 00:00:00' AND event_time "
     "< '2024-05-02 00:00:00' AND province = '北京' AND action = 'click'"},
    {"shanghai_women", "lowcard_filter",
     "SELECT count() FROM user_behavior WHERE province = '上海' AND gender = 'F'"},
    {"provinces_in", "lowcard_filter",
     "SELECT province, count() AS c FROM user_behavior WHERE province IN ('北京', '上海', '广东', "
     "'浙江') GROUP BY province ORDER BY province"},
    {"buy_items", "lowcard_filter",
     "SELECT count(), sum(item_id) FROM user_behavior WHERE action = 'buy'"},
    {"three_keys", "group_few",
     "SELECT province, gender, action, count() AS c FROM user_behavior GROUP BY province, gender, "
     "action ORDER BY province, gender, action"},
    {"by_action", "group_few",
     "SELECT action, count(), avg(item_id), max(user_id) FROM user_behavior GROUP BY action ORDER "
     "BY action"},
    {"by_hour", "group_few",
     "SELECT toStartOfHour(event_time) AS h, count() AS c FROM user_behavior WHERE event_time < "
     "'2024-05-03 00:00:00' GROUP BY h ORDER BY h"},
    {"by_shard", "group_few",
     "SELECT cityHash64(user_id) % 8 AS shard, count() AS c, sum(item_id) FROM user_behavior "
     "GROUP BY shard ORDER BY shard"},
    {"q2_top_items", "group_many",
     "SELECT item_id, count() AS c FROM user_behavior WHERE event_time >= '2024-05-01 00:00:00' "
     "AND event_time < '2024-05-08 00:00:00' AND province = '北京' AND gender = 'F' AND action = "
     "'click' GROUP BY item_id ORDER BY c DESC, item_id LIMIT 10"},
    {"q4_top_users", "group_many",
     "SELECT user_id, count() AS c FROM user_behavior WHERE event_time >= '2024-05-02 00:00:00' "
     "AND event_time < '2024-05-03 00:00:00' AND action = 'click' GROUP BY user_id ORDER BY c "
     "DESC, user_id LIMIT 10"},
    {"all_items", "group_many",
     "SELECT item_id, count() AS c FROM user_behavior GROUP BY item_id ORDER BY c DESC, item_id "
     "LIMIT 10"},
    {"male_clickers", "group_many",
     "SELECT user_id, count() AS c, max(event_time) FROM user_behavior WHERE action = 'click' AND "
     "gender = 'M' GROUP BY user_id ORDER BY c DESC, user_id LIMIT 10"},
    {"first_rows", "order_limit",
     "SELECT * FROM user_behavior ORDER BY event_time, user_id, item_id, action, province, gender "
     "LIMIT 20"},
    {"latest_buys", "order_limit",
     "SELECT user_id, item_id, event_time FROM user_behavior WHERE action = 'buy' ORDER BY "
     "event_time DESC, user_id, item_id LIMIT 100"},
    {"guangdong_items", "order_limit",
     "SELECT item_id, user_id FROM user_behavior WHERE province = '广东' ORDER BY item_id, user_id "
     "LIMIT 1000"},
    {"top_user_rows", "select_rows", "SELECT * FROM user_behavior WHERE user_id = 1"},
    {"beijing_buys", "select_rows",
     "SELECT user_id, item_id FROM user_behavior WHERE action = 'buy' AND province = '北京'"},
    {"hour_rows", "select_rows",
     "SELECT * FROM user_behavior WHERE event_time >= '2024-05-04 00:00:00' AND event_time < "
     "'2024-05-04 01:00:00'"},
    {"women_any", "select_rows",
     "SELECT item_id, event_time FROM user_behavior WHERE gender = 'F' LIMIT 1000"},
};

class Measurer {
 public:
  Measurer(const CalibrationOptions& options, const fs::path& dir)
      : options_(options), dir_(dir), config_(make_config(options)) {}

  Measurements run() {
    Measurements out;
    out.rows = options_.rows;
    out.repeat = options_.repeat;
    out.seed = options_.seed;
    FitSystem query{"query", kQueryCoefficients, {}, {}};
    FitSystem initiator{"initiator", kInitiatorCoefficients, {"result_byte_s"}, {}};
    FitSystem insert{"insert", kInsertCoefficients, {}, {}};
    FitSystem merge{"merge", kMergeCoefficients, {}, {}};
    FitSystem split{"split", kSplitCoefficients, {}, {}};

    {
      progress(fmt::format("loading the query table ({} rows)", options_.rows));
      auto table = engine::Table::create(dir_ / "query_table", engine::kDefaultUserBehaviorDdl);
      load_query_table(table.get(), &merge);
      const auto parts = table->active_parts();
      out.query_parts = parts.size();
      progress(fmt::format("timing {} queries on {} parts", std::size(kQueries), parts.size()));
      const double cpu0 = thread_cpu_seconds();
      const auto wall0 = Clock::now();
      for (const QuerySpec& spec : kQueries)
        measure_query(table->schema(), parts, spec, &query, &initiator);
      out.query_cpu_over_wall = (thread_cpu_seconds() - cpu0) / wall_since(wall0);
    }
    out.wire_ratio_results = result_wire_.ratio();
    for (const Layout& layout : {Layout{"user_behavior", engine::kDefaultUserBehaviorDdl},
                                 Layout{"narrow", kNarrowDdl}, Layout{"strings", kStringsDdl}}) {
      progress(fmt::format("timing inserts and merges into the {} layout", layout.name));
      measure_writes(layout, &insert, &merge);
    }
    out.wire_ratio_inserts = insert_wire_.ratio();
    progress("timing shard splits");
    measure_splits(&split);
    out.systems = {std::move(query), std::move(initiator), std::move(insert), std::move(merge),
                   std::move(split)};
    return out;
  }

 private:
  static workloads::GeneratorConfig make_config(const CalibrationOptions& options) {
    workloads::GeneratorConfig config;
    config.seed = options.seed;
    config.total_rows = options.rows;
    workloads::validate(config);
    return config;
  }

  void progress(const std::string& message) const {
    if (options_.progress) options_.progress(message);
  }

  // Batches from rows/16 down to rows/1024 in turn, with the merge selector run after each
  // insert as ClickHouse's background pool would: the parts end up of many sizes, as on a
  // replica that is ingesting. The selector's merges are timed too.
  void load_query_table(engine::Table* table, FitSystem* merge) {
    workloads::EngineBlockSource source(config_, table->schema());
    const uint64_t n = options_.rows;
    const uint64_t batches[] = {n / 16, n / 64, n / 256, n / 1024};
    engine::Block block;
    uint64_t done = 0;
    for (size_t idx = 0; done < n; ++idx) {
      const uint64_t count = std::min(std::max<uint64_t>(batches[idx % 4], 256), n - done);
      source.fill(done, count, &block);
      table->insert(block);
      done += count;
      while (auto plan = table->select_merge()) {
        merge->rows.push_back(time_merge(table->schema(), *plan, "selector", "query table"));
        table->merge(*plan, 0);
      }
    }
  }

  // Runs `plan` warm-up + repeat times into a scratch directory (the table is not changed).
  Measurement time_merge(const engine::TableSchema& schema, const engine::MergePlan& plan,
                         const std::string& shape, const std::string& where) {
    const fs::path out = dir_ / "merge_out";
    std::vector<double> times;
    engine::MergeProfile profile;
    for (unsigned run = 0; run <= options_.repeat; ++run) {
      fs::remove_all(out);
      bool empty = false;
      const double start = thread_cpu_seconds();
      profile = engine::merge_parts(schema, plan, out, nullptr, 0, &empty);
      const double seconds = thread_cpu_seconds() - start;
      if (run > 0) times.push_back(seconds);
    }
    fs::remove_all(out);
    return {fmt::format("{}: merge of {} parts, {} rows", where, profile.parts, profile.rows_read),
            shape,
            merge_features(profile),
            {},
            median(std::move(times))};
  }

  // The initiator's finish() over the partials of `set`, each as one shard's partial result.
  engine::QueryResult time_finish(const engine::Query& query,
                                  const std::vector<engine::PartResult>& partials,
                                  const std::vector<size_t>& set, double* seconds) const {
    std::vector<double> times;
    engine::QueryResult result;
    for (unsigned run = 0; run <= options_.repeat; ++run) {
      // finish() consumes its inputs: copies, made outside the timed region.
      std::vector<engine::PartResult> inputs;
      for (size_t part_idx : set) {
        inputs.push_back(query.empty_result());
        PartResultCache::accumulate(partials[part_idx], &inputs.back());
      }
      const auto start = Clock::now();
      engine::QueryResult finished = query.finish(std::move(inputs));
      if (run > 0) times.push_back(wall_since(start));
      result = std::move(finished);
    }
    *seconds = median(std::move(times));
    return result;
  }

  // The sets of parts a replica might hold: each part, each partition, all of them.
  struct PartSet {
    std::string label;
    std::vector<size_t> parts;
  };
  static std::vector<PartSet> part_sets(const std::vector<engine::PartPtr>& parts) {
    std::vector<PartSet> sets;
    std::map<std::string, std::vector<size_t>> by_partition;
    for (size_t part_idx = 0; part_idx < parts.size(); ++part_idx) {
      sets.push_back({parts[part_idx]->name(), {part_idx}});
      by_partition[parts[part_idx]->info().partition_id].push_back(part_idx);
    }
    for (const auto& [partition, members] : by_partition)
      if (members.size() > 1) sets.push_back({"partition " + partition, members});
    if (by_partition.size() > 1) {
      PartSet all{"all parts", {}};
      for (size_t part_idx = 0; part_idx < parts.size(); ++part_idx) all.parts.push_back(part_idx);
      sets.push_back(std::move(all));
    }
    return sets;
  }

  void measure_query(const engine::TableSchema& schema, const std::vector<engine::PartPtr>& parts,
                     const QuerySpec& spec, FitSystem* query_system, FitSystem* initiator) {
    const unsigned repeat = options_.repeat;
    std::vector<double> times;
    std::unique_ptr<engine::Query> query = engine::Query::prepare(schema, spec.sql);
    for (unsigned run = 0; run < repeat; ++run) {
      const auto start = Clock::now();
      auto prepared = engine::Query::prepare(schema, spec.sql);
      times.push_back(wall_since(start));
    }
    const double prepare_s = median(times);

    // A replica runs a subquery in one pass over its parts, as the engine's run() does on one
    // thread. Sets in turn, so a run finds its parts in the page cache but not in the CPU caches
    // from its own previous run.
    const std::vector<PartSet> sets = part_sets(parts);
    std::vector<std::vector<engine::PartPtr>> set_parts;
    for (const PartSet& set : sets) {
      set_parts.emplace_back();
      for (size_t part_idx : set.parts) set_parts.back().push_back(parts[part_idx]);
    }
    std::vector<engine::WorkProfile> profiles(sets.size());
    std::vector<std::vector<double>> run_times(sets.size());
    for (unsigned run = 0; run <= repeat; ++run) {
      for (size_t set_idx = 0; set_idx < sets.size(); ++set_idx) {
        const auto start = Clock::now();
        engine::QueryResult result = query->run(set_parts[set_idx], 1);
        if (run > 0) run_times[set_idx].push_back(wall_since(start));
        if (run == 0) profiles[set_idx] = result.profile;
      }
    }

    // What the cluster sees of a replica's answer: the per-part partials accumulated.
    std::vector<engine::PartResult> partials;
    for (const auto& part : parts) partials.push_back(query->run_part(part));
    for (size_t set_idx = 0; set_idx < sets.size(); ++set_idx) {
      const PartSet& set = sets[set_idx];
      const std::string label = fmt::format("{} on {}", spec.name, set.label);
      engine::PartResult replica = query->empty_result();
      for (size_t part_idx : set.parts) PartResultCache::accumulate(partials[part_idx], &replica);
      engine::WorkProfile profile = profiles[set_idx];
      profile.groups = replica.aggregate ? replica.aggregate->groups() : 0;
      profile.result_bytes = partial_result_bytes(replica);
      query_system->rows.push_back({label,
                                    spec.shape,
                                    query_features(profile),
                                    {},
                                    prepare_s + median(std::move(run_times[set_idx]))});

      double finish_s = 0;
      const engine::QueryResult result = time_finish(*query, partials, set.parts, &finish_s);
      uint64_t groups_merged = 0, rows_merged = 0;
      for (size_t part_idx : set.parts) {
        const engine::PartResult& partial = partials[part_idx];
        if (partial.aggregate) groups_merged += partial.aggregate->groups();
        if (!partial.rows.empty()) rows_merged += partial.rows.front().rows;
      }
      // The initiator analyses the query too, then merges and answers.
      initiator->rows.push_back({label,
                                 spec.shape,
                                 initiator_features(groups_merged, rows_merged),
                                 {static_cast<double>(result.profile.result_bytes)},
                                 prepare_s + finish_s});
      if (set.label == "all parts") result_wire_.add(result.columns);
    }
  }

  // Rows [first, first + count), or `count` rows spread over the seven days (one slice from
  // the middle of each), so an insert writes one part or one per day.
  engine::Block make_block(workloads::EngineBlockSource* source, uint64_t count, bool spread) {
    const auto& gen = source->generator();
    engine::Block block;
    if (!spread) {
      const uint64_t first =
          std::min(gen.first_row_at(gen.start() + 86400 * 3 / 2), gen.total_rows() - count);
      source->fill(first, count, &block);
      return block;
    }
    const int days = static_cast<int>((gen.end() - gen.start()) / 86400);
    engine::Block slice;
    for (int day = 0; day < days; ++day) {
      const uint64_t share = count / days + (day < static_cast<int>(count % days) ? 1 : 0);
      const uint64_t first =
          std::min(gen.first_row_at(gen.start() + 86400 * day + 43200), gen.total_rows() - share);
      source->fill(first, share, day == 0 ? &block : &slice);
      if (day == 0) continue;
      for (size_t col = 0; col < block.columns.size(); ++col)
        engine::append_column(&block.columns[col], slice.columns[col]);
    }
    return block;
  }

  std::vector<uint64_t> batch_sizes() const {
    std::vector<uint64_t> sizes;
    for (uint64_t size = 100; size <= 1'000'000 && size <= options_.rows; size *= 10)
      sizes.push_back(size);
    return sizes;
  }

  void measure_writes(const Layout& layout, FitSystem* insert, FitSystem* merge) {
    auto table = engine::Table::create(dir_ / fmt::format("writes_{}", layout.name), layout.ddl);
    workloads::EngineBlockSource source(config_, table->schema());
    const bool count_wire = std::string_view(layout.name) == "user_behavior";
    for (uint64_t size : batch_sizes()) {
      for (bool spread : {false, true}) {
        const engine::Block block = make_block(&source, size, spread);
        if (count_wire) insert_wire_.add(block.columns);
        std::vector<double> times;
        engine::InsertResult result;
        for (unsigned run = 0; run <= options_.repeat; ++run) {
          const double start = thread_cpu_seconds();
          result = table->insert(block);
          if (run > 0) times.push_back(thread_cpu_seconds() - start);
        }
        insert->rows.push_back({fmt::format("{}: insert of {} rows ({} parts)", layout.name, size,
                                            result.parts.size()),
                                fmt::format("{} rows", size),
                                insert_features(result),
                                {},
                                median(std::move(times))});
      }
    }
    // Merges of runs of 2 and 5 parts at four places, and of every part, in three partitions.
    // Parts lie in insertion order, so the places give merges from tiny to large parts.
    std::map<std::string, std::vector<engine::PartPtr>> by_partition;
    for (const auto& part : table->active_parts())
      by_partition[part->info().partition_id].push_back(part);
    std::vector<const std::vector<engine::PartPtr>*> chosen;
    for (const auto& [id, parts] : by_partition) chosen.push_back(&parts);
    if (chosen.size() > 3) chosen = {chosen.front(), chosen[chosen.size() / 2], chosen.back()};
    for (const auto* parts : chosen) {
      std::vector<std::pair<std::string, std::vector<engine::PartPtr>>> runs;
      for (size_t width : {size_t{2}, size_t{5}}) {
        if (parts->size() < width) continue;
        for (size_t q = 0; q < 4; ++q) {
          const size_t first = q * (parts->size() - width) / 3;
          runs.push_back({fmt::format("{} parts", width),
                          {parts->begin() + static_cast<std::ptrdiff_t>(first),
                           parts->begin() + static_cast<std::ptrdiff_t>(first + width)}});
        }
      }
      if (parts->size() > 5) runs.push_back({"all parts", *parts});
      for (auto& [shape, run] : runs)
        merge->rows.push_back(time_merge(table->schema(), engine::plan_for_parts(std::move(run)),
                                         shape, layout.name));
    }
  }

  // The strategies ClickHouse users shard by (jump hash, shardlab's resharding comparison point,
  // is left out), over the batch sizes of the inserts.
  void measure_splits(FitSystem* split) {
    const auto schema = engine::TableSchema::from_ddl(engine::kDefaultUserBehaviorDdl);
    workloads::EngineBlockSource source(config_, schema);
    std::vector<ShardingSpec> specs(5);
    specs[0].kind = ShardingKind::kHash;
    specs[0].key = "cityHash64(user_id)";
    specs[0].shards = 8;
    specs[1].kind = ShardingKind::kHash;
    specs[1].key = "intHash64(user_id)";
    specs[1].shards = 4;
    specs[1].weights = {1, 2, 1, 1};
    specs[2].kind = ShardingKind::kRange;
    specs[2].key = "toDate(event_time)";
    specs[2].shards = 3;
    specs[2].range_bounds = {"2024-05-03", "2024-05-05"};
    specs[3].kind = ShardingKind::kList;
    specs[3].key = "province";
    specs[3].shards = 3;
    specs[3].lists = {{"北京", "上海"}, {"广东", "浙江", "江苏"}, {}};
    specs[3].default_shard = 2;
    specs[4].kind = ShardingKind::kRandom;
    specs[4].shards = 6;
    for (const ShardingSpec& spec : specs) {
      const ShardingScheme scheme(schema, spec);
      const std::string shape = spec.key.empty()
                                    ? std::string(sharding_kind_name(spec.kind))
                                    : fmt::format("{} {}", sharding_kind_name(spec.kind), spec.key);
      for (uint64_t size : batch_sizes()) {
        const engine::Block block = make_block(&source, size, false);
        std::vector<double> times;
        for (unsigned run = 0; run <= options_.repeat; ++run) {
          const auto start = Clock::now();
          const auto shards = scheme.split(block, options_.seed, run);
          if (run > 0) times.push_back(wall_since(start));
        }
        split->rows.push_back(
            {fmt::format("split of {} rows, {} over {} shards", size, shape, spec.shards),
             shape,
             split_features(size),
             {},
             median(std::move(times))});
      }
    }
  }

  const CalibrationOptions& options_;
  fs::path dir_;
  workloads::GeneratorConfig config_;
  WireBytes insert_wire_;
  WireBytes result_wire_;
};

}  // namespace

namespace {

bool is_tmpfs(const fs::path& dir) {
  constexpr decltype(statfs::f_type) kTmpfsMagic = 0x01021994;
  struct statfs info {};
  return ::statfs(dir.c_str(), &info) == 0 && info.f_type == kTmpfsMagic;
}

// /dev/shm when it is a tmpfs with room for the tables (about 16 bytes a row on disk at most,
// twice over), else the system's temporary directory.
fs::path default_work_dir(const CalibrationOptions& options) {
  const fs::path shm = "/dev/shm";
  std::error_code ec;
  if (!fs::is_directory(shm, ec) || !is_tmpfs(shm)) return fs::temp_directory_path();
  const uint64_t insert_rows = uint64_t{3} * 2 * (options.repeat + 1) * 1'111'100;
  const uint64_t needed = 2 * 16 * (options.rows + insert_rows);
  const auto space = fs::space(shm, ec);
  return !ec && space.available >= needed ? shm : fs::temp_directory_path();
}

}  // namespace

Measurements measure(const CalibrationOptions& options) {
  if (options.rows < 10'000)
    throw InputError(fmt::format("calibration: rows must be at least 10000, got {}", options.rows));
  if (options.repeat < 1 || options.repeat > kMaxRepeat)
    throw InputError(
        fmt::format("calibration: repeat must be in 1..{}, got {}", kMaxRepeat, options.repeat));
  const fs::path parent = options.work_dir.empty() ? default_work_dir(options) : options.work_dir;
  const bool tmpfs = is_tmpfs(parent);
  if (!tmpfs && options.progress)
    options.progress(fmt::format(
        "warning: '{}' is not a tmpfs: insert and merge CPU times include the kernel's fsync work",
        parent.string()));
  ScratchDir dir(parent);
  Measurements out = Measurer(options, dir.path()).run();
  out.work_dir = parent.string();
  out.work_dir_tmpfs = tmpfs;
  return out;
}

std::string measurements_csv(const Measurements& measurements,
                             const CostCoefficients& coefficients) {
  CostCoefficients c = coefficients;
  std::string out = "system,shape,label,measured_s,predicted_s,features\n";
  for (const FitSystem& system : measurements.systems) {
    for (const Measurement& row : system.rows) {
      double predicted = 0;
      std::string features;
      for (size_t k = 0; k < system.coefficients.size(); ++k) {
        predicted += *coefficient_or_die(&c, system.coefficients[k]) * row.features[k];
        features += fmt::format("{}{}={}", features.empty() ? "" : ";", system.coefficients[k],
                                row.features[k]);
      }
      for (size_t k = 0; k < system.fixed.size(); ++k) {
        predicted += *coefficient_or_die(&c, system.fixed[k]) * row.fixed_features[k];
        features += fmt::format(";{}={}", system.fixed[k], row.fixed_features[k]);
      }
      out += fmt::format("{},{},\"{}\",{:.6g},{:.6g},{}\n", system.name, row.shape, row.label,
                         row.seconds, predicted, features);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The calibration file's `about`

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    const size_t begin = line.find_first_not_of(" \t", colon + 1);
    return begin == std::string::npos ? "unknown" : line.substr(begin);
  }
  return "unknown";
}

namespace {

double rounded(double value) { return round_significant(value, 4); }

nlohmann::ordered_json error_json(const ErrorSummary& e) {
  return {{"rows", e.rows},
          {"median", rounded(e.median)},
          {"median_abs", rounded(e.median_abs)},
          {"p90_abs", rounded(e.p90_abs)},
          {"max_abs", rounded(e.max_abs)},
          {"bias", rounded(e.bias)}};
}

nlohmann::ordered_json fit_json(const SystemFit& fit) {
  nlohmann::ordered_json j;
  j["rows"] = fit.rows;
  j["r2"] = rounded(fit.r2);
  j["condition"] = rounded(fit.condition);
  j["relative_error"] = error_json(fit.overall);
  nlohmann::ordered_json shapes = nlohmann::ordered_json::object();
  for (const auto& s : fit.shapes) shapes[s.shape] = error_json(s);
  j["shapes"] = shapes;
  nlohmann::ordered_json coefficients = nlohmann::ordered_json::object();
  for (const auto& c : fit.coefficients) {
    nlohmann::ordered_json entry = {{"status", fit_status_name(c.status)}};
    if (std::isfinite(c.relative_std_error))
      entry["relative_std_error"] = rounded(c.relative_std_error);
    coefficients[c.name] = entry;
  }
  j["coefficients"] = coefficients;
  return j;
}

}  // namespace

Calibration fit(const Measurements& measurements, const CostCoefficients& start) {
  Calibration c;
  c.coefficients = start;
  for (const FitSystem& system : measurements.systems)
    c.fits.push_back(fit_system(system, &c.coefficients));
  if (measurements.wire_ratio_inserts > 0)
    c.coefficients.wire_ratio = rounded(measurements.wire_ratio_inserts);

  nlohmann::ordered_json& about = c.about;
  about["generated_by"] = fmt::format("shardlab calibrate --rows {} --repeat {} --seed {}",
                                      measurements.rows, measurements.repeat, measurements.seed);
  about["rows"] = measurements.rows;
  about["repeat"] = measurements.repeat;
  about["seed"] = measurements.seed;
  about["machine"] = {{"cpu_model", cpu_model_name()},
                      {"cores", std::thread::hardware_concurrency()}};
  about["method"] =
      "one thread, data in the page cache; median of `repeat` runs after a warm-up; queries and "
      "splits timed by wall clock, inserts and merges by thread CPU time (no fsync waits); "
      "per system, non-negative least squares on log(predicted / measured) (Gauss-Newton from "
      "the relative-error fit)";
  about["work_dir_tmpfs"] = measurements.work_dir_tmpfs;
  about["query_table_parts"] = measurements.query_parts;
  about["query_cpu_over_wall"] = rounded(measurements.query_cpu_over_wall);
  about["wire_ratio"] = {{"insert_blocks", rounded(measurements.wire_ratio_inserts)},
                         {"query_results", rounded(measurements.wire_ratio_results)}};
  nlohmann::ordered_json fits = nlohmann::ordered_json::object();
  for (const SystemFit& f : c.fits) fits[f.name] = fit_json(f);
  about["fits"] = fits;
  return c;
}

}  // namespace shardlab::sim::cluster
