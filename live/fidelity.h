// Simulated against measured: a live run's summary.json beside its simulated twin's.
//
// fidelity.json maps each metric's dotted summary.json name (arrays by 1-based index:
// "shards.1.rows") to {measured, simulated, ratio}, for every numeric metric both summaries
// have; ratio is simulated / measured (1 when both are 0, null when only the measurement is).
// fidelity.md and fidelity.html show the same table, with the latency CDFs of both runs overlaid
// per template and the largest replica lag of both over the run.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "experiment/experiment.h"
#include "live/live_workload.h"
#include "results/summary_writer.h"
#include "scenarios/scenario.h"

namespace shardlab::live {

// A replica counts as caught up once its lag is at most this (the samples are a second apart).
inline constexpr double kCaughtUpLag_s = 1.0;

// The largest lag over the servers at each sample; NaN where none answered.
std::vector<double> largest_lag(const LagSeries& series);

// For each repair ("repaired" event), how long after it the largest lag was last above
// kCaughtUpLag_s before the next failure (or the series' end); the longest of them. Empty
// without a repair. The same rule reads the live and the simulated lag series.
std::optional<double> catch_up_s(const std::vector<double>& time_s, const std::vector<double>& lag,
                                 const std::vector<FaultEvent>& faults);

// Live runs only: for each repaired node, how long after its repair its rows first reached
// what the other replicas of its shard held a sample earlier (system.replicas' absolute_delay
// reads 0 while a restarted replica waits for its old ZooKeeper session to expire, so the rows
// are the better witness); the longest of them. Empty without a repair.
std::optional<double> catch_up_by_rows_s(const LagSeries& series,
                                         const std::vector<std::vector<std::string>>& placement,
                                         const std::vector<FaultEvent>& faults);

// One simulated twin: the scenario simulated with one calibration, its files in `dir`.
struct SimulatedTwin {
  std::string label;        // "engine", "clickhouse-18.16"
  std::string calibration;  // the file it used; empty: the shipped defaults (the engine's costs)
  experiment::ExperimentOutput output;
  std::filesystem::path dir;
};

// Writes fidelity.json, fidelity.md, fidelity.html and their figures into `dir`; returns
// fidelity.json's document. The first twin is the scenario as written (its own calibration):
// its values are each metric's `simulated` and `ratio`; every twin's are also under
// `by_calibration.LABEL`, and the table has a pair of columns per twin.
results::Json write_fidelity(const scenarios::Scenario& s, const results::Json& measured,
                             const std::vector<SimulatedTwin>& twins, const WorkloadMeasurement& m,
                             const std::filesystem::path& dir);

}  // namespace shardlab::live
