// The memcached tier of a simulated run: built from the scenario's cache section, in front of the
// workload's queries, and what it reports (summary.json's "cache" section, metrics for the
// variants' comparison, cache_series.csv).
#pragma once

#include <filesystem>
#include <memory>

#include "results/summary_writer.h"
#include "scenarios/scenario.h"
#include "sim/cache/cache_tier.h"
#include "sim/cache/look_aside.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/workload.h"
#include "sim/core/simulation.h"

namespace shardlab::experiment {

using Metrics = std::vector<std::pair<std::string, double>>;

class CacheRun {
 public:
  // REQUIRES: s.cache. Sets itself as the driver's frontend. Throws InputError for a host the
  // network lacks.
  CacheRun(const scenarios::Scenario& s, sim::Simulation& sim, sim::Network& network,
           sim::cluster::Cluster& cluster, sim::cluster::WorkloadDriver& driver);

  // Spawns the strategy's processes and the scheduled cache-node crashes.
  void start(sim::Time end);

  // summary.json's "cache" section; appends the comparison metrics.
  results::Json summary(Metrics* metrics) const;
  // Per time bin and cached template: requests, hits, hit ratio; and the cluster's queries.
  void write_series(const std::filesystem::path& path) const;

 private:
  sim::Process run_crash(const scenarios::CacheCrash& crash);

  const scenarios::Scenario& s_;
  sim::Simulation& sim_;
  sim::cluster::WorkloadDriver& driver_;
  sim::cache::CacheTier tier_;
  sim::cache::LookAsideCache look_aside_;
};

}  // namespace shardlab::experiment
