// summary.json and the flat metrics of one finished run, built from what the run observed and
// the cluster's final state. Everything here is simulated, so it is byte-identical for the same
// scenario and seed.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "experiment/reshard_experiment.h"
#include "experiment/run_metrics.h"
#include "results/latency_histogram.h"
#include "results/summary_writer.h"
#include "scenarios/scenario.h"
#include "sim/cluster/cluster.h"
#include "sim/hw/faults.h"

namespace shardlab::experiment {

// Flat numeric metrics for confidence intervals across replications ("queries.q1.p99_s", ...),
// in a fixed order.
using Metrics = std::vector<std::pair<std::string, double>>;

// A run after its simulated end and settling.
struct FinishedRun {
  const scenarios::Scenario& scenario;
  uint64_t seed;
  sim::cluster::Cluster& cluster;
  sim::Time finished;  // the simulated instant the run stopped, settling included
  Collector& collector;
  Gauges& gauges;
  const std::vector<sim::FaultInjector::Record>& fault_log;
  uint64_t rows_queryable;  // count() on the final state, through the real engine
};

// Ingest keeps up when 99% of the INSERT blocks reach their shard within this long of their
// arrival: a queue that grows over the peak instead of draining delays its blocks past it.
inline constexpr double kIngestDelayBound_s = 60.0;

// summary.json's sections in their fixed order, appending the metrics they carry to `metrics` in
// the same order. `reshard` is the reshard experiment's outcome when it ran (its transfers timed),
// else null. Also adds each node's CPU and disk utilisation per second to gauges.utilisation,
// which is known only once the run is over.
results::Json summarize(const FinishedRun& run, const ReshardOutcome* reshard, Metrics* metrics);

// summary.json's "cluster" section: the cluster as the scenario sets it up, and the cost-model
// calibration it charges.
results::Json cluster_json(const scenarios::Scenario& s);

// The compressed bytes of one copy of the data: every shard once, on its most current replica.
uint64_t one_copy_bytes(const sim::cluster::Cluster& cluster);

// The latency of one query template's executions, with its target (0: none).
struct TemplateLatency {
  std::string name;
  results::LatencyHistogram histogram;  // nanoseconds
  double target_s = 0;
  uint64_t errors = 0;  // failed executions
};

}  // namespace shardlab::experiment
