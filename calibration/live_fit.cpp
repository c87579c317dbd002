#include "calibration/live_fit.h"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>

#include "calibration/calibration.h"

namespace shardlab::calibration {

namespace {

using sim::cluster::CostCoefficients;
using sim::cluster::CostModel;

struct Line {
  double intercept = 0;
  double slope = 0;
  std::vector<std::string> notes;
};

// Weighted least squares of y = intercept + slope * x, both clamped at zero (refitting the
// other alone when one is clamped). Weights 1/y: relative errors.
Line fit_line(const std::vector<double>& x, const std::vector<double>& y, const char* what) {
  const auto n = static_cast<Eigen::Index>(x.size());
  Eigen::MatrixXd a(n, 2);
  Eigen::VectorXd b(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double w = 1.0 / std::max(y[i], 1e-9);
    a(i, 0) = w;
    a(i, 1) = w * x[i];
    b(i) = w * y[i];
  }
  Line line;
  const Eigen::VectorXd both = a.colPivHouseholderQr().solve(b);
  line.intercept = both(0);
  line.slope = both(1);
  if (line.slope < 0) {
    line.notes.push_back(fmt::format("{}: the slope came out negative and is clamped to 0", what));
    line.slope = 0;
    line.intercept = (a.col(0).transpose() * b)(0) / a.col(0).squaredNorm();
  }
  if (line.intercept < 0) {
    line.notes.push_back(
        fmt::format("{}: the intercept came out negative and is clamped to 0", what));
    line.intercept = 0;
    line.slope = (a.col(1).transpose() * b)(0) / std::max(a.col(1).squaredNorm(), 1e-300);
  }
  return line;
}

constexpr const char* kQueryWork[] = {"part_s",          "part_column_s", "granule_s",
                                      "row_read_s",      "uncompressed_byte_s",
                                      "row_passed_s",    "row_grouped_s", "group_s",
                                      "result_byte_s"};

}  // namespace

LiveFit fit_live(const LiveMeasurements& m, const CostCoefficients& engine) {
  LiveFit fit;
  CostCoefficients c = engine;
  const CostModel engine_model(engine);

  // Subqueries.
  std::vector<double> x{0.0};
  std::vector<double> y{m.select_one_s};
  for (const LiveQueryPoint& q : m.queries) {
    x.push_back(engine_model.subquery(q.profile).cpu_s);
    y.push_back(q.local_s);
  }
  const Line query = fit_line(x, y, "subqueries");
  for (const char* name : kQueryWork) *coefficient_by_name(&c, name) *= query.slope;
  c.query_setup_s = query.intercept + query.slope * engine.query_setup_s;

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
    const double bytes_per_row =
        static_cast<double>(largest.bytes) / static_cast<double>(std::max<uint64_t>(1, largest.rows));
    const double engine_per_row =
        engine.split_row_s + engine.insert_row_s + engine.insert_byte_s * bytes_per_row;
    const double scale = engine_per_row > 0 ? insert.slope / engine_per_row : 1.0;
    c.split_row_s = engine.split_row_s * scale;
    c.insert_row_s = engine.insert_row_s * scale;
    c.insert_byte_s = engine.insert_byte_s * scale;
    const double charged = engine.insert_part_s * static_cast<double>(largest.parts) +
                           m.coordinator_s_per_insert;
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
  fit.about = {{"source", "shardlab calibrate --live"},
               {"server", "ClickHouse " + m.server_version},
               {"machine", cpu_model_name()},
               {"rows", m.rows},
               {"repeat", m.repeat},
               {"subquery_fit", {{"intercept_s", query.intercept}, {"slope", query.slope}}},
               {"initiator_extra_s", initiator_extra},
               {"insert_fit", {{"intercept_s", insert.intercept}, {"slope_s_per_row", insert.slope}}},
               {"not_probed", "merge coefficients and wire_ratio keep the engine's values"},
               {"notes", notes},
               {"probes", points}};
  return fit;
}

}  // namespace shardlab::calibration
