#include "sim/cluster/cost_model.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <random>
#include <string>

#include "base/errors.h"
#include "calibration/calibration.h"
#include "calibration/features.h"
#include "calibration/nnls.h"
#include "tests/engine/test_util.h"

using namespace shardlab;
using namespace shardlab::sim::cluster;
using namespace shardlab::calibration;

namespace {

// The least-squares solution restricted to the columns in `mask`, zero elsewhere.
Eigen::VectorXd restricted_ls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b, unsigned mask) {
  Eigen::VectorXd x = Eigen::VectorXd::Zero(a.cols());
  std::vector<Eigen::Index> cols;
  for (Eigen::Index col = 0; col < a.cols(); ++col)
    if ((mask >> col) & 1) cols.push_back(col);
  if (cols.empty()) return x;
  Eigen::MatrixXd sub(a.rows(), static_cast<Eigen::Index>(cols.size()));
  for (size_t k = 0; k < cols.size(); ++k) sub.col(static_cast<Eigen::Index>(k)) = a.col(cols[k]);
  const Eigen::VectorXd z = sub.colPivHouseholderQr().solve(b);
  for (size_t k = 0; k < cols.size(); ++k) x[cols[k]] = z[static_cast<Eigen::Index>(k)];
  return x;
}

// NNLS by brute force: the best feasible restricted least-squares solution over every subset of
// columns (the optimum is one of them).
Eigen::VectorXd brute_force_nnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b) {
  Eigen::VectorXd best = Eigen::VectorXd::Zero(a.cols());
  double best_residual = b.squaredNorm();
  for (unsigned mask = 1; mask < (1u << a.cols()); ++mask) {
    const Eigen::VectorXd x = restricted_ls(a, b, mask);
    if (x.minCoeff() < 0) continue;
    const double residual = (a * x - b).squaredNorm();
    if (residual < best_residual) {
      best_residual = residual;
      best = x;
    }
  }
  return best;
}

Eigen::MatrixXd random_matrix(std::mt19937_64& rng, Eigen::Index rows, Eigen::Index cols) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Eigen::MatrixXd a(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r)
    for (Eigen::Index c = 0; c < cols; ++c) a(r, c) = u(rng);
  return a;
}

std::string load_error(const std::string& path) {
  try {
    CostModel::load(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

}  // namespace

TEST_CASE("NNLS recovers non-negative coefficients exactly without noise", "[cost]") {
  std::mt19937_64 rng(7);
  const Eigen::MatrixXd a = random_matrix(rng, 60, 4);
  const Eigen::Vector4d truth(2.0, 0.5, 3.0, 1e-3);
  const Eigen::VectorXd x = solve_nnls(a, a * truth);
  for (Eigen::Index k = 0; k < 4; ++k) CHECK(x[k] == Approx(truth[k]).epsilon(1e-9));
}

TEST_CASE("NNLS with noise stays close to the truth", "[cost]") {
  std::mt19937_64 rng(11);
  const Eigen::MatrixXd a = random_matrix(rng, 500, 3);
  const Eigen::Vector3d truth(1.0, 4.0, 0.25);
  Eigen::VectorXd b = a * truth;
  std::normal_distribution<double> noise(0.0, 0.01);
  for (Eigen::Index r = 0; r < b.size(); ++r) b[r] *= 1 + noise(rng);
  const Eigen::VectorXd x = solve_nnls(a, b);
  for (Eigen::Index k = 0; k < 3; ++k) CHECK(x[k] == Approx(truth[k]).epsilon(0.05));
}

TEST_CASE("NNLS clamps a coefficient the data want negative and matches brute force", "[cost]") {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 25; ++trial) {
    const Eigen::MatrixXd a = random_matrix(rng, 40, 4);
    std::normal_distribution<double> coef(0.0, 1.0);
    Eigen::Vector4d truth(coef(rng), coef(rng), coef(rng), coef(rng));
    Eigen::VectorXd b = a * truth;
    std::normal_distribution<double> noise(0.0, 0.05);
    for (Eigen::Index r = 0; r < b.size(); ++r) b[r] += noise(rng);
    const Eigen::VectorXd x = solve_nnls(a, b);
    const Eigen::VectorXd expected = brute_force_nnls(a, b);
    INFO("trial " << trial);
    CHECK(x.minCoeff() >= 0);
    CHECK((a * x - b).squaredNorm() == Approx((a * expected - b).squaredNorm()).epsilon(1e-9));
    for (Eigen::Index k = 0; k < 4; ++k) CHECK(x[k] == Approx(expected[k]).margin(1e-9));
    // Karush-Kuhn-Tucker: no zero coefficient could lower the residual by growing.
    const Eigen::VectorXd w = a.transpose() * (b - a * x);
    for (Eigen::Index k = 0; k < 4; ++k) {
      if (x[k] == 0) CHECK(w[k] <= 1e-9);
    }
  }
  // The classic case: the unconstrained fit has a negative coefficient.
  Eigen::MatrixXd a(4, 2);
  a << 1, 1, 1, 2, 1, 3, 1, 4;
  const Eigen::Vector4d b(4, 3, 2, 1);  // slope -1 unconstrained
  const Eigen::VectorXd x = solve_nnls(a, b);
  CHECK(x[1] == 0);
  CHECK(x[0] == Approx(2.5));
}

TEST_CASE("fit_system recovers coefficients over wide scales and reports what it cannot fit",
          "[cost]") {
  std::mt19937_64 rng(5);
  FitSystem system;
  system.name = "synthetic";
  system.coefficients = {"insert_part_s", "insert_row_s", "insert_byte_s", "merge_part_s"};
  const double truth[] = {2e-4, 5e-8, 2e-9};
  std::uniform_real_distribution<double> log_rows(2, 7);
  std::uniform_real_distribution<double> bytes_per_row(10, 50);
  std::normal_distribution<double> noise(0.0, 0.02);
  for (int row = 0; row < 300; ++row) {
    const double parts = 1 + row % 7;
    const double rows = std::pow(10, log_rows(rng));
    const double bytes = rows * bytes_per_row(rng);
    const double seconds =
        (truth[0] * parts + truth[1] * rows + truth[2] * bytes) * (1 + noise(rng));
    // merge_part_s's column is all zero: it cannot be identified.
    system.rows.push_back({"row", row % 2 ? "odd" : "even", {parts, rows, bytes, 0}, {}, seconds});
  }
  CostCoefficients c;
  c.merge_part_s = 0.125;
  const SystemFit fit = fit_system(system, &c);
  CHECK(c.insert_part_s == Approx(truth[0]).epsilon(0.05));
  CHECK(c.insert_row_s == Approx(truth[1]).epsilon(0.05));
  CHECK(c.insert_byte_s == Approx(truth[2]).epsilon(0.05));
  CHECK(c.merge_part_s == 0.125);
  REQUIRE(fit.coefficients.size() == 4);
  CHECK(fit.coefficients[0].status == FitStatus::kFitted);
  CHECK(fit.coefficients[3].status == FitStatus::kNotIdentified);
  CHECK(fit.coefficients[3].value == 0.125);
  CHECK(std::isnan(fit.coefficients[3].relative_std_error));
  CHECK(fit.coefficients[1].relative_std_error > 0);
  CHECK(fit.coefficients[1].relative_std_error < 0.05);
  CHECK(fit.r2 > 0.99);
  CHECK(fit.overall.rows == 300);
  CHECK(fit.overall.median_abs < 0.03);
  REQUIRE(fit.shapes.size() == 2);
  CHECK(fit.shapes[0].shape == "even");
  CHECK(fit.shapes[0].rows == 150);
  CHECK(fit.worst.size() == 5);
}

TEST_CASE("fit_system holds at zero a coefficient the data want negative", "[cost]") {
  FitSystem system;
  system.name = "synthetic";
  system.coefficients = {"merge_part_s", "merge_row_s"};
  for (int row = 1; row <= 20; ++row) {
    const double parts = row;
    const double rows = 1000.0 * row + 37 * (row % 3);
    // More parts, less time: the unconstrained per-part cost is negative.
    system.rows.push_back({"row", "all", {parts, rows}, {}, 1e-8 * rows - 1e-6 * parts});
  }
  CostCoefficients c;
  const SystemFit fit = fit_system(system, &c);
  CHECK(fit.coefficients[0].status == FitStatus::kAtZero);
  CHECK(c.merge_part_s == 0);
  CHECK(fit.coefficients[1].status == FitStatus::kFitted);
  CHECK(c.merge_row_s > 0);
}

TEST_CASE("fit_system subtracts fixed coefficients fitted elsewhere", "[cost]") {
  FitSystem system;
  system.name = "initiator";
  system.coefficients = {"merge_state_group_s"};
  system.fixed = {"result_byte_s"};
  for (int row = 1; row <= 10; ++row) {
    const double groups = 1000.0 * row, bytes = 5000.0 * (11 - row);
    system.rows.push_back({"row", "all", {groups}, {bytes}, 3e-8 * groups + 1e-9 * bytes});
  }
  CostCoefficients c;
  c.result_byte_s = 1e-9;
  fit_system(system, &c);
  CHECK(c.merge_state_group_s == Approx(3e-8).epsilon(1e-6));
  CHECK(c.result_byte_s == 1e-9);
}

TEST_CASE("calibration files round-trip through save and load", "[cost]") {
  testing::TempDir dir;
  CostCoefficients c = CostModel::defaults();
  c.query_setup_s = 1.234567890123e-5;
  c.merge_part_s = 3.5e-4;
  c.wire_ratio = 0.4321;
  const std::string path = (dir.path() / "calibration.json").string();
  CostModel(c).save(path, {{"note", "test"}});
  const CostModel loaded = CostModel::load(path);
  const auto expected = coefficients_to_json(c);
  CHECK(coefficients_to_json(loaded.coefficients()) == expected);
  CHECK(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_CASE("calibration file errors are input errors naming the file and the key", "[cost]") {
  testing::TempDir dir;
  const auto path = [&](const char* name) { return (dir.path() / name).string(); };
  auto coefficients = coefficients_to_json(CostModel::defaults());

  auto missing = coefficients;
  missing.erase("granule_s");
  write_file(path("missing.json"), nlohmann::json{{"coefficients", missing}}.dump());
  auto negative = coefficients;
  negative["merge_row_s"] = -1e-9;
  write_file(path("negative.json"), nlohmann::json{{"coefficients", negative}}.dump());
  auto unknown = coefficients;
  unknown["cpu_magic_s"] = 1.0;
  write_file(path("unknown.json"), nlohmann::json{{"coefficients", unknown}}.dump());
  auto text = coefficients;
  text["part_s"] = "fast";
  write_file(path("text.json"), nlohmann::json{{"coefficients", text}}.dump());
  write_file(path("bad.json"), "{\"coefficients\": {\"part_s\": 1e-5,,}}");
  write_file(path("no_coefficients.json"), "{\"about\": {}}");

  const std::string m = load_error(path("missing.json"));
  CHECK_THAT(m, Catch::Contains("missing.json") && Catch::Contains("'granule_s'") &&
                    Catch::Contains("missing"));
  const std::string n = load_error(path("negative.json"));
  CHECK_THAT(n, Catch::Contains("negative.json") && Catch::Contains("'merge_row_s'") &&
                    Catch::Contains(">= 0"));
  const std::string u = load_error(path("unknown.json"));
  CHECK_THAT(u, Catch::Contains("unknown.json") && Catch::Contains("'cpu_magic_s'") &&
                    Catch::Contains("unknown"));
  const std::string t = load_error(path("text.json"));
  CHECK_THAT(t, Catch::Contains("text.json") && Catch::Contains("'part_s'"));
  const std::string b = load_error(path("bad.json"));
  CHECK_THAT(b, Catch::Contains("bad.json") && Catch::Contains("not valid JSON"));
  const std::string c = load_error(path("no_coefficients.json"));
  CHECK_THAT(c, Catch::Contains("no_coefficients.json") && Catch::Contains("'coefficients'"));
  const std::string absent = load_error(path("absent.json"));
  CHECK_THAT(absent, Catch::Contains("absent.json"));
}

TEST_CASE("the shipped defaults are the shipped reference calibration", "[cost]") {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "../../scenarios/calibration" /
                    "reference.json";
  const CostModel reference = CostModel::load(path.lexically_normal().string());
  CHECK(coefficients_to_json(reference.coefficients()) ==
        coefficients_to_json(CostModel::defaults()));
}

TEST_CASE("subquery() charges each count at its coefficient", "[cost]") {
  CostCoefficients c;
  c.query_setup_s = 1e-4;
  c.part_s = 1e-5;
  c.part_column_s = 2e-5;
  c.granule_s = 1e-6;
  c.row_read_s = 1e-9;
  c.uncompressed_byte_s = 2e-10;
  c.row_passed_s = 3e-9;
  c.row_grouped_s = 6e-9;
  c.group_s = 4e-8;
  c.result_byte_s = 5e-10;
  c.merge_state_group_s = 3e-8;
  c.initiator_query_s = 7e-6;
  c.split_batch_s = 4e-6;
  c.split_row_s = 1e-8;
  c.wire_ratio = 0.5;
  engine::WorkProfile p;
  p.parts_total = 10;  // pruned parts cost nothing beyond the setup
  p.parts_selected = 3;
  p.granules_read = 100;
  p.rows_read = 819'200;
  p.columns["user_id"] = {.compressed_bytes = 2'000'000, .uncompressed_bytes = 6'553'600};
  p.columns["action"] = {.compressed_bytes = 100'000, .uncompressed_bytes = 819'200};
  p.rows_passed = 10'000;
  p.rows_aggregated = 10'000;
  p.groups = 500;
  p.result_bytes = 16'000;
  const CostModel model(c);
  const SubqueryDemand d = model.subquery(p);
  // 3 selected parts, each opening 2 columns.
  const double expected = 1e-4 + 3 * 1e-5 + 6 * 2e-5 + 100 * 1e-6 + 819'200 * 1e-9 +
                          7'372'800 * 2e-10 + 10'000 * 3e-9 + 10'000 * 6e-9 + 500 * 4e-8 +
                          16'000 * 5e-10;
  CHECK(d.cpu_s == Approx(expected).epsilon(1e-12));
  CHECK(d.disk_bytes == 2'100'000);
  CHECK(d.result_bytes == 8'000);
  // One group: a plain aggregate, not charged for grouping.
  p.groups = 1;
  CHECK(model.subquery(p).cpu_s == Approx(expected - 10'000 * 6e-9 - 499 * 4e-8).epsilon(1e-12));
  CHECK(model.initiator_merge_cpu(2'000, 16'000) ==
        Approx(7e-6 + 2'000 * 3e-8 + 16'000 * 5e-10).epsilon(1e-12));
  CHECK(model.split_cpu(1000) == Approx(4e-6 + 1000 * 1e-8).epsilon(1e-12));
}

TEST_CASE("the calibration's features are the counts the cost model multiplies", "[cost]") {
  // Distinct powers of two make every coefficient's contribution visible in the sums.
  CostCoefficients c;
  double value = 1e-9;
  for (const auto& name : kQueryCoefficients) *coefficient_by_name(&c, name) = value *= 2;
  for (const auto& name : kInsertCoefficients) *coefficient_by_name(&c, name) = value *= 2;
  for (const auto& name : kMergeCoefficients) *coefficient_by_name(&c, name) = value *= 2;
  for (const auto& name : kInitiatorCoefficients) *coefficient_by_name(&c, name) = value *= 2;
  for (const auto& name : kSplitCoefficients) *coefficient_by_name(&c, name) = value *= 2;
  c.result_byte_s = 3e-10;
  const CostModel model(c);
  auto dot = [&](const std::vector<std::string>& names, const std::vector<double>& features) {
    REQUIRE(names.size() == features.size());
    double sum = 0;
    for (size_t k = 0; k < names.size(); ++k)
      sum += *coefficient_by_name(&c, names[k]) * features[k];
    return sum;
  };
  engine::WorkProfile p;
  p.parts_selected = 2;
  p.granules_read = 30;
  p.rows_read = 200'000;
  p.columns["item_id"] = {.compressed_bytes = 1000, .uncompressed_bytes = 1'600'000};
  p.rows_passed = 1234;
  p.rows_aggregated = 1234;
  p.groups = 77;
  p.result_bytes = 4321;
  CHECK(model.subquery(p).cpu_s == Approx(dot(kQueryCoefficients, query_features(p))));
  engine::InsertResult insert;
  insert.parts = {"a", "b", "c"};
  insert.rows = 50'000;
  insert.uncompressed_bytes = 1'600'000;
  CHECK(model.insert_cpu(insert) == Approx(dot(kInsertCoefficients, insert_features(insert))));
  engine::MergeProfile merge;
  merge.parts = 4;
  merge.rows_read = 300'000;
  merge.uncompressed_bytes_read = 9'000'000;
  CHECK(model.merge_cpu(merge) == Approx(dot(kMergeCoefficients, merge_features(merge))));
  CHECK(model.initiator_merge_cpu(900, 5000, 70) ==
        Approx(dot(kInitiatorCoefficients, initiator_features(900, 70)) + 5000 * 3e-10));
  CHECK(model.split_cpu(4096) == Approx(dot(kSplitCoefficients, split_features(4096))));
  CHECK(coefficient_by_name(&c, "no_such_coefficient") == nullptr);
}

TEST_CASE("a quick real calibration produces finite non-negative coefficients", "[cost]") {
  testing::TempDir dir;
  CalibrationOptions options;
  options.rows = 100'000;
  options.repeat = 1;
  options.work_dir = dir.path();
  const Measurements m = measure(options);
  REQUIRE(m.systems.size() == 5);
  for (const FitSystem& system : m.systems) {
    INFO(system.name);
    CHECK(!system.rows.empty());
    for (const Measurement& row : system.rows) {
      CHECK(row.features.size() == system.coefficients.size());
      CHECK(std::isfinite(row.seconds));
      CHECK(row.seconds >= 0);
    }
  }
  const Calibration calibration = fit(m, CostModel::defaults());
  const auto coefficients = coefficients_to_json(calibration.coefficients);
  for (const auto& [name, value] : coefficients.items()) {
    INFO(name);
    CHECK(std::isfinite(value.get<double>()));
    CHECK(value.get<double>() >= 0);
  }
  CHECK(calibration.coefficients.wire_ratio > 0);
  CHECK(calibration.coefficients.wire_ratio < 1);
  CHECK(calibration.about["fits"].size() == 5);
  CHECK(calibration.about["rows"] == 100'000);
  CHECK_THAT(calibration.about["generated_by"].get<std::string>(),
             Catch::Contains("--rows 100000"));
  // The work directory is cleaned up.
  CHECK(std::filesystem::is_empty(dir.path()));
}
