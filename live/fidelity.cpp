#include "live/fidelity.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "base/atomic_file.h"
#include "experiment/run_outputs.h"
#include "plots/latency_cdf_plot.h"
#include "plots/replica_lag_plot.h"
#include "plots/report.h"

namespace shardlab::live {

namespace {

using results::Json;

void flatten(const Json& value, const std::string& path, std::map<std::string, double>* out) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      flatten(child, path.empty() ? key : path + "." + key, out);
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      flatten(value[i], path + "." + std::to_string(i + 1), out);
    }
  } else if (value.is_number()) {
    (*out)[path] = value.get<double>();
  }
}

// A result to compare, not a setting or label (equal on both sides by construction).
bool is_result(const std::string& name) {
  const auto starts_with = [&name](std::string_view prefix) { return name.rfind(prefix, 0) == 0; };
  // Of the shards, the rows each holds; their numbers and sizes are labels or engine-specific.
  if (starts_with("shards.")) {
    return name.size() > 5 && name.compare(name.size() - 5, 5, ".rows") == 0 &&
           name.find("replicas") == std::string::npos;
  }
  for (const std::string_view setting : {"cluster.", "seed", "speed", "simulated_s", "faults."}) {
    if (starts_with(setting)) return false;
  }
  return name.find(".target_s") == std::string::npos;
}

std::vector<FaultEvent> fault_events(const Json& summary) {
  std::vector<FaultEvent> events;
  if (!summary.contains("faults")) return events;
  for (const Json& f : summary["faults"]) {
    events.push_back(
        {f["at_s"].get<double>(), f["target"].get<std::string>(), f["event"].get<std::string>()});
  }
  return events;
}

// The simulated twin's largest replica lag (timeseries/shards_lag.csv, column replica_lag_s).
std::pair<std::vector<double>, std::vector<double>> simulated_lag(
    const std::filesystem::path& csv) {
  std::ifstream file(csv);
  std::string line;
  std::vector<double> time_s;
  std::vector<double> lag;
  if (!std::getline(file, line)) return {time_s, lag};
  size_t column = 0;
  size_t index = 0;
  bool found = false;
  std::stringstream header(line);
  for (std::string name; std::getline(header, name, ',');) {
    if (name == "replica_lag_s") {
      column = index;
      found = true;
    }
    ++index;
  }
  if (!found) return {time_s, lag};
  while (std::getline(file, line)) {
    std::stringstream row(line);
    std::string cell;
    for (size_t i = 0; std::getline(row, cell, ','); ++i) {
      if (i == 0) time_s.push_back(std::stod(cell));
      if (i == column) lag.push_back(std::stod(cell));
    }
  }
  lag.resize(time_s.size());
  return {time_s, lag};
}

// `values` over `time_s`, read at each of `grid` (the last sample at or before each instant).
std::vector<double> resample(const std::vector<double>& time_s, const std::vector<double>& values,
                             const std::vector<double>& grid) {
  std::vector<double> out;
  size_t at = 0;
  for (const double t : grid) {
    while (at + 1 < time_s.size() && time_s[at + 1] <= t) ++at;
    out.push_back(values.empty() ? 0.0 : values[at]);
  }
  return out;
}

std::string cell(const Json& value) {
  if (value.is_null()) return "-";
  return fmt::format("{:.4g}", value.get<double>());
}

}  // namespace

std::vector<double> largest_lag(const LagSeries& series) {
  std::vector<double> out(series.time_s.size(), std::numeric_limits<double>::quiet_NaN());
  for (const auto& [node, values] : series.lag) {
    for (size_t i = 0; i < values.size() && i < out.size(); ++i) {
      if (std::isnan(values[i])) continue;
      out[i] = std::isnan(out[i]) ? values[i] : std::max(out[i], values[i]);
    }
  }
  return out;
}

std::optional<double> catch_up_s(const std::vector<double>& time_s, const std::vector<double>& lag,
                                 const std::vector<FaultEvent>& faults) {
  std::optional<double> longest;
  for (size_t f = 0; f < faults.size(); ++f) {
    if (faults[f].event != "repaired") continue;
    const double repaired = faults[f].at_s;
    double until = std::numeric_limits<double>::infinity();
    for (size_t g = f + 1; g < faults.size(); ++g) {
      if (faults[g].event == "failed") {
        until = faults[g].at_s;
        break;
      }
    }
    double caught_up = 0;
    for (size_t i = 0; i < time_s.size() && i < lag.size(); ++i) {
      if (time_s[i] < repaired || time_s[i] >= until) continue;
      if (!std::isnan(lag[i]) && lag[i] > kCaughtUpLag_s) caught_up = time_s[i] - repaired;
    }
    longest = std::max(longest.value_or(0.0), caught_up);
  }
  return longest;
}

std::optional<double> catch_up_by_rows_s(const LagSeries& series,
                                         const std::vector<std::vector<std::string>>& placement,
                                         const std::vector<FaultEvent>& faults) {
  std::optional<double> longest;
  for (const FaultEvent& fault : faults) {
    if (fault.event != "repaired" || !series.rows.count(fault.target)) continue;
    std::vector<std::string> peers;
    for (const auto& shard : placement) {
      if (std::find(shard.begin(), shard.end(), fault.target) == shard.end()) continue;
      for (const std::string& node : shard) {
        if (node != fault.target) peers.push_back(node);
      }
    }
    const std::vector<double>& own = series.rows.at(fault.target);
    double caught_up = std::numeric_limits<double>::infinity();
    for (size_t i = 1; i < series.time_s.size() && i < own.size(); ++i) {
      if (series.time_s[i] < fault.at_s || std::isnan(own[i])) continue;
      double peers_before = 0;
      for (const std::string& peer : peers) {
        const double value = series.rows.at(peer)[i - 1];
        if (!std::isnan(value)) peers_before = std::max(peers_before, value);
      }
      if (own[i] >= peers_before) {
        caught_up = series.time_s[i] - fault.at_s;
        break;
      }
    }
    // Never caught up: the rest of the series.
    if (std::isinf(caught_up) && !series.time_s.empty())
      caught_up = series.time_s.back() - fault.at_s;
    longest = std::max(longest.value_or(0.0), caught_up);
  }
  return longest;
}

// The calibration file as the reader finds it from where shardlab ran (never an absolute path
// of this machine in a report that may travel).
std::string calibration_name(const SimulatedTwin& twin) {
  if (twin.calibration.empty()) return "the shipped defaults (the embedded engine's own costs)";
  return std::filesystem::proximate(twin.calibration).string();
}

Json ratio_of(double simulated, double measured) {
  if (measured != 0) return results::json_number(simulated / measured);
  return simulated == 0 ? Json(1.0) : Json(nullptr);
}

Json write_fidelity(const scenarios::Scenario& s, const Json& measured,
                    const std::vector<SimulatedTwin>& twins, const WorkloadMeasurement& m,
                    const std::filesystem::path& dir) {
  std::map<std::string, double> live_values;
  flatten(measured, "", &live_values);
  std::vector<std::map<std::string, double>> sim_values(twins.size());
  std::vector<std::pair<std::vector<double>, std::vector<double>>> sim_lags;
  for (size_t t = 0; t < twins.size(); ++t) {
    Json summary = twins[t].output.summary;
    sim_lags.push_back(simulated_lag(twins[t].dir / "timeseries" / "shards_lag.csv"));
    if (s.cluster.replicas > 1 && summary.contains("replication")) {
      const auto& [time_s, lag] = sim_lags.back();
      if (const auto value = catch_up_s(time_s, lag, fault_events(summary))) {
        summary["replication"]["catch_up_s"] = results::json_number(*value);
      }
    }
    flatten(summary, "", &sim_values[t]);
  }
  Json fidelity = Json::object();
  plots::ReportSection table;
  table.title = "Simulated against measured";
  table.text = "Every numeric metric both summaries have; ratio is simulated / measured.";
  table.header = {"metric", "measured"};
  table.numeric = {false, true};
  for (const SimulatedTwin& twin : twins) {
    table.text += fmt::format(" Twin '{}': calibration {}.", twin.label, calibration_name(twin));
    table.header.push_back("simulated (" + twin.label + ")");
    table.header.push_back("ratio (" + twin.label + ")");
    table.numeric.insert(table.numeric.end(), {true, true});
  }
  for (const auto& [name, live] : live_values) {
    if (!is_result(name) || !sim_values[0].count(name)) continue;
    std::vector<std::string> row{name, fmt::format("{:.4g}", live)};
    Json entry = {{"measured", results::json_number(live)},
                  {"simulated", results::json_number(sim_values[0].at(name))},
                  {"ratio", ratio_of(sim_values[0].at(name), live)}};
    Json by_calibration = Json::object();
    for (size_t t = 0; t < twins.size(); ++t) {
      const auto sim = sim_values[t].find(name);
      if (sim == sim_values[t].end()) {
        row.insert(row.end(), {"-", "-"});
        continue;
      }
      const Json ratio = ratio_of(sim->second, live);
      by_calibration[twins[t].label] = {{"simulated", results::json_number(sim->second)},
                                        {"ratio", ratio}};
      row.push_back(fmt::format("{:.4g}", sim->second));
      row.push_back(cell(ratio));
    }
    entry["by_calibration"] = std::move(by_calibration);
    table.rows.push_back(std::move(row));
    fidelity[name] = std::move(entry);
  }
  results::write_json(dir / "fidelity.json", fidelity);
  const experiment::ExperimentOutput& simulated = twins.front().output;
  const auto& [sim_time, sim_lag] = sim_lags.front();

  std::vector<plots::QueryLatency> cdfs;
  for (size_t i = 0; i < m.templates.size(); ++i) {
    const TemplateMeasurement& t = m.templates[i];
    std::optional<double> target;
    if (t.target_s > 0) target = t.target_s;
    cdfs.push_back({t.name + " measured", t.latency, target});
    if (i < simulated.latency.size()) {
      cdfs.push_back({t.name + " simulated", simulated.latency[i].histogram, target});
    }
  }
  std::vector<plots::RenderedPlot> figures;
  figures.push_back(plots::render_latency_cdf(dir, "fidelity_latency_cdf", cdfs, {},
                                              "Latency CDF per template: measured and simulated"));
  if (s.cluster.replicas > 1) {
    plots::ReplicaLagData lag;
    lag.time_s = m.lag.time_s;
    std::vector<double> measured_lag = largest_lag(m.lag);
    double last = 0;
    for (double& value : measured_lag) value = std::isnan(value) ? last : (last = value);
    lag.replicas.push_back({"measured (largest)", measured_lag});
    lag.replicas.push_back({"simulated (largest)", resample(sim_time, sim_lag, lag.time_s)});
    std::map<std::string, double> down_since;
    for (const FaultEvent& f : m.faults) {
      if (f.event == "failed") {
        down_since[f.target] = f.at_s;
      } else if (down_since.count(f.target)) {
        lag.faults.push_back({down_since[f.target], f.at_s, f.target + " down"});
        down_since.erase(f.target);
      }
    }
    figures.push_back(plots::render_replica_lag(dir, "fidelity_replica_lag", lag));
  }
  plots::ReportInput report;
  report.scenario = s.name + " (live against simulated)";
  report.question = s.question;
  report.run_changes = experiment::run_changes(s);
  for (size_t i = 0; i < m.templates.size(); ++i) {
    const TemplateMeasurement& t = m.templates[i];
    std::optional<plots::LatencyTarget> target;
    if (t.target_s > 0) target = plots::LatencyTarget{t.target_s, 0.99};
    report.latency.push_back(
        plots::latency_row(t.name + " (measured)", t.latency, t.errors, target));
    if (i < simulated.latency.size()) {
      report.latency.push_back(plots::latency_row(t.name + " (simulated)",
                                                  simulated.latency[i].histogram,
                                                  simulated.latency[i].errors, target));
    }
  }
  report.summary = fidelity;
  report.inserts_note = "Inserts are compared in the table above.";
  report.sections.push_back(std::move(table));
  report.plots = std::move(figures);
  report.files = {
      {"summary.json", "what the live run measured"},
      {"simulated/summary.json", "the simulated twin's results (each twin under simulated/LABEL)"},
      {"fidelity.json", "each metric: measured, simulated, ratio"},
      {"timeseries/replica_lag.csv", "each server's replica delay, once a second"}};
  base::write_file_atomically(dir / "fidelity.md", plots::render_report_markdown(report));
  base::write_file_atomically(dir / "fidelity.html", plots::render_report_html(report));
  return fidelity;
}

}  // namespace shardlab::live
