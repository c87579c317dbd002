#include "calibration/live_fit.h"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>

#include "calibration/calibration.h"
#include "calibration/nnls.h"

namespace shardlab::calibration {

namespace {

using sim::cluster::CostCoefficients;
using sim::cluster::CostModel;

struct Line {
  double intercept = 0;
  double slope = 0;
  std::vector<std::string> notes;
};

// Non-negative weighted least squares of y = sum_j beta_j * columns[j] (weights 1/y: relative
// errors), with the columns scaled to unit norm for the solver.
Eigen::VectorXd fit_terms(const std::vector<std::vector<double>>& columns,
                          const std::vector<double>& y) {
  const auto n = static_cast<Eigen::Index>(y.size());
  const auto k = static_cast<Eigen::Index>(columns.size());
  Eigen::MatrixXd a(n, k);
  Eigen::VectorXd b(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double w = 1.0 / std::max(y[static_cast<size_t>(i)], 1e-9);
    b(i) = w * y[static_cast<size_t>(i)];
    for (Eigen::Index j = 0; j < k; ++j) {
      a(i, j) = w * columns[static_cast<size_t>(j)][static_cast<size_t>(i)];
    }
  }
  Eigen::VectorXd norms = a.colwise().norm().transpose();
  for (Eigen::Index j = 0; j < k; ++j) {
    if (norms(j) == 0) norms(j) = 1;
    a.col(j) /= norms(j);
  }
  return solve_nnls(a, b).cwiseQuotient(norms);
}

Line fit_line(const std::vector<double>& x, const std::vector<double>& y, const char* what) {
  const Eigen::VectorXd beta = fit_terms({std::vector<double>(x.size(), 1.0), x}, y);
  Line line{beta(0), beta(1), {}};
  if (line.slope == 0) line.notes.push_back(fmt::format("{}: no cost per unit was found", what));
  return line;
}

// The scan (reading and decoding) and the aggregation: the two kinds of query work whose speed
// differs most between ClickHouse and the engine, fitted with a factor each.
constexpr const char* kScanWork[] = {"part_s", "part_column_s", "granule_s", "row_read_s",
                                     "uncompressed_byte_s"};
constexpr const char* kAggregationWork[] = {"row_passed_s", "row_grouped_s", "group_s",
                                            "result_byte_s"};

// The engine's cost of a subquery counting only the named coefficients.
double partial_cpu(const CostCoefficients& engine, const engine::WorkProfile& profile,
                   std::initializer_list<const char*> names) {
  CostCoefficients only{};
  only.wire_ratio = engine.wire_ratio;
  for (const char* name : names) {
    *coefficient_by_name(&only, name) =
        *coefficient_by_name(const_cast<CostCoefficients*>(&engine), name);
  }
  return CostModel(only).subquery(profile).cpu_s;
}

}  // namespace

LiveFit fit_live(const LiveMeasurements& m, const CostCoefficients& engine) {
  LiveFit fit;
  CostCoefficients c = engine;
  const CostModel engine_model(engine);

  // Subqueries: local_s = setup + k_scan * engine scan cost + k_agg * engine aggregation cost.
  std::vector<double> ones{1.0};
  std::vector<double> scan{0.0};
  std::vector<double> aggregation{0.0};
  std::vector<double> y{m.select_one_s};
  for (const LiveQueryPoint& q : m.queries) {
    ones.push_back(1.0);
    scan.push_back(
        partial_cpu(engine, q.profile,
                    {"part_s", "part_column_s", "granule_s", "row_read_s", "uncompressed_byte_s"}));
    aggregation.push_back(partial_cpu(
        engine, q.profile, {"row_passed_s", "row_grouped_s", "group_s", "result_byte_s"}));
    y.push_back(q.local_s);
  }
  Eigen::VectorXd beta = fit_terms({ones, scan, aggregation}, y);
  Line query{beta(0), 0, {}};
  double scan_factor = beta(1);
  double aggregation_factor = beta(2);
  if (scan_factor == 0 || aggregation_factor == 0) {
    // The probes could not tell the two apart (their work moves together across the probes): a
    // zero would make that work free. One factor for both, fitted to their sum, instead.
    std::vector<double> both;
    for (size_t i = 0; i < scan.size(); ++i) both.push_back(scan[i] + aggregation[i]);
    beta = fit_terms({ones, both}, y);
    query.intercept = beta(0);
    scan_factor = aggregation_factor = beta(1);
    query.notes.push_back(
        "subqueries: the probes do not separate scan from aggregation; one factor for both");
  }
  for (const char* name : kScanWork) *coefficient_by_name(&c, name) *= scan_factor;
  for (const char* name : kAggregationWork) *coefficient_by_name(&c, name) *= aggregation_factor;
  c.query_setup_s = query.intercept + engine.query_setup_s;
  if (scan_factor == 0) query.notes.push_back("subqueries: no cost per unit of work was found");

  // The initiator.
  std::vector<double> overhead;
  for (const LiveQueryPoint& q : m.queries) overhead.push_back(q.distributed_s - q.local_s);
  double initiator_extra = 0;
  if (!overhead.empty()) {
    std::nth_element(overhead.begin(), overhead.begin() + overhead.size() / 2, overhead.end());
    initiator_extra = std::max(0.0, overhead[overhead.size() / 2]);
  }
  c.initiator_query_s = engine.initiator_query_s + initiator_extra;

  // Inserts.
  Line insert;
  if (m.inserts.size() >= 2) {
    std::vector<double> rows;
    std::vector<double> seconds;
    for (const LiveInsertPoint& p : m.inserts) {
      rows.push_back(static_cast<double>(p.rows));
      seconds.push_back(p.seconds);
    }
    insert = fit_line(rows, seconds, "inserts");
    const LiveInsertPoint& largest = m.inserts.back();
    const double bytes_per_row = static_cast<double>(largest.bytes) /
                                 static_cast<double>(std::max<uint64_t>(1, largest.rows));
    const double engine_per_row =
        engine.split_row_s + engine.insert_row_s + engine.insert_byte_s * bytes_per_row;
    const double scale = engine_per_row > 0 ? insert.slope / engine_per_row : 1.0;
    c.split_row_s = engine.split_row_s * scale;
    c.insert_row_s = engine.insert_row_s * scale;
    c.insert_byte_s = engine.insert_byte_s * scale;
    const double charged =
        engine.insert_part_s * static_cast<double>(largest.parts) + m.coordinator_s_per_insert;
    c.split_batch_s = std::max(0.0, insert.intercept - charged);
  }
  fit.coefficients = c;

  // What the fitted model predicts for each probe, beside the measurement.
  const CostModel fitted(c);
  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  fit.report.push_back(fmt::format("ClickHouse {} on loopback, {} rows, median of {}",
                                   m.server_version, m.rows, m.repeat));
  fit.report.push_back(fmt::format("{:<28} {:>12} {:>12} {:>12} {:>12}", "probe", "measured_s",
                                   "engine_s", "fitted_s", "fitted/meas"));
  const auto add = [&](const std::string& name, double measured, double engine_s, double fitted_s) {
    points.push_back({{"probe", name},
                      {"measured_s", measured},
                      {"engine_model_s", engine_s},
                      {"fitted_model_s", fitted_s}});
    fit.report.push_back(fmt::format("{:<28} {:>12.6f} {:>12.6f} {:>12.6f} {:>12.3f}", name,
                                     measured, engine_s, fitted_s,
                                     measured > 0 ? fitted_s / measured : 0.0));
  };
  add("SELECT 1", m.select_one_s, engine.query_setup_s, c.query_setup_s);
  for (const LiveQueryPoint& q : m.queries) {
    add(q.name + " (local)", q.local_s, engine_model.subquery(q.profile).cpu_s,
        fitted.subquery(q.profile).cpu_s);
    add(q.name + " (distributed)", q.distributed_s,
        engine_model.subquery(q.profile).cpu_s + engine.initiator_query_s,
        fitted.subquery(q.profile).cpu_s + c.initiator_query_s);
  }
  for (const LiveInsertPoint& p : m.inserts) {
    const auto cost = [&](const CostCoefficients& k) {
      return k.split_batch_s + k.split_row_s * static_cast<double>(p.rows) +
             k.insert_part_s * static_cast<double>(p.parts) +
             k.insert_row_s * static_cast<double>(p.rows) +
             k.insert_byte_s * static_cast<double>(p.bytes) + m.coordinator_s_per_insert;
    };
    add(fmt::format("INSERT {} rows (sync)", p.rows), p.seconds, cost(engine), cost(c));
  }
  std::vector<std::string> notes = query.notes;
  notes.insert(notes.end(), insert.notes.begin(), insert.notes.end());
  for (const std::string& note : notes) fit.report.push_back("note: " + note);
  fit.about = {
      {"source", "shardlab calibrate --live"},
      {"server", "ClickHouse " + m.server_version},
      {"machine", cpu_model_name()},
      {"rows", m.rows},
      {"repeat", m.repeat},
      {"subquery_fit",
       {{"setup_s", query.intercept},
        {"scan_factor", scan_factor},
        {"aggregation_factor", aggregation_factor}}},
      {"initiator_extra_s", initiator_extra},
      {"insert_fit", {{"intercept_s", insert.intercept}, {"slope_s_per_row", insert.slope}}},
      {"not_probed", "merge coefficients and wire_ratio keep the engine's values"},
      {"notes", notes},
      {"probes", points}};
  return fit;
}

}  // namespace shardlab::calibration
