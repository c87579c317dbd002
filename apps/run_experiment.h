// One simulated experiment: a validated scenario and a seed in, results out. Builds the network
// from the scenario's topology, the cluster on it, the workload and the faults; runs to the end
// of the scenario's duration, then lets async queues drain and replicas catch up (bounded), and
// collects what happened.
//
// Outputs (under the run's directory):
//   summary.json       simulated results only, so byte-identical for the same scenario and seed
//   run_info.json      wall time, peak memory, events: not deterministic
//   timeseries/*.csv   throughput, latency, utilisation per node, rows per shard, replica lag
//   answers/NAME.sql   every template run once more on the final state through the distributed
//   answers/NAME.tsv   path, with its answer (TabSeparated)
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "results/summary_writer.h"
#include "scenarios/scenario.h"

namespace shardlab::apps {

struct ExperimentOutput {
  results::Json summary;   // what summary.json holds
  results::Json run_info;  // what run_info.json holds
  // Flat numeric metrics for confidence intervals across replications ("queries.q1.p99_s", ...),
  // in a fixed order.
  std::vector<std::pair<std::string, double>> metrics;
};

struct ExperimentOptions {
  std::filesystem::path out_dir;  // written into when write_files
  bool write_files = true;
  bool progress = false;  // progress lines on stderr (a TTY)
  bool keep_data = false;  // keep the replicas' tables after the run
  std::filesystem::path data_dir;  // where they live; empty: out_dir/data
};

// Runs `scenario` with simulation seed `seed`. Throws InputError for a scenario the runtime
// rejects (and RuntimeError for I/O failures).
ExperimentOutput run_experiment(const scenarios::Scenario& scenario, uint64_t seed,
                                const ExperimentOptions& options);

}  // namespace shardlab::apps
