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
//   trace.json         with run.outputs: [trace], a Chrome/Perfetto trace (sim/core/trace.h)
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "experiment/run_summary.h"
#include "results/latency_histogram.h"
#include "results/summary_writer.h"
#include "results/replicated_metrics.h"
#include "scenarios/scenario.h"

namespace shardlab::experiment {

struct ExperimentOutput {
  results::Json summary;   // what summary.json holds
  results::Json run_info;  // what run_info.json holds
  Metrics metrics;         // flat metrics for confidence intervals across replications
  std::vector<TemplateLatency> latency;  // per query template
};

// A variant's replications: every metric of every one, and each template's latency pooled.
struct ReplicatedRun {
  results::ReplicatedMetrics metrics;
  std::vector<TemplateLatency> latency;
};

struct ExperimentOptions {
  std::filesystem::path out_dir;  // written into when write_files
  bool write_files = true;
  bool progress = false;           // progress lines on stderr (a TTY)
  bool keep_data = false;          // keep the replicas' tables after the run
  std::filesystem::path data_dir;  // where they live; empty: chosen by the data's size
};

// Runs `scenario` with simulation seed `seed`. Throws InputError for a scenario the runtime
// rejects (and RuntimeError for I/O failures).
ExperimentOutput run_experiment(const scenarios::Scenario& scenario, uint64_t seed,
                                const ExperimentOptions& options);

// Runs one scenario (one variant) with `replications` consecutive seeds from `first_seed` into
// `dir`: with one replication, the run's files there; with more, one seed-N directory each and a
// summary.json with the mean and 95% confidence interval of every metric, and (as run.outputs
// asks) a report of them with the latency CDF pooled over the replications. `log` gets a line per
// finished run.
ReplicatedRun run_replicated(const scenarios::Scenario& s, uint64_t first_seed, int replications,
                    ExperimentOptions options, const std::filesystem::path& dir,
                    const std::function<void(const std::string&)>& log);

}  // namespace shardlab::experiment
