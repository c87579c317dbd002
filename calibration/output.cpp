#include "calibration/calibration.h"

#include <fmt/format.h>

#include <fstream>
#include <thread>

namespace shardlab::calibration {

using sim::cluster::CostCoefficients;
using sim::cluster::coefficient_by_name;

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

}  // namespace shardlab::calibration
