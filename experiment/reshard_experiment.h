// The reshard experiment of a scenario with a `reshard` section (scenarios::ReshardConfig).
//
// At the section's time, during the run, a process reads the sharding-key columns of every
// part the serving shards hold (the real rows), tallies what the cluster's own strategy and the
// comparison strategies would have to move to reach N + k shards (sim::cluster::ReshardAnalysis),
// and then grows the cluster: the new shards serve, and later inserts are routed over all of them.
//
// After the run, each strategy's moves are played on an idle copy of the scenario's network: the
// bytes go from a replica of the shard that holds them to a replica of the shard that gets them,
// and, as replication would, on to that shard's other replicas, all at once. The time the last
// byte arrives is the strategy's transfer time, a lower bound for a copy that also competes with
// live traffic and has to read and write the parts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plots/report.h"
#include "results/summary_writer.h"
#include "scenarios/scenario.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/reshard.h"

namespace shardlab::experiment {

struct ReshardOutcome {
  bool done = false;  // the run reached the reshard time
  double at_s = 0;    // when the shards joined
  size_t shards_before = 0;
  size_t shards_after = 0;
  uint64_t rows = 0;   // rows stored when the shards joined
  uint64_t bytes = 0;  // their compressed bytes
  std::vector<sim::cluster::ReshardMoves> moves;  // the cluster's own strategy first
  std::vector<double> transfer_s;  // per strategy, on the idle network
};

// The strategies compared: the cluster's own first, then hash and jump over the compare key (if
// any) and random, each unless it is the cluster's own (same kind and key).
std::vector<sim::cluster::ReshardStrategy> reshard_strategies(const scenarios::Scenario& s);

// The process described above. REQUIRES: s.reshard; `cluster` was built with the new shards
// joining (ClusterSpec::joining_placement); `out` outlives the process.
sim::Process run_reshard(sim::Simulation& sim, sim::cluster::Cluster& cluster,
                         const scenarios::Scenario& s, uint64_t seed, ReshardOutcome* out);

// Fills out->transfer_s. REQUIRES: out->done.
void time_reshard_transfers(const scenarios::Scenario& s, ReshardOutcome* out);

// summary.json's "reshard" object.
results::Json reshard_json(const ReshardOutcome& outcome);

// Flat metrics for confidence intervals: reshard.STRATEGY.fraction_to_move and .transfer_s,
// STRATEGY being the kind, with its key in parentheses when two strategies share a kind.
std::vector<std::pair<std::string, double>> reshard_metrics(const ReshardOutcome& outcome);

// The report's section: one row per strategy.
plots::ReportSection reshard_section(const ReshardOutcome& outcome);

}  // namespace shardlab::experiment
