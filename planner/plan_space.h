// The planner's search space: every cluster the scenario's `plan` section allows, each as --set
// overrides on the scenario, and the overrides that run a scenario at a reduced data scale.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/scenario.h"

namespace shardlab::planner {

using base::Duration;


struct Candidate {
  size_t index = 0;
  std::string node_type;
  uint64_t nodes = 0;
  uint64_t shards = 0;
  uint64_t replicas = 0;
  std::string sharding;     // YAML flow mapping; empty: the scenario's own
  std::string insert_mode;  // empty: the scenario's own
  double cost_per_hour = 0;
  std::string label;  // "4x ch16, 4 shards x 2, hash cityHash64(user_id)"
  std::string dir;    // a file-system-safe name for its runs
};

// Every combination of the plan's node types, node counts, shards, replicas and shardings,
// cheapest first (ties: fewer shards, then fewer replicas), without the ones that cannot be
// placed: more replicas of a shard than nodes, or fewer replicas than nodes (idle nodes cost
// without serving). REQUIRES: s.plan.
std::vector<Candidate> enumerate_candidates(const scenarios::Scenario& s);

// The --set overrides that replace the scenario's cluster by `c`'s: nodes named p01, p02, ...
// of c's type spread over the scenario's racks in turn, replica r of shard i on node
// (i * replicas + r) mod nodes (so a shard's replicas are on different nodes, and on different
// racks when the node count is a multiple of the racks' and replicas do not exceed racks), the shards, replicas, sharding and insert mode. The scenario's faults are
// dropped (they name its nodes); initiators, when it names them, become every node.
std::vector<std::string> candidate_overrides(const scenarios::Scenario& s, const Candidate& c);

// The --set overrides that run `s` at `scale` of its data: rows, the peak insert rate and the
// rows per batch times `scale`, and so is every hardware rate (each node type's CPU speed,
// memory, memory and disk bandwidth, IOPS; the network's link bandwidths), so that every
// resource sees the utilisation it would at full scale while the engine handles `scale` of the
// rows. Query rates are kept: the same users ask over less data on slower machines. Throws
// InputError for a topology whose links name the scenario's nodes (only the racks shorthand and
// the default network carry over to other clusters). REQUIRES: 0 < scale <= 1.
std::vector<std::string> scale_overrides(const scenarios::Scenario& s, double scale);

// A stretch of the scenario's day centred on its first insert peak: the overrides that simulate
// only it (workload.start moved to its beginning, run.duration its length, and what came before
// loaded as history: one more history day, since history ends where the run begins), and where
// the peak falls in it. No overrides when the window covers the whole run.
struct PeakWindow {
  std::vector<std::string> overrides;
  Duration peak;  // from the run's start
};
PeakWindow peak_window(const scenarios::Scenario& s, Duration window);

// A node crash of `node` at `at` for `duration`, as an override of the scenario's faults.
std::string crash_override(const std::string& node, Duration at, Duration duration);

// The simulated instant of the first daily peak of the insert rate (21:00 local time).
Duration first_peak(const scenarios::Scenario& s);

}  // namespace shardlab::planner
