// `shardlab calibrate`: measures the embedded engine on this machine, fits the cost model's CPU
// coefficients (calibration/calibration.h) and writes them as a calibration file.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "apps/cli_output.h"
#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "base/errors.h"
#include "calibration/calibration.h"
#include "calibration/live_fit.h"
#include "live/live_probes.h"
#include "live/loopback_cluster.h"
#include "scenarios/scenario.h"

namespace shardlab::apps {
namespace {

namespace cluster = calibration;

std::string percent(double fraction) {
  return std::isfinite(fraction) ? fmt::format("{:.1f}%", 100 * fraction) : "n/a";
}

std::string seconds_text(double s) {
  if (s >= 1) return fmt::format("{:.3g} s", s);
  if (s >= 1e-3) return fmt::format("{:.3g} ms", s * 1e3);
  return fmt::format("{:.3g} us", s * 1e6);
}

void print_fit(const cluster::SystemFit& fit) {
  fmt::print(
      "\n{} ({} rows): R^2 {}; |relative error| median {}, p90 {}, max {}; median error {}, "
      "total bias {}; condition {:.3g}\n",
      fit.name, fit.rows, std::isfinite(fit.r2) ? fmt::format("{:.4f}", fit.r2) : "n/a",
      percent(fit.overall.median_abs), percent(fit.overall.p90_abs), percent(fit.overall.max_abs),
      percent(fit.overall.median), percent(fit.overall.bias), fit.condition);
  fmt::print("  {:<26} {:>11} {:>10}  {}\n", "coefficient", "value", "rel. s.e.", "status");
  for (const auto& c : fit.coefficients) {
    // Beyond 50% the data barely tell this coefficient from the others in its system.
    const bool weak = c.status == cluster::FitStatus::kFitted && c.relative_std_error > 0.5;
    fmt::print("  {:<26} {:>11.4g} {:>10}  {}{}\n", c.name, c.value, percent(c.relative_std_error),
               cluster::fit_status_name(c.status), weak ? ", weakly identified" : "");
  }
  fmt::print("  {:<26} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8}\n", "shape", "rows", "|median|", "|p90|",
             "|max|", "median", "bias");
  for (const auto& s : fit.shapes)
    fmt::print("  {:<26} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8}\n", s.shape, s.rows,
               percent(s.median_abs), percent(s.p90_abs), percent(s.max_abs), percent(s.median),
               percent(s.bias));
  for (const auto& w : fit.worst)
    fmt::print("  worst: {}: measured {}, predicted {}\n", w.label, seconds_text(w.measured_s),
               seconds_text(w.predicted_s));
}

}  // namespace

// calibrate --live: the scenario's cluster on loopback, probed, and the cost model fitted to it.
void calibrate_live(const std::string& scenario_path, const std::string& hosts,
                    const std::string& out, uint64_t rows, unsigned repeat,
                    const std::string& work_dir) {
  // The servers' costs do not depend on the run's schedule: the day's rows at full size.
  const scenarios::Scenario s = scenarios::load_scenario(scenario_path, {"run.speed=1"}, false);
  live::ProbeOptions options;
  options.work_dir = work_dir.empty()
                         ? std::filesystem::temp_directory_path() / "shardlab-calibrate-live"
                         : std::filesystem::path(work_dir) / "shardlab-calibrate-live";
  options.hosts = hosts;
  options.rows = rows;
  options.repeat = static_cast<int>(repeat);
  options.log = [](const std::string& message) {
    std::fprintf(stderr, "shardlab: calibrate --live: %s\n", message.c_str());
  };
  live::install_interrupt_handlers();
  const auto start = std::chrono::steady_clock::now();
  const live::LiveProbes probes = live::measure_live_probes(s, options);
  std::filesystem::remove_all(options.work_dir);
  calibration::LiveMeasurements m;
  m.server_version = probes.server_version;
  m.rows = probes.rows;
  m.repeat = probes.repeat;
  m.select_one_s = probes.select_one_s;
  for (const live::QueryProbe& q : probes.queries) {
    m.queries.push_back({q.name, q.local_s, q.distributed_s, q.profile});
  }
  for (const live::InsertProbe& p : probes.inserts) {
    m.inserts.push_back({p.rows, p.bytes, p.parts, p.seconds});
  }
  // The coordinator: each ZooKeeper operation a server makes is a round trip, so the measured
  // round trip is the simulated coordinator's latency per operation (its one network round trip
  // per call, tens of microseconds on a rack, is the error). An insert costs ten of them
  // (sim::cluster), which the insert's fitted fixed cost must not absorb.
  nlohmann::ordered_json cluster_facts;
  const double op_latency_s = probes.zookeeper_round_trip_s > 0
                                  ? probes.zookeeper_round_trip_s
                                  : s.cluster.coordinator_latency.seconds();
  if (s.cluster.replicas > 1) m.coordinator_s_per_insert = 10 * op_latency_s;
  if (probes.zookeeper_round_trip_s > 0) {
    cluster_facts["coordinator_latency_s"] = probes.zookeeper_round_trip_s;
  }
  const calibration::LiveFit fit = calibration::fit_live(m, cluster::CostModel::defaults());
  for (const std::string& line : fit.report) fmt::print("{}\n", line);
  if (probes.zookeeper_round_trip_s > 0) {
    fmt::print(
        "ZooKeeper round trip from a server: {:.3f} ms (the coordinator's latency per "
        "operation)\n",
        probes.zookeeper_round_trip_s * 1e3);
  }
  cluster::CostModel(fit.coefficients).save(out, fit.about, cluster_facts);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "shardlab: calibrate --live: wrote %s (%.0f s)\n", out.c_str(), elapsed);
}

void add_calibrate_command(CLI::App& app) {
  struct Options {
    uint64_t rows = cluster::CalibrationOptions{}.rows;
    std::string out = "calibration.json";
    unsigned repeat = cluster::CalibrationOptions{}.repeat;
    uint64_t seed = 1;
    std::string work_dir;
    std::string csv;
    std::string live;
    std::string hosts;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "calibrate",
      "Measure the engine on this machine and fit the cost model's coefficients (single thread; "
      "run it on an idle machine)");
  add_number(cmd, "--rows", opts->rows, "Rows of the table the queries run on", uint64_t{10'000},
             uint64_t{1'000'000'000})
      ->capture_default_str();
  // Checked at once (the default too): fail before minutes of measuring, not after.
  cmd->add_option("--out", opts->out, "Calibration file to write")->capture_default_str();
  add_number(cmd, "--repeat", opts->repeat, "Timed runs per measurement (the median is kept)", 1u,
             cluster::kMaxRepeat)
      ->capture_default_str();
  add_number(cmd, "--seed", opts->seed, "Seed of the generated rows", uint64_t{0}, kAnySeed)
      ->capture_default_str();
  cmd->add_option("--work-dir", opts->work_dir,
                  "Directory for the temporary tables (default: /dev/shm if it is a tmpfs with "
                  "room, else the system temporary directory)")
      ->check(output_dir());
  cmd->add_option("--csv", opts->csv,
                  "Also write every measurement with its prediction as CSV to this file")
      ->check(output_file());
  cmd->add_option("--live", opts->live,
                  "Fit the model to real ClickHouse servers instead: the scenario's cluster "
                  "started on loopback and probed (default --rows 200000)")
      ->check(input_file("scenario file", "a scenario YAML file"));
  cmd->add_option("--hosts", opts->hosts,
                  "With --live: probe these existing servers (an inventory) instead of "
                  "starting the scenario's cluster")
      ->check(input_file("inventory", "an inventory YAML file"));
  cmd->callback([opts, cmd] {
    if (!opts->hosts.empty() && opts->live.empty()) {
      throw InputError("--hosts: give it with --live SCENARIO");
    }
    namespace fs = std::filesystem;
    require_writable_file("--out", opts->out);
    if (!opts->live.empty()) {
      const uint64_t rows = cmd->get_option("--rows")->count() > 0 ? opts->rows : 200'000;
      const unsigned repeat = cmd->get_option("--repeat")->count() > 0 ? opts->repeat : 15;
      calibrate_live(opts->live, opts->hosts, opts->out, rows, repeat, opts->work_dir);
      return;
    }
    cluster::CalibrationOptions options;
    options.rows = opts->rows;
    options.repeat = opts->repeat;
    options.seed = opts->seed;
    if (!opts->work_dir.empty()) {
      if (!fs::is_directory(opts->work_dir))
        throw InputError(fmt::format("--work-dir: '{}' is not a directory", opts->work_dir));
      options.work_dir = opts->work_dir;
    }
    options.progress = [](const std::string& message) {
      std::fprintf(stderr, "shardlab: calibrate: %s\n", message.c_str());
    };
    const auto start = std::chrono::steady_clock::now();
    const cluster::Measurements measurements = cluster::measure(options);
    const cluster::Calibration calibration =
        cluster::fit(measurements, cluster::CostModel::defaults());
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    fmt::print("Cost model calibration: {}, {} cores; {} rows, repeat {}, seed {}\n",
               cluster::cpu_model_name(), std::thread::hardware_concurrency(), measurements.rows,
               measurements.repeat, measurements.seed);
    fmt::print("tables in {} ({}); query table: {} parts\n", measurements.work_dir,
               measurements.work_dir_tmpfs ? "tmpfs" : "not a tmpfs", measurements.query_parts);
    fmt::print("CPU time / wall time while timing queries: {:.3f}{}\n",
               measurements.query_cpu_over_wall,
               measurements.query_cpu_over_wall < 0.95
                   ? " (below 0.95: something else used this core; the timings are suspect)"
                   : "");
    for (const auto& fit : calibration.fits) print_fit(fit);
    fmt::print(
        "\nwire_ratio {:.4g}: LZ4 bytes per in-memory byte of insert blocks (query "
        "results: {:.4g})\n",
        calibration.coefficients.wire_ratio, measurements.wire_ratio_results);
    cluster::CostModel(calibration.coefficients).save(opts->out, calibration.about);
    if (!opts->csv.empty())
      write_report(opts->csv, cluster::measurements_csv(measurements, calibration.coefficients));
    std::fprintf(stderr, "shardlab: calibrate: wrote %s (%.0f s)\n", opts->out.c_str(), elapsed);
  });
}

}  // namespace shardlab::apps
